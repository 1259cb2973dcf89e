"""BYOL (Grill et al. 2020): an online network predicts a momentum target network's projection of the other
view; no negative pairs. Each view is one channel of the batch (SyneCo App. D: a pair of co-recorded
channels; the AnyPPG study: two views of one PPG segment).

For views i = 1, 2 of channels c_i:  x_i = aug(batch[c_i]),
    q_i = predictor_{c_i}(projector_{c_i}(encoder_{c_i}(x_i))),   z'_i = projector'_{c_i}(encoder'_{c_i}(x_i))
    L = byol_loss(q_1, z'_2) + byol_loss(q_2, z'_1)       (the primed networks: EMA copies, no gradient)
Projector and predictor: Linear -> BatchNorm -> ReLU -> Linear (BYOL: 4096 hidden, 256 out; the AnyPPG study:
Linear -> GELU -> Linear, its own projector's shape). Target rate tau: cosine from 0.996 to 1 over training
(``after_step``). Probes read the online encoders' embeddings.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from physiofm.methods.base import Batch, register
from physiofm.methods.channels import TwoViews, ViewsConfig
from physiofm.models import Projector
from physiofm.objectives import byol_loss, byol_momentum, ema_update


@dataclass
class BYOLConfig(ViewsConfig):
    hidden: int = 4096  # BYOL: projector and predictor hidden width
    dim: int = 256  # BYOL: projection width
    batch_norm: bool = True  # BYOL's MLP: Linear -> BN -> ReLU -> Linear
    activation: Literal["relu", "gelu"] = "relu"
    tau: float = 0.996  # BYOL: base target decay rate


class BYOL(TwoViews):
    """Online encoders/projectors/predictors per channel and their momentum targets (no gradient)."""

    def __init__(self, config: BYOLConfig) -> None:
        super().__init__(config)

        def mlp(in_dim: int) -> Projector:
            return Projector(in_dim, config.hidden, config.dim, batch_norm=config.batch_norm,
                             activation=config.activation)

        self.projectors = nn.ModuleDict({ch: mlp(self.encoders[ch].out_features) for ch in self.inputs})
        self.predictors = nn.ModuleDict({ch: mlp(config.dim) for ch in self.inputs})
        self.target_encoders = copy.deepcopy(self.encoders).requires_grad_(False)
        self.target_projectors = copy.deepcopy(self.projectors).requires_grad_(False)

    def view(self, inputs: dict[str, torch.Tensor], ch: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(online prediction, target projection) of one augmented view of channel ``ch``, each (B, dim)."""
        x = self.augmented(inputs, ch)
        q = self.predictors[ch](self.projectors[ch](self.encoders[ch](x)))
        with torch.no_grad():
            z = self.target_projectors[ch](self.target_encoders[ch](x))
        return q, z

    def loss(self, batch: Batch) -> torch.Tensor:
        inputs = self.channel_inputs(batch)
        q1, z1 = self.view(inputs, self.channels[0])
        q2, z2 = self.view(inputs, self.channels[1])
        self.logs = {}
        return byol_loss(q1, z2) + byol_loss(q2, z1)

    @torch.no_grad()
    def after_step(self, step: int, max_steps: int) -> None:
        tau = byol_momentum(step, max_steps, self.config.tau)
        ema_update(self.target_encoders, self.encoders, tau)
        ema_update(self.target_projectors, self.projectors, tau)


register("byol", BYOLConfig)(BYOL)
