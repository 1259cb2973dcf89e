"""Gyro-Acc-PPG: wrist PPG with accelerometer and gyroscope during exercise, registry name ``gyroacc``.

Citation: Lee H., Chung H., Lee J. Motion artifact cancellation in wearable photoplethysmography using
gyroscope. IEEE Sensors J. 19(3):1166-1175 (2019). doi:10.1109/JSEN.2018.2879970.

Download: the dataset accompanying the article (24 subjects, 12-min exercise protocol, wrist PPG with
ECG reference), distributed by the authors as one MATLAB file per subject. Licence: as stated by the
authors on the distribution page (research use); not redistributed here.

Layout relied on (from third-party readers of the release; the publication gives no file spec)::

    root/Subject_1.mat ... Subject_24.mat
        sigPPG   (C, T) or (T, C)   wrist PPG channel(s); the first channel is used as ``ppg``
        bpmECG   (N,)               reference heart rate from the chest ECG (bpm)
        timeECG  (N,)               time of each reference value (s from the recording start)
        sigAcc / sigGyro (optional) (3, T) motion channels at the PPG rate

The PPG rate is read from a ``fs``/``Fs`` variable when the file has one, else option ``fs`` (default
50 Hz, the rate third-party readers use). One record per subject; annotations: one row per reference HR
value, centred on ``timeECG`` with ``duration`` = the median spacing (task ``hr``, AnyPPG).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from physiofm.recording import Recording, RecordingSet

from ._common import DatasetError, per_file_table, report_nans
from ._layout import FileSpec, Layout

_FILE = re.compile(r"^Subject_(\d+)\.mat$", re.IGNORECASE)

LAYOUT = Layout(
    files=(FileSpec("**/[Ss]ubject_*.mat", "Subject_1.mat"),),
    channels=("ppg",),
    rates={"ppg": (25.0, 1000.0)},  # the file's own rate when it has one, else option fs
)


def _channels_first(x: np.ndarray) -> np.ndarray:
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    return x if x.shape[0] <= x.shape[1] else x.T


def read_subject(path: Path, default_fs: float) -> tuple[dict, dict, pd.DataFrame]:
    from scipy.io import loadmat

    try:
        m = loadmat(str(path))
    except Exception as exc:
        raise DatasetError(f"{path}: unreadable MATLAB file ({exc})") from exc
    missing = [k for k in ("sigPPG", "bpmECG", "timeECG") if k not in m]
    if missing:
        raise DatasetError(
            f"{path}: variable(s) {missing} missing (has {[k for k in m if not k.startswith('__')]})"
        )
    fs = float(np.ravel(m.get("fs", m.get("Fs", [default_fs])))[0])
    ppg = _channels_first(m["sigPPG"])
    signals = {"ppg": ppg[0], **{f"ppg_{i}": ppg[i] for i in range(1, ppg.shape[0])}}
    for key, name in (("sigAcc", "acc"), ("sigGyro", "gyro")):
        if key in m:
            motion = _channels_first(m[key])
            for i, axis in enumerate("xyz"[: motion.shape[0]]):
                signals[f"{name}_{axis}"] = motion[i]
    rates = {k: fs for k in signals}
    hr, t = np.ravel(m["bpmECG"]).astype(float), np.ravel(m["timeECG"]).astype(float)
    if len(hr) != len(t):
        raise DatasetError(f"{path}: bpmECG has {len(hr)} values but timeECG {len(t)}")
    if len(t) > 1 and np.any(np.diff(t) <= 0):
        raise DatasetError(f"{path}: timeECG is not increasing")
    step = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
    ann = pd.DataFrame({"onset": t - step / 2, "duration": step, "hr": hr})
    end = len(signals["ppg"]) / fs
    if len(t) and t[-1] > end + step:
        raise DatasetError(
            f"{path}: reference HR runs to {t[-1]:.1f} s but sigPPG holds {end:.1f} s "
            "(header/data length mismatch)"
        )
    return signals, rates, ann


def load(root: Path, fs: float = 50.0) -> RecordingSet:
    """Gyro-Acc-PPG subjects with reference heart-rate annotations."""
    files = sorted(
        (p for p in root.rglob("*.mat") if _FILE.match(p.name)), key=lambda p: int(_FILE.match(p.name)[1])
    )
    if not files:
        raise FileNotFoundError(f"{root}: no Subject_<n>.mat files found")
    table = per_file_table(files)

    def load_row(row: pd.Series) -> Recording:
        path = Path(row["path"])
        signals, rates, ann = read_subject(path, fs)
        report_nans(signals, rates, str(path))
        return Recording(row["record_id"], row["subject_id"], "gyroacc", signals, rates,
                         units={k: "NU" for k in signals}, annotations=ann, meta={"path": str(path)})

    tasks = {"hr": {"type": "regression", "level": "annotation", "columns": ["hr"], "papers": ["anyppg"]}}
    return RecordingSet("gyroacc", table, load_row, info={"root": str(root), "tasks": tasks})
