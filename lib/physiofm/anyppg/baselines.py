"""PPG-only SimCLR and BYOL baselines on AnyPPG's encoder, for the "is the ECG needed?" comparison.

The AnyPPG paper compares against PaPaGei only (published numbers); these two baselines are this study's
addition (issue 8): the same Net1D encoder, the same PPG segments and the same training budget as AnyPPG, but
two augmented views of one PPG segment instead of a synchronized ECG. Losses come from physiofm.objectives:

    SimCLR: L = NT-Xent(g(f(v1)), g(f(v2)); T)                   (2B - 2 negatives per anchor)
    BYOL:   L = byol(q(g(f(v1))), g'(f'(v2))) + byol(q(g(f(v2))), g'(f'(v1))),  (f', g') = EMA of (f, g)

f is the encoder, g the 1024 -> 512 -> 256 projector (as in AnyPPG), q BYOL's predictor (256 -> 512 -> 256).
Probing uses f's 1024-d output, exactly as for AnyPPG (``encode_ppg``).

Augmentation (the paper has none to copy; this is the study's choice): SyneCo's operator (Gaussian noise
sigma = 0.05, amplitude x 0.9) followed by a random time mask zeroing one contiguous span of up to 10 % of the
segment. The mask is what makes the two views differ in more than white noise; nothing shifts or resamples
time, so heart rate and morphology targets are left intact.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from physiofm.anyppg.model import _check_input, build_encoder
from physiofm.augment import noise_then_scale
from physiofm.models.projector import Projector
from physiofm.objectives.byol import byol_loss, byol_momentum, ema_update
from physiofm.objectives.infonce import info_nce

MAX_MASK_FRACTION = 0.1
Output = tuple[torch.Tensor, dict[str, float]]  # (loss, logs), the Trainer's objective result


def ppg_view(x: torch.Tensor, max_mask_fraction: float = MAX_MASK_FRACTION,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """One augmented view of (B, 1, T) z-scored PPG: noise + scale (SyneCo), then one zeroed span per row."""
    x = noise_then_scale(x, generator=generator)
    b, _, t = x.shape
    max_len = int(max_mask_fraction * t)
    if max_len < 1:
        return x
    length = torch.randint(0, max_len + 1, (b,), generator=generator).to(x.device)
    start = (torch.rand(b, generator=generator).to(x.device) * (t - length + 1)).long()
    pos = torch.arange(t, device=x.device)
    mask = (pos >= start[:, None]) & (pos < (start + length)[:, None])  # (B, T)
    return x.masked_fill(mask[:, None, :], 0.0)


class SimCLR(nn.Module):
    """PPG encoder + projector trained with NT-Xent between two augmented views."""

    def __init__(self, encoder_config: dict[str, Any] | None = None, proj_hidden: int = 512,
                 embed_dim: int = 256) -> None:
        super().__init__()
        self.ppg_encoder = build_encoder(encoder_config)
        self.feature_dim = self.ppg_encoder.out_features
        self.projector = Projector(self.feature_dim, proj_hidden, embed_dim)

    def encode_ppg(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, T) PPG -> (B, feature_dim) encoder features (what probing uses)."""
        return self.ppg_encoder(_check_input(x, "ppg"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, T) PPG -> (B, embed_dim) projection (normalised inside the loss)."""
        return self.projector(self.encode_ppg(x))


class SimCLRObjective:
    """``(model, batch) -> (loss, logs)``: NT-Xent between two views of ``batch[key]`` (B, 1, T)."""

    def __init__(self, key: str = "ppg", temperature: float = 0.1,
                 max_mask_fraction: float = MAX_MASK_FRACTION) -> None:
        self.key, self.temperature, self.max_mask_fraction = key, temperature, max_mask_fraction

    def __call__(self, model: SimCLR, batch: dict[str, torch.Tensor]) -> Output:
        x = _get(batch, self.key)
        a = model(ppg_view(x, self.max_mask_fraction))
        b = model(ppg_view(x, self.max_mask_fraction))
        loss = info_nce(a, b, self.temperature)
        return loss, {"ntxent_loss": float(loss.detach())}


class BYOL(nn.Module):
    """Online PPG encoder + projector + predictor, and their momentum (EMA) target copy without gradients."""

    def __init__(self, encoder_config: dict[str, Any] | None = None, proj_hidden: int = 512,
                 embed_dim: int = 256) -> None:
        super().__init__()
        self.ppg_encoder = build_encoder(encoder_config)
        self.feature_dim = self.ppg_encoder.out_features
        self.projector = Projector(self.feature_dim, proj_hidden, embed_dim)
        self.predictor = Projector(embed_dim, proj_hidden, embed_dim)
        self.target_encoder = copy.deepcopy(self.ppg_encoder).requires_grad_(False)
        self.target_projector = copy.deepcopy(self.projector).requires_grad_(False)

    def encode_ppg(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, T) PPG -> (B, feature_dim) online-encoder features (what probing uses)."""
        return self.ppg_encoder(_check_input(x, "ppg"))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, T) PPG view -> (online prediction (B, D), target projection (B, D), no gradient)."""
        prediction = self.predictor(self.projector(self.encode_ppg(x)))
        with torch.no_grad():
            target = self.target_projector(self.target_encoder(x))
        return prediction, target

    @torch.no_grad()
    def update_target(self, tau: float) -> None:
        ema_update(self.target_encoder, self.ppg_encoder, tau)
        ema_update(self.target_projector, self.projector, tau)


class BYOLObjective:
    """``(model, batch) -> (loss, logs)``: symmetrised BYOL loss; ``after_step`` moves the EMA target."""

    def __init__(self, key: str = "ppg", base_momentum: float = 0.996,
                 max_mask_fraction: float = MAX_MASK_FRACTION) -> None:
        self.key, self.base_momentum, self.max_mask_fraction = key, base_momentum, max_mask_fraction

    def __call__(self, model: BYOL, batch: dict[str, torch.Tensor]) -> Output:
        x = _get(batch, self.key)
        p1, z1 = model(ppg_view(x, self.max_mask_fraction))
        p2, z2 = model(ppg_view(x, self.max_mask_fraction))
        loss = byol_loss(p1, z2) + byol_loss(p2, z1)
        return loss, {"byol_loss": float(loss.detach())}

    def after_step(self, model: BYOL, step: int, max_steps: int) -> None:
        getattr(model, "module", model).update_target(byol_momentum(step, max_steps, self.base_momentum))


def _get(batch: dict[str, torch.Tensor], key: str) -> torch.Tensor:
    if key not in batch:
        raise KeyError(f"batch has no {key!r} entry (keys: {sorted(batch)})")
    return batch[key]
