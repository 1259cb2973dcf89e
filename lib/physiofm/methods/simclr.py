"""SimCLR (Chen et al. 2020): NT-Xent between two augmented views.

Two kinds of views, chosen by the config:

* **two channels** (``pair``): each view is one channel of the same window,
  ``z_i = g(f_{pair[i]}(aug(x[pair[i]])))`` (g: the projector, or the identity). SyneCo App. D: ECG-II + ECG-V
  for ECG tasks, ECG-II + PPG for PPG tasks (no projector); the AnyPPG study's PPG-only baseline reads the
  same channel twice (two views of one PPG segment with a time mask, projector 1024 -> 512 -> 256);
* **adjacent windows** (``adjacent``: the channels of a view): the positives are a window and the next 30-s
  window of its record (MultiMAE §4.3 / App F.1, after Raghu et al. 2022), each augmented; a view is the
  concatenation over its channels of ``g_m(f_m(aug(x_m)))`` (one encoder and one projector per channel,
  "the concatenation of the output of the four projection layers"). The run loop batches each window with
  its successor (``next:<channel>`` keys, :func:`physiofm.training.run.loaders`).

    L = NT-Xent(z_1, z_2; T)   with in-batch negatives from both views (physiofm.objectives.info_nce)

Probes read the encoder embeddings (``concat`` of the channels; the projectors are discarded).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from physiofm.methods.base import Batch, register
from physiofm.methods.channels import ChannelMethod, TwoViews, ViewsConfig, augment
from physiofm.models import Projector
from physiofm.objectives import info_nce

NEXT = "next:"  # key prefix of the adjacent window in a batch (physiofm.store.PairedDataset)


@dataclass
class SimCLRConfig(ViewsConfig):
    # Projector hidden and output widths (Linear -> GELU -> Linear); None: no projector (SyneCo App. D).
    projector_hidden: int | None = None
    projector_dim: int | None = None
    temperature: float = 0.1  # SimCLR's NT-Xent temperature (its Table 5 best for large batches)
    # The channels of a view when the positives are adjacent windows (MultiMAE App F.1); None: the two views
    # are the two channels of ``pair``.
    adjacent: tuple[str, ...] | None = None


def _projectors(encoders: nn.ModuleDict, config: SimCLRConfig) -> nn.ModuleDict | None:
    if (config.projector_hidden is None) != (config.projector_dim is None):
        raise ValueError("give both projector_hidden and projector_dim, or neither")
    if config.projector_dim is None:
        return None
    return nn.ModuleDict({ch: Projector(enc.out_features, config.projector_hidden, config.projector_dim)
                          for ch, enc in encoders.items()})


class SimCLR(TwoViews):
    """Two channels of one window as the two views."""

    def __init__(self, config: SimCLRConfig) -> None:
        super().__init__(config)
        self.projectors = _projectors(self.encoders, config)

    def view(self, inputs: dict[str, torch.Tensor], ch: str) -> torch.Tensor:
        """One augmented view of channel ``ch``, encoded and projected: (B, D)."""
        z = self.encoders[ch](self.augmented(inputs, ch))
        return z if self.projectors is None else self.projectors[ch](z)

    def loss(self, batch: Batch) -> torch.Tensor:
        inputs = self.channel_inputs(batch)
        z1 = self.view(inputs, self.channels[0])
        z2 = self.view(inputs, self.channels[1])
        self.logs = {}
        return info_nce(z1, z2, self.config.temperature)


class AdjacentSimCLR(ChannelMethod):
    """A window and its successor as the two views, each the concatenation of its channels' projections."""

    adjacent = True

    def __init__(self, config: SimCLRConfig) -> None:
        if not config.adjacent:
            raise ValueError("adjacent SimCLR needs at least one channel in 'adjacent'")
        super().__init__(config.adjacent, config.encoder, config.encoders)
        self.config = config
        self.probe_key = "concat"
        self.projectors = _projectors(self.encoders, config)

    def view(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """(B, sum of widths): every channel augmented, encoded, projected, concatenated in channel order."""
        c = self.config
        parts = []
        for ch in self.inputs:
            z = self.encoders[ch](augment(inputs[ch], c.noise_sigma, c.amplitude_scale, c.max_mask_fraction))
            parts.append(z if self.projectors is None else self.projectors[ch](z))
        return torch.cat(parts, dim=-1)

    def loss(self, batch: Batch) -> torch.Tensor:
        missing = [NEXT + ch for ch in self.inputs if NEXT + ch not in batch]
        if missing:
            raise KeyError(f"adjacent SimCLR needs each window's successor in the batch, keys {missing}; "
                           "train it with the run loop, which batches adjacent windows for it")
        now = self.channel_inputs(batch)
        nxt = self.channel_inputs({ch: batch[NEXT + ch] for ch in self.inputs})
        self.logs = {}
        return info_nce(self.view(now), self.view(nxt), self.config.temperature)


@register("simclr", SimCLRConfig)
def build_simclr(config: SimCLRConfig) -> SimCLR | AdjacentSimCLR:
    return AdjacentSimCLR(config) if config.adjacent is not None else SimCLR(config)
