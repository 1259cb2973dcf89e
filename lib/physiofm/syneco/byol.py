"""BYOL baseline (Grill et al. 2020) across two co-recorded channels (SyneCo Appendix D: "online plus momentum
target encoder, no negative pairs", one model per downstream modality -- ECG-II/ECG-V or ECG-II/PPG).

Each channel c has an online network (Encoder_c -> projector_c -> predictor_c) and a momentum target
(EMA copy of Encoder_c -> projector_c). With one augmented view per segment (same operator on both channels):
    L = byol_loss(q_a(x_a), z'_b(x_b)) + byol_loss(q_b(x_b), z'_a(x_a))
i.e. each channel's online prediction regresses the other channel's target projection -- BYOL's symmetrised
loss with the two channels as the two views. Projector / predictor: Linear -> BN -> ReLU -> Linear
(BYOL: 4096 hidden, 256 out). Target rate tau: cosine from 0.996 to 1 over training (``after_step``).
Downstream embeddings are the online encoders' 512-d outputs.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from physiofm.augment import SyneCoAugment
from physiofm.objectives import byol_loss, byol_momentum, ema_update
from physiofm.syneco.common import build_encoders, channel_inputs, concat_present, device_of, evaluating
from physiofm.syneco.config import SyneCoConfig


def mlp(in_dim: int, hidden: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out_dim)
    )


class BYOLModel(nn.Module):
    """Online encoders/projectors/predictors and their momentum targets (targets take no gradient)."""

    def __init__(self, channels: Sequence[str], config: SyneCoConfig) -> None:
        super().__init__()
        if len(channels) != 2:
            raise ValueError(f"BYOL here pairs exactly two channels, got {list(channels)}")
        self.channels = tuple(channels)
        self.tau_base = config.byol_tau
        self.encoders = build_encoders(self.channels, config)
        self.projectors = nn.ModuleDict(
            {c: mlp(config.embed_dim, config.byol_hidden, config.byol_dim) for c in self.channels}
        )
        self.predictors = nn.ModuleDict(
            {c: mlp(config.byol_dim, config.byol_hidden, config.byol_dim) for c in self.channels}
        )
        self.target_encoders = copy.deepcopy(self.encoders).requires_grad_(False)
        self.target_projectors = copy.deepcopy(self.projectors).requires_grad_(False)

    def encode(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {ch: self.encoders[ch](x) for ch, x in inputs.items()}

    @torch.no_grad()
    def update_targets(self, tau: float) -> None:
        ema_update(self.target_encoders, self.encoders, tau)
        ema_update(self.target_projectors, self.projectors, tau)


class BYOLObjective:
    def __init__(self, config: SyneCoConfig) -> None:
        self.augment = SyneCoAugment(config.noise_sigma, config.amplitude_scale)

    def __call__(
        self, model: BYOLModel, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        a, b = model.channels
        view = self.augment(channel_inputs(batch, model.channels, device_of(model)), model.channels)
        q = {c: model.predictors[c](model.projectors[c](model.encoders[c](view[c]))) for c in (a, b)}
        with torch.no_grad():
            z_t = {c: model.target_projectors[c](model.target_encoders[c](view[c])) for c in (a, b)}
        loss = byol_loss(q[a], z_t[b]) + byol_loss(q[b], z_t[a])
        return loss, {"loss": float(loss.detach())}

    def after_step(self, model: BYOLModel, step: int, max_steps: int) -> None:
        model.update_targets(byol_momentum(step, max_steps, model.tau_base))


def embed_byol(model: BYOLModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Online encoders' embeddings per present channel (B, 512) and their "concat"."""
    with evaluating(model):
        e = model.encode(channel_inputs(batch, model.channels, device_of(model), required=False))
        out = dict(e)
        out["concat"] = concat_present(e, model.channels)
    return out
