"""SleepFM's multi-channel contrastive objectives (Thapa et al. 2024) on per-channel encoders: registered as
``sleepfm_pair`` (pairwise) and ``sleepfm_loo`` (leave-one-out); SleepFM 2mod is ``sleepfm_pair`` on two
channels (with two channels both objectives are the same loss).

One augmented view per segment (SyneCo's shared augmentation: noise then x0.9, one operator on every
channel); e_m = Encoder_m(view_m); loss = sleepfm_pairwise_loss or sleepfm_loo_loss over the channels with
the logit scale exp(t). As in the SleepFM code, t is a learnable scalar initialised at 0 and clamped to >= 0
after every optimiser step (``after_step``). Probes read the concatenation of the channel embeddings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from physiofm.augment import augment_view
from physiofm.methods.base import Batch, register
from physiofm.methods.channels import ChannelMethod
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


@dataclass
class SleepFMLOOConfig(SleepFMPairConfig):
    mode: Literal["pairwise", "leave_one_out"] = "leave_one_out"


class SleepFM(ChannelMethod):
    """Per-channel encoders and SleepFM's learnable log logit scale ``log_scale``."""

    def __init__(self, config: SleepFMPairConfig) -> None:
        if config.mode not in LOSSES:
            raise ValueError(f"SleepFM mode must be one of {sorted(LOSSES)}, got {config.mode!r}")
        super().__init__(config.channels, config.encoder, config.encoders)
        self.config = config
        self.log_scale = nn.Parameter(torch.tensor(float(config.init_log_scale)))
        self.probe_key = "concat"

    def loss(self, batch: Batch) -> torch.Tensor:
        c = self.config
        view = augment_view(self.channel_inputs(batch), self.channels, c.noise_sigma, c.amplitude_scale)
        e = self.encode(view)
        scale = self.log_scale.exp()
        loss = LOSSES[c.mode]([e[ch] for ch in self.channels], scale)
        self.logs = {"logit_scale": float(scale.detach())}
        return loss

    def after_step(self, step: int, max_steps: int) -> None:
        """SleepFM: ``if temperature < 0: temperature.fill_(0)`` after every step."""
        with torch.no_grad():
            self.log_scale.clamp_(min=0.0)


register("sleepfm_pair", SleepFMPairConfig)(SleepFM)
register("sleepfm_loo", SleepFMLOOConfig)(SleepFM)
