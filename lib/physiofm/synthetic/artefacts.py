"""Recording artefacts at controlled rates: what real bedside waveforms suffer from.

Always present (amplitudes drawn per subject): baseline wander (respiration and slow electrode drift),
mains interference and a little white noise. Episodic (Poisson events, rates per minute or hour):
muscle-noise bursts in the ECG, PPG motion artefacts, electrode dropouts (NaN spans, as WFDB readers
return for invalid samples) and flatlines (a held value, as a disconnected lead gives on a monitor).
Every episodic artefact is returned as an event row so that tests and QC can check them exactly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np
from scipy import signal


@dataclass(frozen=True)
class ArtefactRates:
    """Artefact amplitudes (ranges drawn per subject) and event rates; ``scale`` multiplies all rates.

    ``ArtefactRates(scale=0)`` keeps only the always-present baseline wander, mains and white noise;
    :meth:`clean` removes those too.
    """

    baseline_mv: tuple[float, float] = (0.03, 0.2)
    powerline_mv: tuple[float, float] = (0.0, 0.02)
    mains_hz: float = 60.0
    white_mv: float = 0.006
    muscle_per_min: float = 0.2
    muscle_mv: tuple[float, float] = (0.03, 0.12)
    muscle_s: tuple[float, float] = (1.0, 5.0)
    ppg_motion_per_min: float = 0.15
    dropout_per_hour: float = 1.0
    flatline_per_hour: float = 0.6
    ppg_dropout_per_hour: float = 1.0
    span_s: tuple[float, float] = (2.0, 15.0)
    scale: float = 1.0

    @classmethod
    def clean(cls) -> ArtefactRates:
        return cls(baseline_mv=(0.0, 0.0), powerline_mv=(0.0, 0.0), white_mv=0.0, scale=0.0)

    def scaled(self, factor: float) -> ArtefactRates:
        return replace(self, scale=self.scale * factor)


def poisson_events(
    duration_s: float, per_s: float, span_s: tuple[float, float], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Onsets and durations (s) of events at ``per_s`` events per second, fully inside the record."""
    k = rng.poisson(max(per_s, 0.0) * duration_s)
    dur = rng.uniform(*span_s, k)
    onset = rng.uniform(0, np.maximum(duration_s - dur, 0))
    order = np.argsort(onset)
    return onset[order], dur[order]


@functools.lru_cache(maxsize=64)
def _lowpass_sos(cutoff_hz: float, fs: float) -> np.ndarray:
    """A 2nd-order Butterworth low-pass; cached because designing it cost more than the noise it shapes."""
    return signal.butter(2, cutoff_hz, fs=fs, output="sos")


def _lowpass_noise(n: int, fs: float, cutoff_hz: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-SD noise below ``cutoff_hz``, made on a coarse grid and interpolated (cheap for long n)."""
    grid_hz = max(8 * cutoff_hz, 2.0)
    m = int(n / fs * grid_hz) + 4
    x = signal.sosfilt(_lowpass_sos(cutoff_hz, grid_hz), rng.standard_normal(m + 200))[200:]
    x /= max(x.std(), 1e-12)
    return np.interp(np.arange(n) / fs, np.arange(m) / grid_hz, x)


def baseline_wander(
    n: int, fs: float, amp: float, rng: np.random.Generator, resp_hz: float = 0.25
) -> np.ndarray:
    """(n,) slow drift (< 0.3 Hz) plus a respiratory component, total amplitude ~``amp``."""
    t = np.arange(n) / fs
    return amp * (
        0.7 * _lowpass_noise(n, fs, 0.3, rng) + 0.5 * np.sin(2 * np.pi * resp_hz * t + rng.uniform(0, 6.3))
    )


def powerline(n: int, fs: float, amp: float, mains_hz: float, rng: np.random.Generator) -> np.ndarray:
    """(n,) mains hum; above Nyquist (PPG at 125 Hz, 60 Hz mains) it aliases as in a real ADC."""
    t = np.arange(n) / fs
    return amp * np.sin(2 * np.pi * mains_hz * t + rng.uniform(0, 6.3))


def bursts(
    n: int,
    fs: float,
    onsets: np.ndarray,
    durations: np.ndarray,
    amps: np.ndarray,
    band_hz: tuple[float, float],
    rng: np.random.Generator,
) -> np.ndarray:
    """(n,) band-limited noise bursts with raised-cosine edges (muscle noise, motion)."""
    out = np.zeros(n)
    hi = min(band_hz[1], 0.45 * fs)
    sos = signal.butter(2, [band_hz[0], hi], btype="band", fs=fs, output="sos")
    for on, dur, a in zip(onsets, durations, amps, strict=True):
        i0, i1 = int(on * fs), min(n, int((on + dur) * fs))
        m = i1 - i0
        if m < 4:
            continue
        x = signal.sosfilt(sos, rng.standard_normal(m + 64))[64:]
        x *= a / max(x.std(), 1e-12)
        out[i0:i1] += x * np.sin(np.pi * np.arange(m) / m) ** 0.5
    return out


def blank(x: np.ndarray, fs: float, onsets: np.ndarray, durations: np.ndarray, kind: str) -> None:
    """In place: ``kind="nan"`` writes NaN spans (dropouts), ``"flat"`` holds the span's first value."""
    for on, dur in zip(onsets, durations, strict=True):
        i0, i1 = int(on * fs), min(x.size, int((on + dur) * fs))
        if kind == "nan":
            x[i0:i1] = np.nan
        elif kind == "flat":
            x[i0:i1] = x[i0] if np.isfinite(x[i0]) else 0.0
        else:
            raise ValueError(f"unknown blanking kind {kind!r}; use 'nan' or 'flat'")


def event_rows(record_id: str, kind: str, channel: str, onsets, durations) -> list[dict]:
    return [
        {"record_id": record_id, "onset": float(o), "duration": float(d), "kind": kind, "channel": channel}
        for o, d in zip(onsets, durations, strict=True)
    ]
