"""SyneCo's view augmentation (§2.3): zero-mean Gaussian noise (sigma = 0.05), then amplitude scaling by 0.9.

"The same augmentation operator is applied consistently across ECG-II, ECG-V, and PPG within a view": the
operator's parameters (sigma, scale) are shared by every channel of a view, and no time shift or crop is
applied to any channel, so the channels stay synchronised. The noise itself is drawn independently for every
sample point (a Gaussian-noise augmentation cannot be shared across channels of different lengths).
Inputs are z-scored segments, so sigma is in units of the segment's standard deviation.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

NOISE_SIGMA = 0.05
AMPLITUDE_SCALE = 0.9


def noise_then_scale(
    x: torch.Tensor,
    sigma: float = NOISE_SIGMA,
    scale: float = AMPLITUDE_SCALE,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(..., T) -> (x + N(0, sigma^2)) * scale, same shape."""
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (x + sigma * noise) * scale


def augment_view(
    batch: dict[str, torch.Tensor],
    channels: Iterable[str],
    sigma: float = NOISE_SIGMA,
    scale: float = AMPLITUDE_SCALE,
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """One augmented view of ``batch``: the same operator on every named channel ((B, 1, T) each)."""
    view = {}
    for ch in channels:
        if ch not in batch:
            raise KeyError(f"batch has no channel {ch!r} (keys: {sorted(batch)})")
        view[ch] = noise_then_scale(batch[ch], sigma, scale, generator)
    return view


class SyneCoAugment:
    """Callable form: ``SyneCoAugment()(batch, channels)`` -> one view; call twice for two views."""

    def __init__(self, sigma: float = NOISE_SIGMA, scale: float = AMPLITUDE_SCALE) -> None:
        self.sigma, self.scale = sigma, scale

    def __call__(
        self,
        batch: dict[str, torch.Tensor],
        channels: Iterable[str],
        generator: torch.Generator | None = None,
    ) -> dict[str, torch.Tensor]:
        return augment_view(batch, channels, self.sigma, self.scale, generator)
