"""Signal-quality measures: flatline fraction, ECG polarity, and the Zhao (2018) ECG quality index."""

from __future__ import annotations

import numpy as np

SQI_LEVELS = ("Excellent", "Barely acceptable", "Unacceptable")


def flatline_fraction(x: np.ndarray, min_run: int = 2) -> np.ndarray:
    """Fraction of samples that equal their predecessor inside a flat run, per channel (last axis is time).

    For ``(..., T)`` input the result has shape ``(...)``: the count of ``x[t] == x[t-1]`` over the
    ``T - 1`` samples that have a predecessor, counting only runs of at least ``min_run`` identical
    samples. With ``min_run=2`` every repeat counts; a longer minimum ignores the short repeats of a
    quantised trace (a 5-uV-step ECG at 250 Hz repeats a quarter of its samples in runs of 2-15) while a
    held value still counts whole. A segment whose channel is held for a quarter of its length scores
    about 0.25 (SyneCo and AnyPPG drop segments above 0.25 in any channel). Compute it on the raw signal:
    filtering turns a flat stretch into a slowly varying one. NaN never equals NaN, so gaps do not count.
    """
    x = np.asarray(x)
    if x.shape[-1] < 2:
        raise ValueError(f"flatline_fraction: need at least 2 samples, got shape {x.shape}")
    eq = x[..., 1:] == x[..., :-1]
    if min_run > 2:
        # length of the run of repeats through each position = repeats up to it + repeats after it - 1
        def run_so_far(m: np.ndarray) -> np.ndarray:
            c = np.cumsum(m, axis=-1)
            return c - np.maximum.accumulate(np.where(m, 0, c), axis=-1)

        length = run_so_far(eq) + run_so_far(eq[..., ::-1])[..., ::-1] - 1
        eq = eq & (length >= min_run - 1)  # a run of m identical samples holds m - 1 repeats
    return np.mean(eq, axis=-1)


def ecg_inverted(x: np.ndarray, fs: float, window_s: float = 2.0) -> np.ndarray:
    """Whether each ECG segment looks upside down, ``(..., T) -> (...)`` booleans.

    The rule of neurokit2's ``ecg_invert`` (after band-pass filtering, the sample with the largest
    magnitude in each 2-s window is usually the R peak; if the median of those samples' signs is
    negative, the lead is inverted), vectorised over a stack of segments: we use non-overlapping
    windows instead of neurokit2's rolling window, so 10,000 segments cost one numpy pass rather than
    10,000 Python calls. Input should already be band-passed (baseline removed).
    """
    x = np.asarray(x)
    n = max(1, int(round(window_s * fs)))
    k = max(1, x.shape[-1] // n)
    centred = x - x.mean(axis=-1, keepdims=True)
    blocks = centred[..., :k * n].reshape(*x.shape[:-1], k, n) if x.shape[-1] >= n else centred[..., None, :]
    peak = np.take_along_axis(blocks, np.abs(blocks).argmax(axis=-1)[..., None], axis=-1)[..., 0]
    return np.median(peak, axis=-1) < 0


def correct_polarity(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Flip the segments :func:`ecg_inverted` flags; returns ``(corrected, inverted_mask)``."""
    inverted = ecg_inverted(x, fs)
    return np.where(inverted[..., None], -x, x), inverted


def ecg_sqi(x: np.ndarray, fs: float, approach: str = "simple") -> np.ndarray:
    """Zhao & Zhang (2018) ECG signal-quality class per segment, via ``neurokit2.ecg_quality``.

    AnyPPG screens ECG with "the criterion proposed by Zhao et al." (Front. Physiol. 9:727). We call
    ``neurokit2.ecg_quality(method="zhao2018", approach=...)``, which fuses three indices computed on the
    cleaned ECG: pSQI (QRS-band power ratio 5-15 Hz / 5-40 Hz, thresholds depending on heart rate),
    kSQI (kurtosis > 5) and basSQI (share of power above 1 Hz), by simple heuristic fusion (or fuzzy
    evaluation) into "Excellent", "Barely acceptable" or "Unacceptable". neurokit2 leaves out the
    paper's fourth index (qSQI, agreement of two QRS detectors); so do we.

    Args:
        x: ``(N, T)`` or ``(T,)`` band-passed ECG segments.
        fs: sampling rate in Hz (pSQI needs content up to 40 Hz, so at least 100 Hz).
        approach: ``"simple"`` or ``"fuzzy"``.

    Returns:
        ``(N,)`` array of class strings (one of :data:`SQI_LEVELS`).
    """
    import neurokit2 as nk  # imported here: neurokit2 takes ~1 s to import and only AnyPPG needs it

    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if fs < 100:
        raise ValueError(f"ecg_sqi: sampling rate {fs} Hz is too low for the 5-40 Hz pSQI (need >= 100 Hz)")
    out = []
    for seg in x:
        try:
            out.append(str(nk.ecg_quality(seg, sampling_rate=int(round(fs)), method="zhao2018",
                                          approach=approach)))
        except (ValueError, IndexError, ZeroDivisionError):
            # neurokit2 fails on segments without detectable beats; such a segment is not usable ECG.
            out.append("Unacceptable")
    return np.asarray(out, dtype=object)
