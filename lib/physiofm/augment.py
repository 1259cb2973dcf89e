"""View augmentations for contrastive pretraining: SyneCo's and hybrid_ecg's.

SyneCo (§2.3): zero-mean Gaussian noise (sigma = 0.05), then amplitude scaling by 0.9.
"The same augmentation operator is applied consistently across ECG-II, ECG-V, and PPG within a view": the
operator's parameters (sigma, scale) are shared by every channel of a view, and no time shift or crop is
applied to any channel, so the channels stay synchronised. The noise itself is drawn independently for every
sample point (a Gaussian-noise augmentation cannot be shared across channels of different lengths).
Inputs are z-scored segments, so sigma is in units of the segment's standard deviation.

hybrid_ecg (§3.2, "the preprocessor creates augmented views"): the paper names no augmentation, so the set is
[D] our choice, on raw 12-lead ECG in mV, (B, 12, T) at 250 Hz, each drawn independently per record:
amplitude x U(0.8, 1.2) shared by the leads, Gaussian noise sigma = 0.05 mV, baseline wander (one sinusoid per
record, 0.05-0.5 Hz, amplitude up to 0.1 mV per lead), a time mask zeroing one span of at most 20 % of the
record on every lead, and lead dropout (each lead zeroed with probability 0.1, at least one kept).
:func:`ecg_view` applies them in that order. Every function takes a ``torch.Generator`` (on ``x``'s device).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from physiofm.models.channel_dropout import channel_keep_mask

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


# ------------------------------------------------------------------------------------ hybrid_ecg (12-lead)
ECG_SCALE = (0.8, 1.2)
ECG_NOISE_MV = 0.05
ECG_WANDER_MV = 0.1
ECG_WANDER_HZ = (0.05, 0.5)
ECG_TIME_MASK = 0.2
ECG_LEAD_DROP = 0.1


def _uniform(shape: tuple[int, ...], low: float, high: float, x: torch.Tensor, generator) -> torch.Tensor:
    u = torch.rand(shape, generator=generator, device=x.device, dtype=x.dtype)
    return low + (high - low) * u


def _check_ecg(x: torch.Tensor) -> None:
    if x.ndim != 3:
        raise ValueError(f"ECG augmentations expect (B, leads, T), got {tuple(x.shape)}")


def amplitude_scale(
    x: torch.Tensor,
    low: float = ECG_SCALE[0],
    high: float = ECG_SCALE[1],
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(B, C, T) -> x * s with s ~ U(low, high) per record, shared by its leads (keeps the lead ratios)."""
    _check_ecg(x)
    return x * _uniform((x.shape[0], 1, 1), low, high, x, generator)


def gaussian_noise(
    x: torch.Tensor, sigma: float = ECG_NOISE_MV, generator: torch.Generator | None = None
) -> torch.Tensor:
    """(B, C, T) -> x + N(0, sigma^2) drawn per sample point; sigma in x's unit (mV)."""
    return x + sigma * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)


def baseline_wander(
    x: torch.Tensor,
    fs: float,
    max_mv: float = ECG_WANDER_MV,
    freq_hz: tuple[float, float] = ECG_WANDER_HZ,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(B, C, T) sampled at ``fs`` Hz -> x + a_c sin(2 pi f t + phi): one frequency f ~ U(freq_hz) and phase
    per record (respiration moves every lead at once), amplitude a_c ~ U(0, max_mv) per lead."""
    _check_ecg(x)
    b, c, t = x.shape
    f = _uniform((b, 1, 1), *freq_hz, x, generator)
    phase = _uniform((b, 1, 1), 0.0, 2 * torch.pi, x, generator)
    amp = _uniform((b, c, 1), 0.0, max_mv, x, generator)
    time = torch.arange(t, device=x.device, dtype=x.dtype) / fs
    return x + amp * torch.sin(2 * torch.pi * f * time + phase)


def time_mask(
    x: torch.Tensor, max_fraction: float = ECG_TIME_MASK, generator: torch.Generator | None = None
) -> torch.Tensor:
    """(B, C, T) -> x with one span of floor(U(0, max_fraction) T) samples set to 0 on every lead, at a
    uniformly drawn start, per record."""
    _check_ecg(x)
    b, _, t = x.shape
    length = (_uniform((b, 1), 0.0, max_fraction, x, generator) * t).long()
    start = (_uniform((b, 1), 0.0, 1.0, x, generator) * (t - length + 1)).long()
    pos = torch.arange(t, device=x.device)[None, :]
    masked = (pos >= start) & (pos < start + length)
    return x.masked_fill(masked[:, None, :], 0.0)


def lead_dropout(
    x: torch.Tensor, p: float = ECG_LEAD_DROP, generator: torch.Generator | None = None
) -> torch.Tensor:
    """(B, C, T) -> x with each lead zeroed with probability p; a record that would lose every lead keeps one
    lead chosen uniformly (the rule of :func:`physiofm.models.channel_keep_mask` without its pair event)."""
    _check_ecg(x)
    keep = channel_keep_mask(x.shape[0], x.shape[1], p, 0.0, generator, x.device)
    return x * keep[:, :, None].to(x.dtype)


def ecg_view(
    x: torch.Tensor,
    fs: float,
    generator: torch.Generator | None = None,
    *,
    scale: tuple[float, float] = ECG_SCALE,
    noise_mv: float = ECG_NOISE_MV,
    wander_mv: float = ECG_WANDER_MV,
    wander_hz: tuple[float, float] = ECG_WANDER_HZ,
    max_mask: float = ECG_TIME_MASK,
    lead_drop: float = ECG_LEAD_DROP,
) -> torch.Tensor:
    """One augmented view of a (B, C, T) mV batch at ``fs`` Hz: scale, wander, noise, time mask, lead dropout.

    A setting of 0 (or a scale range (1, 1)) switches that augmentation off.
    """
    x = amplitude_scale(x, *scale, generator=generator)
    if wander_mv > 0:
        x = baseline_wander(x, fs, wander_mv, wander_hz, generator)
    if noise_mv > 0:
        x = gaussian_noise(x, noise_mv, generator)
    if max_mask > 0:
        x = time_mask(x, max_mask, generator)
    if lead_drop > 0:
        x = lead_dropout(x, lead_drop, generator)
    return x
