"""SleepFM's multi-channel contrastive objectives (Thapa et al. 2024) on per-channel encoders: registered as
``sleepfm_pair`` (pairwise) and ``sleepfm_loo`` (leave-one-out); SleepFM 2mod is ``sleepfm_pair`` on two
channels (with two channels both objectives are the same loss).

One augmented view per segment (SyneCo's shared augmentation: noise then x0.9, one operator on every
channel); e_m = Encoder_m(view_m), or g_m(Encoder_m(view_m)) with a projector per channel; loss =
sleepfm_pairwise_loss or sleepfm_loo_loss over the channels with the logit scale exp(t). As in the SleepFM
code, t is a learnable scalar initialised at 0 and clamped to >= 0 after every optimiser step
(``after_step``); with ``temperature`` set the scale is the fixed 1 / temperature instead (MultiMAE App F.2:
"a fixed temperature parameter and MLP projection head"). Probes read the concatenation of the channel
embeddings (the projectors are discarded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from physiofm.augment import augment_view
from physiofm.methods.base import Batch, register
from physiofm.methods.channels import ChannelMethod
from physiofm.models import Projector
from physiofm.objectives import sleepfm_loo_loss, sleepfm_pairwise_loss

LOSSES = {"pairwise": sleepfm_pairwise_loss, "leave_one_out": sleepfm_loo_loss}


@dataclass
class SleepFMPairConfig:
    channels: tuple[str, ...] = ("ecg_ii", "ecg_v", "ppg")  # [D] SyneCo's channels (SleepFM: PSG modalities)
    encoder: dict[str, Any] | None = None  # None: ECGFounder Net1D + 512-d head (SyneCo's shared encoder)
    encoders: dict[str, dict[str, Any]] = field(default_factory=dict)
    mode: Literal["pairwise", "leave_one_out"] = "pairwise"
    init_log_scale: float = 0.0  # SleepFM code: temperature = Parameter(0.), logits * exp(temperature)
    noise_sigma: float = 0.05  # SyneCo §2.3 / App. D: every baseline shares SyneCo's augmentation
    amplitude_scale: float = 0.9
    # A fixed temperature (logit scale 1 / temperature) instead of SleepFM's learnable one (MultiMAE App F.2).
    temperature: float | None = None
    # Projector hidden and output widths per channel (Linear -> GELU -> Linear); None: no projector (SleepFM).
    projector_hidden: int | None = None
    projector_dim: int | None = None


@dataclass
class SleepFMLOOConfig(SleepFMPairConfig):
    mode: Literal["pairwise", "leave_one_out"] = "leave_one_out"


class SleepFM(ChannelMethod):
    """Per-channel encoders and SleepFM's learnable log logit scale ``log_scale``."""

    def __init__(self, config: SleepFMPairConfig) -> None:
        if config.mode not in LOSSES:
            raise ValueError(f"SleepFM mode must be one of {sorted(LOSSES)}, got {config.mode!r}")
        if config.temperature is not None and not config.temperature > 0:
            raise ValueError(f"SleepFM temperature must be > 0 or None, got {config.temperature}")
        if (config.projector_hidden is None) != (config.projector_dim is None):
            raise ValueError("give both projector_hidden and projector_dim, or neither")
        super().__init__(config.channels, config.encoder, config.encoders)
        self.config = config
        self.log_scale = (nn.Parameter(torch.tensor(float(config.init_log_scale)))
                          if config.temperature is None else None)
        self.projectors = None if config.projector_dim is None else nn.ModuleDict({
            ch: Projector(enc.out_features, config.projector_hidden, config.projector_dim)
            for ch, enc in self.encoders.items()})
        self.probe_key = "concat"

    def loss(self, batch: Batch) -> torch.Tensor:
        c = self.config
        view = augment_view(self.channel_inputs(batch), self.channels, c.noise_sigma, c.amplitude_scale)
        e = self.encode(view)
        if self.projectors is not None:
            e = {ch: self.projectors[ch](z) for ch, z in e.items()}
        scale = self.log_scale.exp() if self.log_scale is not None else 1.0 / c.temperature
        loss = LOSSES[c.mode]([e[ch] for ch in self.channels], scale)
        self.logs = {"logit_scale": float(scale)}
        return loss

    def after_step(self, step: int, max_steps: int) -> None:
        """SleepFM: ``if temperature < 0: temperature.fill_(0)`` after every step (learnable scale only)."""
        if self.log_scale is not None:
            with torch.no_grad():
                self.log_scale.clamp_(min=0.0)


register("sleepfm_pair", SleepFMPairConfig)(SleepFM)
register("sleepfm_loo", SleepFMLOOConfig)(SleepFM)
