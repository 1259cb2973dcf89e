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

from dataclasses import dataclass

import torch
from torch import nn

from physiofm.methods.base import Batch, register
from physiofm.methods.channels import TwoViews, ViewsConfig
from physiofm.models import Projector
from physiofm.objectives import info_nce


@dataclass
class SimCLRConfig(ViewsConfig):
    # Projector hidden and output widths (Linear -> GELU -> Linear); None: no projector (SyneCo App. D).
    projector_hidden: int | None = None
    projector_dim: int | None = None
    temperature: float = 0.1  # SimCLR's NT-Xent temperature (its Table 5 best for large batches)


class SimCLR(TwoViews):
    def __init__(self, config: SimCLRConfig) -> None:
        if (config.projector_hidden is None) != (config.projector_dim is None):
            raise ValueError("give both projector_hidden and projector_dim, or neither")
        super().__init__(config)
        self.projectors = None
        if config.projector_dim is not None:
            self.projectors = nn.ModuleDict({
                ch: Projector(self.encoders[ch].out_features, config.projector_hidden, config.projector_dim)
                for ch in self.inputs})

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


register("simclr", SimCLRConfig)(SimCLR)
