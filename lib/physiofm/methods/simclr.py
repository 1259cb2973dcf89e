"""SimCLR (Chen et al. 2020): NT-Xent between two augmented views, each view one channel of the batch.

    x_i = aug(batch[pair[i]]),  z_i = g(f_{pair[i]}(x_i))  (g: the projector, or the identity),  i = 1, 2
    L   = NT-Xent(z_1, z_2; T)   with in-batch negatives from both views (physiofm.objectives.info_nce)

The two views are two co-recorded channels (SyneCo App. D: ECG-II + ECG-V for ECG tasks, ECG-II + PPG for
PPG tasks; no projector, the 512-d channel embeddings) or the same channel twice (the AnyPPG study's
PPG-only baseline: two views of one PPG segment with a time mask, projector 1024 -> 512 -> 256).
Each view is augmented and encoded in turn. Probes read the encoder embeddings (``concat`` of the
channels; one channel's embedding when both views read the same channel).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from physiofm.methods.base import Batch, register
from physiofm.methods.channels import ChannelMethod, augment
from physiofm.models import Projector
from physiofm.objectives import info_nce


@dataclass
class SimCLRConfig:
    pair: tuple[str, str] = ("ecg_ii", "ecg_v")  # [D] the channel of each view (SyneCo App. D's ECG pair)
    encoder: dict[str, Any] | None = None  # None: ECGFounder Net1D + 512-d head (SyneCo's shared encoder)
    encoders: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Projector hidden and output widths (Linear -> GELU -> Linear); None: no projector (SyneCo App. D).
    projector_hidden: int | None = None
    projector_dim: int | None = None
    temperature: float = 0.1  # SimCLR's NT-Xent temperature (its Table 5 best for large batches)
    noise_sigma: float = 0.05  # SyneCo §2.3 operator, [D] for other papers
    amplitude_scale: float = 0.9
    max_mask_fraction: float = 0.0  # [D] AnyPPG study: one zeroed span of up to 10 % per view


class SimCLR(ChannelMethod):
    def __init__(self, config: SimCLRConfig) -> None:
        if len(config.pair) != 2:
            raise ValueError(f"SimCLR reads exactly two views, got pair {list(config.pair)}")
        if (config.projector_hidden is None) != (config.projector_dim is None):
            raise ValueError("give both projector_hidden and projector_dim, or neither")
        super().__init__(config.pair, config.encoder, config.encoders)
        self.config = config
        self.projectors = None
        if config.projector_dim is not None:
            self.projectors = nn.ModuleDict({ch: Projector(self.encoders[ch].out_features, config.projector_hidden,
                                                           config.projector_dim) for ch in self.inputs})
        self.probe_key = "concat"

    def view(self, inputs: dict[str, torch.Tensor], ch: str) -> torch.Tensor:
        """One augmented view of channel ``ch``, encoded and projected: (B, D)."""
        c = self.config
        z = self.encoders[ch](augment(inputs[ch], c.noise_sigma, c.amplitude_scale, c.max_mask_fraction))
        return z if self.projectors is None else self.projectors[ch](z)

    def loss(self, batch: Batch) -> torch.Tensor:
        inputs = self.channel_inputs(batch)
        z1 = self.view(inputs, self.channels[0])
        z2 = self.view(inputs, self.channels[1])
        self.logs = {}
        return info_nce(z1, z2, self.config.temperature)


register("simclr", SimCLRConfig)(SimCLR)
