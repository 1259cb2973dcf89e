"""NaN gaps in 1-D channels: find runs, fill short ones, keep long ones for rejection."""

from __future__ import annotations

import numpy as np


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) indices of the runs of True in a 1-D boolean ``mask``."""
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 1:
        raise ValueError(f"runs: mask must be 1-D, got shape {m.shape}")
    edges = np.diff(np.concatenate(([0], m.view(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def interpolate_gaps(x: np.ndarray, fs: float, max_gap_s: float) -> np.ndarray:
    """Linearly interpolate NaN runs no longer than ``max_gap_s`` seconds; longer runs stay NaN.

    Gaps touching either end of the channel have only one neighbour and stay NaN whatever their length
    (extrapolating a signal is guessing). Returns a float64 copy when anything was filled, else ``x``.

    Args:
        x: ``(T,)`` channel in physical units, NaN where invalid.
        fs: sampling rate in Hz.
        max_gap_s: longest gap in seconds that is filled; 0 fills nothing.
    """
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"interpolate_gaps: expected a 1-D channel, got shape {x.shape}")
    nan = np.isnan(x)
    if not nan.any() or max_gap_s <= 0:
        return x
    starts, ends = runs(nan)
    short = (ends - starts) <= max_gap_s * fs
    short &= (starts > 0) & (ends < len(x))
    if not short.any():
        return x
    y = x.astype(np.float64, copy=True)
    good = np.flatnonzero(~nan)
    fill = np.concatenate([np.arange(s, e) for s, e in zip(starts[short], ends[short], strict=True)])
    y[fill] = np.interp(fill, good, x[good])
    return y


def valid_intervals(x: np.ndarray) -> np.ndarray:
    """``(K, 2)`` sample intervals ``[start, end)`` where ``x`` is not NaN."""
    starts, ends = runs(~np.isnan(np.asarray(x)))
    return np.stack([starts, ends], axis=1)
