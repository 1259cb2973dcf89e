"""Cuff-Less Blood Pressure Estimation dataset (UCI-BP), registry name ``ucibp``.

Citation: Kachuee M., Kiani M.M., Mohammadzade H., Shabany M. Cuff-less blood pressure estimation
algorithms for continuous health-care monitoring. IEEE Trans. Biomed. Eng. 64(4):859-869 (2017);
dataset doi:10.24432/C5B602 (derived from the MIMIC-II waveform database).

Download: https://archive.ics.uci.edu/dataset/340/cuff+less+blood+pressure+estimation.
Licence: Creative Commons Attribution 4.0.

Layout::

    root/Part_1.mat ... root/Part_4.mat

The UCI page states the files are MATLAB v7.3 (HDF5): each holds a cell array ``Part_<k>`` of 3,000
records, each a matrix whose rows are 1 PPG (fingertip), 2 ABP (mmHg), 3 ECG (lead II), all at 125 Hz.
They are read with ``h5py`` (cell entries are object references; HDF5 stores MATLAB's (3, T) matrix
transposed, so the axis of length 3 is located explicitly). Older v5 copies are read with SciPy.

One record per cell (``record_id`` = ``Part_<k>/<index>``; the release has no patient identifier, so
``subject_id`` = ``record_id``). Targets (AnyPPG SBP / DBP estimation) are time-varying and given as
annotations: consecutive ``window_s`` windows (default 10 s) with ``sbp`` = median of the ABP systolic
peaks and ``dbp`` = median of the diastolic troughs in the window (``scipy.signal.find_peaks``; NaN when
fewer than two beats are found or ABP is invalid).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import find_peaks

from physiofm.recording import Recording, RecordingSet

from ._common import DatasetError, report_nans
from ._layout import FileSpec, Layout

FS = 125.0

LAYOUT = Layout(
    files=(FileSpec("[Pp]art_*.mat", "Part_1.mat"),),
    channels=("ppg", "abp", "ecg_ii"),
    rates={"*": FS},
)


def _is_hdf5(path: Path) -> bool:
    import h5py

    return h5py.is_hdf5(str(path))


@functools.lru_cache(maxsize=2)
def _v5_cells(path: str) -> list[np.ndarray]:
    from scipy.io import loadmat

    data = loadmat(path)
    key = next((k for k in data if not k.startswith("__")), None)
    if key is None:
        raise DatasetError(f"{path}: no variable in MATLAB file")
    return [np.asarray(c) for c in np.asarray(data[key], dtype=object).reshape(-1)]


def _orient(m: np.ndarray, where: str) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    if m.ndim != 2 or 3 not in m.shape:
        raise DatasetError(f"{where}: record has shape {m.shape}, expected 3 rows (PPG, ABP, ECG)")
    return m if m.shape[0] == 3 else m.T


def _index(path: Path) -> list[int]:
    """Sample count of every cell of one part file (reads shapes only for HDF5)."""
    if not _is_hdf5(path):
        return [_orient(c, f"{path}[{i}]").shape[1] for i, c in enumerate(_v5_cells(str(path)))]
    import h5py

    with h5py.File(path, "r") as f:
        refs = f[path.stem] if path.stem in f else f[next(k for k in f if not k.startswith("#"))]
        out = []
        for i, ref in enumerate(np.asarray(refs).reshape(-1)):
            shape = f[ref].shape
            if len(shape) != 2 or 3 not in shape:
                raise DatasetError(f"{path}[{i}]: record has shape {shape}, expected 3 rows (PPG, ABP, ECG)")
            out.append(shape[1] if shape[0] == 3 else shape[0])
        return out


def _read(path: Path, index: int) -> np.ndarray:
    if not _is_hdf5(path):
        return _orient(_v5_cells(str(path))[index], f"{path}[{index}]")
    import h5py

    with h5py.File(path, "r") as f:
        refs = f[path.stem] if path.stem in f else f[next(k for k in f if not k.startswith("#"))]
        return _orient(f[np.asarray(refs).reshape(-1)[index]][()], f"{path}[{index}]")


def bp_windows(abp: np.ndarray, window_s: float) -> pd.DataFrame:
    """Per-window SBP/DBP (median systolic peak / diastolic trough) from an ABP trace at 125 Hz."""
    n = int(window_s * FS)
    rows = []
    for k in range(len(abp) // n):
        w = abp[k * n : (k + 1) * n]
        sbp = dbp = np.nan
        if not np.isnan(w).any():
            peaks, _ = find_peaks(w, distance=int(0.3 * FS), prominence=10.0)
            troughs, _ = find_peaks(-w, distance=int(0.3 * FS), prominence=10.0)
            if len(peaks) >= 2 and len(troughs) >= 2:
                sbp, dbp = float(np.median(w[peaks])), float(np.median(w[troughs]))
        rows.append((k * window_s, window_s, sbp, dbp))
    return pd.DataFrame(rows, columns=["onset", "duration", "sbp", "dbp"])


def load(root: Path, window_s: float = 10.0) -> RecordingSet:
    """UCI-BP records with per-window SBP / DBP annotations."""
    parts = sorted(root.glob("[Pp]art_*.mat"), key=lambda p: int(p.stem.split("_")[1]))
    if not parts:
        raise FileNotFoundError(f"{root}: no Part_<k>.mat files found")
    rows = []
    for path in parts:
        for i, n in enumerate(_index(path)):
            rows.append(
                {
                    "record_id": f"{path.stem}/{i + 1:04d}",
                    "subject_id": f"{path.stem}/{i + 1:04d}",
                    "path": str(path),
                    "index": i,
                    "n_samples": n,
                }
            )
    table = pd.DataFrame(rows)

    def load_row(row: pd.Series) -> Recording:
        path = Path(row["path"])
        m = _read(path, int(row["index"]))
        signals = {"ppg": m[0], "abp": m[1], "ecg_ii": m[2]}
        fs = {k: FS for k in signals}
        report_nans(signals, fs, f"{path}[{row['index']}]")
        return Recording(row["record_id"], row["subject_id"], "ucibp", signals, fs,
                         units={"ppg": "NU", "abp": "mmHg", "ecg_ii": "mV"},
                         annotations=bp_windows(m[1], window_s),
                         meta={"path": str(path), "index": int(row["index"])})

    tasks = {
        "sbp": {"type": "regression", "level": "annotation", "columns": ["sbp"], "papers": ["anyppg"]},
        "dbp": {"type": "regression", "level": "annotation", "columns": ["dbp"], "papers": ["anyppg"]},
    }
    return RecordingSet("ucibp", table, load_row, info={"root": str(root), "tasks": tasks})
