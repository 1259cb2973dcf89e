"""Zero-phase band-pass, notch and FIR filters on arrays shaped ``(..., T)`` (time on the last axis).

Every filter here runs forward and backward (``sosfiltfilt`` / a centred FIR), so a filtered peak stays
where it was, and the magnitude response is the squared response of the designed filter. Designs are
cached, so filtering a stack of segments costs one design and one vectorised C call.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import signal


def _check(x: np.ndarray, fs: float, high: float | None, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.shape[-1] < 2:
        raise ValueError(f"{what}: need at least 2 samples on the last axis, got shape {x.shape}")
    if high is not None and not high < fs / 2:
        raise ValueError(f"{what}: cut-off {high} Hz must lie below the Nyquist frequency {fs / 2} Hz")
    if np.issubdtype(x.dtype, np.floating) and np.isnan(x).any():
        # sosfiltfilt would smear one NaN over the whole segment; fill gaps first (signals.gaps).
        raise ValueError(f"{what}: input holds NaN; interpolate or reject gaps before filtering")
    return x


@lru_cache(maxsize=256)
def butter_sos(fs: float, low: float, high: float, order: int) -> np.ndarray:
    """Second-order sections of a Butterworth band-pass (``order`` per edge, as scipy counts it)."""
    return signal.butter(order, [low, high], btype="bandpass", fs=fs, output="sos")


@lru_cache(maxsize=256)
def cheby2_sos(fs: float, low: float, high: float, order: int, rs: float) -> np.ndarray:
    """Second-order sections of a Chebyshev type II band-pass with ``rs`` dB stop-band attenuation."""
    return signal.cheby2(order, rs, [low, high], btype="bandpass", fs=fs, output="sos")


@lru_cache(maxsize=64)
def notch_ba(fs: float, freq: float, quality: float) -> tuple[np.ndarray, np.ndarray]:
    return signal.iirnotch(freq, quality, fs=fs)


def _filtfilt_sos(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    # scipy's sosfilt has a float32 kernel, about 1.7x faster on stacked segments. Its rounding error
    # scales with the input's magnitude, so a DC offset (raw PPG in ADC units) is removed first; a
    # band-pass rejects DC anyway, so this changes nothing else (error ~1e-4 of the signal's spread).
    if x.dtype == np.float32:
        x = x - x.mean(axis=-1, keepdims=True, dtype=np.float64).astype(np.float32)
    else:
        x = x.astype(np.float64, copy=False)
    return signal.sosfiltfilt(sos.astype(x.dtype, copy=False), x, axis=-1)


def butter_bandpass(x: np.ndarray, fs: float, low: float, high: float, order: int) -> np.ndarray:
    """Zero-phase Butterworth band-pass along the last axis.

    Args:
        x: ``(..., T)`` signal, any leading shape (e.g. ``(N, C, T)`` stacked segments).
        fs: sampling rate in Hz.
        low, high: -3 dB edges of the single-pass design in Hz (the zero-phase response is -6 dB there).
        order: Butterworth order per edge (SyneCo ECG: 5, 0.67-40 Hz, after Shu et al. 2025).

    Returns:
        Filtered array, same shape; float32 stays float32, anything else becomes float64.
    """
    x = _check(x, fs, high, "butter_bandpass")
    return _filtfilt_sos(butter_sos(float(fs), float(low), float(high), int(order)), x)


def cheby_bandpass(x: np.ndarray, fs: float, low: float, high: float, order: int,
                   rs: float = 20.0) -> np.ndarray:
    """Zero-phase Chebyshev type II band-pass along the last axis, as PaPaGei filters PPG.

    PaPaGei (Pillai et al. 2025, ``preprocessing/ppg.py``) filters PPG with pyPPG's ``Preprocess``: a
    4th-order Chebyshev **type II** band-pass with **20 dB** stop-band attenuation, applied forward and
    backward (``filtfilt``). SyneCo cites PaPaGei for its 0.5-8 Hz, 4th-order Chebyshev PPG filter, so
    the same type and attenuation are used here. Note the type II convention: ``low`` and ``high`` are
    the *stop-band* edges, where the single-pass gain has fallen to ``-rs`` dB (``-2 rs`` dB zero-phase);
    the pass band is flat (no ripple) in between.

    Args:
        x: ``(..., T)`` signal.
        fs: sampling rate in Hz.
        low, high: stop-band edges in Hz (SyneCo/AnyPPG PPG: 0.5 and 8).
        order: filter order per edge (4).
        rs: minimum stop-band attenuation of the single-pass design in dB (20, as pyPPG/PaPaGei).
    """
    x = _check(x, fs, high, "cheby_bandpass")
    return _filtfilt_sos(cheby2_sos(float(fs), float(low), float(high), int(order), float(rs)), x)


def notch(x: np.ndarray, fs: float, freq: float, quality: float) -> np.ndarray:
    """Zero-phase IIR notch (``scipy.signal.iirnotch``) at ``freq`` Hz with quality factor ``quality``.

    The -3 dB width of the single-pass notch is ``freq / quality`` Hz (AnyPPG: 50 Hz power line; we use
    Q = 30, i.e. about 1.7 Hz wide, since the paper gives no Q).
    """
    x = _check(x, fs, freq, "notch")
    b, a = notch_ba(float(fs), float(freq), float(quality))
    if x.dtype != np.float32:
        x = x.astype(np.float64, copy=False)
    return signal.filtfilt(b, a, x, axis=-1)


@lru_cache(maxsize=64)
def fir_bandpass_taps(fs: float, low: float, high: float, numtaps: int) -> np.ndarray:
    """Linear-phase band-pass FIR taps (``firwin``, Hamming window); ``numtaps`` is made odd."""
    numtaps = numtaps | 1  # an odd length has an integer group delay, so centring it is exact
    return signal.firwin(numtaps, [low, high], pass_zero=False, fs=fs)


def fir_bandpass(x: np.ndarray, fs: float, low: float, high: float, numtaps: int = 2001) -> np.ndarray:
    """Zero-phase FIR band-pass: a linear-phase ``firwin`` design applied once, delay removed.

    The MultiMAE anti-aliasing filter (EEG/EOG 0.1-30 Hz, EMG/ECG 0.1-70 Hz at 200 Hz). A 0.1 Hz lower
    edge needs a long filter: the Hamming-window transition width is about ``3.3 fs / numtaps`` Hz
    (0.33 Hz for 2,001 taps at 200 Hz). The signal is reflected at both ends before the convolution so
    the edges are not pulled towards zero.

    Args:
        x: ``(..., T)`` signal, typically a whole night at 200 Hz.
        fs, low, high: Hz.
        numtaps: filter length (made odd); the filtered output has the input's length.
    """
    x = _check(x, fs, high, "fir_bandpass")
    taps = fir_bandpass_taps(float(fs), float(low), float(high), int(numtaps))
    half = len(taps) // 2
    pad = min(half, x.shape[-1] - 1)
    widths = [(0, 0)] * (x.ndim - 1) + [(pad, pad)]
    xp = np.pad(x.astype(np.float64, copy=False), widths, mode="reflect")
    y = signal.oaconvolve(xp, taps.reshape((1,) * (x.ndim - 1) + (-1,)), mode="full", axes=-1)
    start = pad + half
    return y[..., start:start + x.shape[-1]]
