"""SleepFM baselines (pairwise, leave-one-out, 2mod) on the SyneCo encoders.

One augmented view per segment (the shared augmentation: noise then x0.9, same operator on every channel);
e_m = Encoder_m(view_m); loss = sleepfm_pairwise_loss or sleepfm_loo_loss over the channels with the logit
scale exp(t). As in the SleepFM code, t is a learnable scalar initialised at 0 and clamped to >= 0 after every
optimiser step (``after_step``); it lives in the model so the optimiser sees it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from physiofm.augment import SyneCoAugment
from physiofm.objectives import sleepfm_loo_loss, sleepfm_pairwise_loss
from physiofm.syneco.common import build_encoders, channel_inputs, concat_present, device_of, evaluating
from physiofm.syneco.config import SyneCoConfig


class ChannelEncoders(nn.Module):
    """Per-channel encoders; with ``learn_scale`` also SleepFM's learnable log logit scale ``log_scale``."""

    def __init__(self, channels: Sequence[str], config: SyneCoConfig, learn_scale: bool = True) -> None:
        super().__init__()
        self.channels = tuple(channels)
        self.encoders = build_encoders(self.channels, config)
        if learn_scale:
            self.log_scale = nn.Parameter(torch.tensor(float(config.sleepfm_init_log_scale)))

    def encode(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {ch: self.encoders[ch](x) for ch, x in inputs.items()}


class SleepFMObjective:
    """``mode``: "pairwise" or "leave_one_out" (with two channels both are the same loss)."""

    def __init__(self, config: SyneCoConfig, mode: str) -> None:
        losses = {"pairwise": sleepfm_pairwise_loss, "leave_one_out": sleepfm_loo_loss}
        if mode not in losses:
            raise ValueError(f"SleepFM mode must be one of {sorted(losses)}, got {mode!r}")
        self.mode, self.loss = mode, losses[mode]
        self.augment = SyneCoAugment(config.noise_sigma, config.amplitude_scale)

    def __call__(
        self, model: ChannelEncoders, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        view = self.augment(channel_inputs(batch, model.channels, device_of(model)), model.channels)
        e = model.encode(view)
        scale = model.log_scale.exp()
        loss = self.loss([e[ch] for ch in model.channels], scale)
        return loss, {"loss": float(loss.detach()), "logit_scale": float(scale.detach())}

    def after_step(self, model: ChannelEncoders, step: int, max_steps: int) -> None:
        """SleepFM: ``if temperature < 0: temperature.fill_(0)`` after every step."""
        with torch.no_grad():
            model.log_scale.clamp_(min=0.0)


def embed_channels(model: ChannelEncoders, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Each present channel (B, 512) and "concat" of the present channels (no fusion in these methods)."""
    with evaluating(model):
        e = model.encode(channel_inputs(batch, model.channels, device_of(model), required=False))
        out = dict(e)
        out["concat"] = concat_present(e, model.channels)
    return out
