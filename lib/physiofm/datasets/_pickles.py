"""Reading the per-subject pickles of PPG-DaLiA and WESAD (same published dictionary layout).

Both are Python 2 pickles of NumPy arrays, so they are opened with ``encoding="latin1"``::

    {'signal': {'chest': {'ACC', 'ECG', 'EMG', 'EDA', 'Temp', 'Resp'} @ 700 Hz,
                'wrist': {'ACC' @ 32 Hz (T, 3), 'BVP' @ 64 Hz, 'EDA' @ 4 Hz, 'TEMP' @ 4 Hz}},
     'label': ..., 'subject': 'S1', ...}

Loading a pickle runs code from the file: ``pickle.load`` rebuilds whatever objects the file names and may
call any importable function while doing so, so a tampered ``S<n>.pkl`` can execute commands with the
rights of whoever loads it. The providers publish these datasets only as pickles, so :func:`read_pickle`
has no safe alternative: read only copies you downloaded yourself from the provider (the UCI pages named in
:mod:`physiofm.datasets.dalia` and :mod:`physiofm.datasets.wesad`), never copies passed on by others, and
keep them where only you can write.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._common import DatasetError, per_file_table
from ._layout import FileSpec, Layout

WRIST_FS = {"BVP": 64.0, "ACC": 32.0, "EDA": 4.0, "TEMP": 4.0}
CHEST_FS = 700.0


def wrist_layout(example: str) -> Layout:
    """The layout of either study: ``S<n>.pkl`` files (``example`` as the docstring shows one) whose records
    carry the wrist PPG and accelerometer (:func:`wrist_signals` without options)."""
    acc = ("acc_x", "acc_y", "acc_z")
    return Layout(files=(FileSpec("**/S*.pkl", example),), channels=("ppg", *acc),
                  rates={"ppg": WRIST_FS["BVP"], **dict.fromkeys(acc, WRIST_FS["ACC"])})


def subject_table(root: Path) -> pd.DataFrame:
    """One row per ``S<n>.pkl`` under ``root`` (searched recursively), in subject-number order."""
    files = sorted((p for p in root.rglob("S*.pkl") if p.stem[1:].isdigit()), key=lambda p: int(p.stem[1:]))
    if not files:
        raise FileNotFoundError(f"{root}: no S<n>.pkl subject pickles found")
    return per_file_table(files)


def read_pickle(path: Path, keys: tuple[str, ...]) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            data = pickle.load(f, encoding="latin1")
    except Exception as exc:
        raise DatasetError(f"{path}: unreadable pickle ({exc})") from exc
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: pickle holds {type(data).__name__}, expected the published dict")
    missing = [k for k in keys if k not in data]
    if missing:
        raise DatasetError(f"{path}: key(s) {missing} missing from the pickle (has {sorted(data)})")
    if "wrist" not in data["signal"] or "BVP" not in data["signal"]["wrist"]:
        raise DatasetError(f"{path}: signal['wrist']['BVP'] (the PPG channel) missing")
    return data


def wrist_signals(
    data: dict, path: Path, include_chest: bool
) -> tuple[dict[str, np.ndarray], dict[str, float], dict[str, str]]:
    """``ppg`` (wrist BVP), ``acc_x/y/z`` (1/64 g), ``eda``, ``temp``; chest ECG as ``ecg`` (mV) if asked."""
    wrist = data["signal"]["wrist"]
    signals = {"ppg": np.asarray(wrist["BVP"], dtype=np.float64).reshape(-1)}
    fs = {"ppg": WRIST_FS["BVP"]}
    units = {"ppg": "NU"}
    if "ACC" in wrist:
        acc = np.asarray(wrist["ACC"], dtype=np.float64)
        if acc.ndim != 2 or acc.shape[1] != 3:
            raise DatasetError(f"{path}: signal['wrist']['ACC'] has shape {acc.shape}, expected (T, 3)")
        for i, axis in enumerate("xyz"):
            signals[f"acc_{axis}"], fs[f"acc_{axis}"], units[f"acc_{axis}"] = (
                acc[:, i],
                WRIST_FS["ACC"],
                "1/64g",
            )
    for key, name, unit in (("EDA", "eda", "uS"), ("TEMP", "temp", "degC")):
        if key in wrist:
            signals[name], fs[name], units[name] = (
                np.asarray(wrist[key], float).reshape(-1),
                WRIST_FS[key],
                unit,
            )
    if include_chest:
        chest = data["signal"].get("chest", {})
        if "ECG" not in chest:
            raise DatasetError(f"{path}: signal['chest']['ECG'] missing")
        signals["ecg"], fs["ecg"], units["ecg"] = np.asarray(chest["ECG"], float).reshape(-1), CHEST_FS, "mV"
    return signals, fs, units


def runs(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start index, length, value) of each run of equal values."""
    codes = np.asarray(codes).reshape(-1)
    if len(codes) == 0:
        return np.array([], int), np.array([], int), codes
    change = np.flatnonzero(np.diff(codes) != 0) + 1
    starts = np.concatenate(([0], change))
    lengths = np.diff(np.concatenate((starts, [len(codes)])))
    return starts, lengths, codes[starts]
