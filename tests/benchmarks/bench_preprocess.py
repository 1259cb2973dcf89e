"""Preprocessing throughput in ten-second trimodal SyneCo segments per second on one core.

A segment is ECG II + ECG V (5,000 samples each at 500 Hz) and PPG (1,250 samples at 125 Hz). Measured:

- ``fast``: :func:`physiofm.preprocess.syneco_transform` on stacked raw windows (vectorised zero-phase
  SOS filtering, 2-D polyphase resampling, z-score) plus the flatline QC;
- ``end-to-end``: :func:`physiofm.preprocess.syneco_segments` from in-memory recordings (spans, windows,
  QC, filtering, z-score), at VitalDB's rates (500/500/125 Hz) and at MIMIC's (125 Hz, upsampled);
- ``naive``: per segment and channel, a freshly designed ``butter``/``cheby2`` (b, a) filter,
  ``filtfilt``, ``resample_poly`` and a z-score: what a straightforward scipy loop does.

Target: >= 1,000 segments/s/core for the fast path. Run: ``python tests/benchmarks/bench_preprocess.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core: no BLAS/FFT thread pools
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402
from scipy import signal  # noqa: E402

from physiofm.preprocess import SyneCoPreprocess, syneco_segments, syneco_transform  # noqa: E402
from physiofm.recording import Recording  # noqa: E402
from physiofm.signals import flatline_fraction  # noqa: E402

CFG = SyneCoPreprocess(min_duration_s=0.0, record_cap=None, subject_cap=None)


def raw_windows(n: int, ecg_fs: float = 500, ppg_fs: float = 125, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    t_e, t_p = np.arange(int(10 * ecg_fs)) / ecg_fs, np.arange(int(10 * ppg_fs)) / ppg_fs
    def ecg() -> np.ndarray:  # spiky 72-bpm wave plus noise and an offset
        return (np.sin(2 * np.pi * 0.6 * t_e) ** 32 + 0.05 * rng.standard_normal((n, 1, t_e.size)) + 0.3
                ).astype(np.float32)

    ppg = np.sin(2 * np.pi * 1.2 * t_p) + 0.05 * rng.standard_normal((n, 1, t_p.size)) + 50.0
    return {"ecg_ii": ecg(), "ecg_v": ecg(), "ppg": ppg.astype(np.float32)}


def naive(arrays: dict[str, np.ndarray], fs: dict[str, float]) -> dict[str, np.ndarray]:
    out = {g: [] for g in arrays}
    for i in range(len(arrays["ppg"])):
        for g, x in arrays.items():
            seg = x[i, 0].astype(np.float64)
            if g == "ppg":
                b, a = signal.cheby2(4, 20, [0.5, 8.0], btype="bandpass", fs=fs[g])
                seg = signal.resample_poly(seg, 125, int(fs[g])) if fs[g] != 125 else seg
                seg = signal.filtfilt(b, a, seg)
            else:
                b, a = signal.butter(5, [0.67, 40.0], btype="bandpass", fs=500)
                seg = signal.resample_poly(seg, 500, int(fs[g])) if fs[g] != 500 else seg
                seg = signal.filtfilt(b, a, seg)
            flatline_fraction(x[i, 0])
            out[g].append(((seg - seg.mean()) / (seg.std() + 1e-8)).astype(np.float32))
    return {g: np.stack(v)[:, None] for g, v in out.items()}


def rate(fn, n: int, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def recordings(n_segments: int, ecg_fs: float) -> list[Recording]:
    rng = np.random.default_rng(1)
    recs = []
    for r in range(n_segments // 60):   # 10-min records
        sig = {"II": rng.standard_normal(int(600 * ecg_fs)), "V": rng.standard_normal(int(600 * ecg_fs)),
               "PLETH": rng.standard_normal(600 * 125) + 50}
        recs.append(Recording(f"r{r}", f"s{r}", "vitaldb", sig, {"II": ecg_fs, "V": ecg_fs, "PLETH": 125.0}))
    return recs


def main() -> None:
    n, n_naive = 2000, 300
    fs = {"ecg_ii": 500.0, "ecg_v": 500.0, "ppg": 125.0}
    arrays = raw_windows(n)

    def fast():
        for x in arrays.values():
            flatline_fraction(x)
        return syneco_transform(arrays, fs, CFG)

    fast_rate = rate(fast, n)
    small = {g: a[:n_naive] for g, a in arrays.items()}
    naive_rate = rate(lambda: naive(small, fs), n_naive, repeat=1)
    diff = max(float(np.abs(fast()[g][:n_naive] - naive(small, fs)[g]).max()) for g in fs)

    recs500, recs125 = recordings(1200, 500.0), recordings(1200, 125.0)
    e2e_500 = rate(lambda: syneco_segments(recs500, CFG), 1200, repeat=2)
    e2e_125 = rate(lambda: syneco_segments(recs125, CFG), 1200, repeat=2)
    mimic = raw_windows(n, ecg_fs=125)
    naive_125 = rate(lambda: naive({g: a[:n_naive] for g, a in mimic.items()},
                                   {"ecg_ii": 125.0, "ecg_v": 125.0, "ppg": 125.0}), n_naive, repeat=1)
    fast_125 = rate(lambda: syneco_transform(mimic, {"ecg_ii": 125.0, "ecg_v": 125.0, "ppg": 125.0}, CFG), n)

    print("SyneCo trimodal 10-s segments per second, one core (OMP_NUM_THREADS=1)")
    print(f"  fast path, stacked windows @500/500/125 Hz : {fast_rate:8.0f} seg/s   (target >= 1000)")
    print(f"  naive per-segment scipy @500/500/125 Hz    : {naive_rate:8.0f} seg/s   "
          f"(speed-up x{fast_rate / naive_rate:.1f}; max |fast - naive| = {diff:.1e} in z units)")
    print(f"  fast path, ECG 125 Hz -> 500 Hz upsampling  : {fast_125:8.0f} seg/s")
    print(f"  naive, ECG 125 Hz -> 500 Hz upsampling      : {naive_125:8.0f} seg/s")
    print(f"  end-to-end syneco_segments @500 Hz records  : {e2e_500:8.0f} seg/s")
    print(f"  end-to-end syneco_segments @125 Hz records  : {e2e_125:8.0f} seg/s")


if __name__ == "__main__":
    main()
