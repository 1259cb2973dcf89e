"""Amplitude transforms: z-score normalisation and unit conversion to millivolts."""

from __future__ import annotations

import numpy as np

# Physical unit -> factor that turns it into millivolts. Loaders hand over wfdb/vitaldb unit strings.
_TO_MV = {"mv": 1.0, "millivolt": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "microvolt": 1e-3,
          "v": 1e3, "volt": 1e3, "nv": 1e-6}


def zscore(x: np.ndarray, axis: int = -1, eps: float = 1e-8) -> np.ndarray:
    """``(x - mean) / (std + eps)`` along ``axis`` (per segment and per lead for ``(N, C, T)`` input).

    ``eps`` keeps a constant segment finite (it becomes zeros) instead of dividing by zero.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    mean = x.mean(axis=axis, keepdims=True)
    centred = x - mean
    std = np.sqrt(np.mean(centred * centred, axis=axis, keepdims=True))
    centred /= std + np.asarray(eps, dtype=x.dtype)
    return centred


def millivolt_factor(unit: str) -> float:
    """Multiplier that converts ``unit`` (``"mV"``, ``"uV"``, ``"µV"``, ``"V"``, ``"nV"``) to mV."""
    key = str(unit).strip().lower()
    if key not in _TO_MV:
        raise ValueError(f"to_millivolts: unknown ECG unit {unit!r}; expected one of mV, uV, V, nV")
    return _TO_MV[key]


def to_millivolts(x: np.ndarray, unit: str) -> np.ndarray:
    """Convert an ECG array in physical ``unit`` to millivolts (hybrid_ecg's "MV-Unit 1.0")."""
    factor = millivolt_factor(unit)
    x = np.asarray(x)
    return x if factor == 1.0 else x * factor
