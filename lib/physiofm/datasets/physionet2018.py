"""You Snooze, You Win: PhysioNet/Computing in Cardiology Challenge 2018, registry name ``physionet2018``.

Citation: Ghassemi M.M., Moody B.E., Lehman L.H., Song C., Li Q., Sun H., Mark R.G., Westover M.B.,
Clifford G.D. You snooze, you win: the PhysioNet/Computing in Cardiology Challenge 2018. CinC 45 (2018).

Download: https://physionet.org/content/challenge-2018/1.0.0/. Licence: Open Data Commons Attribution
License v1.0.

Layout::

    root/age-sex.csv                                Record, Age, Sex (M/F) for every record
    root/training/tr03-0005/tr03-0005.hea           13 channels @ 200 Hz: F3-M2, F4-M1, C3-M2, C4-M1,
    root/training/tr03-0005/tr03-0005.mat             O1-M2, O2-M1, E1-M2, Chin1-Chin2, ABD, CHEST,
    root/training/tr03-0005/tr03-0005-arousal.mat     AIRFLOW, SaO2, ECG (WFDB, MATLAB v4 signal file)
    root/test/te03-0001/te03-0001.hea/.mat          989 unlabelled records (no -arousal.mat)

``-arousal.mat`` is a MATLAB v7.3 (HDF5) file read with ``h5py``: ``data/arousals`` (per sample:
1 arousal, 0 none, -1 not scored) and ``data/sleep_stages/{wake,nonrem1,nonrem2,nonrem3,rem,undefined}``
(per-sample 0/1 indicators). One record per night (``subject_id`` = record; the challenge has one
record per subject). Annotations are consecutive 30-s epochs from the record start with ``stage``
(0 W, 1 N1, 2 N2, 3 N3, 4 R; NaN when undefined or mixed), ``stage_name`` and ``arousal`` (1 if any
arousal sample in the epoch, 0 if scored without one, NaN if not scored) - MultiMAE's sleep and arousal
tasks; ``age_under_55`` (1 if age < 55) is its age task. A stage vector whose length differs from the
signal is an error naming the file. ECG is converted to mV; other channels keep their header units.
Option ``split``: ``"training"`` (default), ``"test"`` or ``"all"``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from physiofm.recording import Recording, RecordingSet

from ._common import (
    DatasetError,
    read_single_segment,
    report_nans,
    require_file,
    sex_code,
    task,
    to_millivolts,
    warn,
)

EPOCH_S = 30.0
STAGES = {"wake": (0, "W"), "nonrem1": (1, "N1"), "nonrem2": (2, "N2"), "nonrem3": (3, "N3"), "rem": (4, "R")}


def read_arousal_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample arousal (-1/0/1) and stage code (0-4, -1 undefined) from ``-arousal.mat``."""
    import h5py

    if not h5py.is_hdf5(str(path)):
        raise DatasetError(f"{path}: not a MATLAB v7.3 (HDF5) arousal file")
    with h5py.File(path, "r") as f:
        try:
            arousal = np.asarray(f["data/arousals"][()]).reshape(-1)
            group = f["data/sleep_stages"]
            masks = {k: np.asarray(group[k][()]).reshape(-1) for k in group}
        except KeyError as exc:
            raise DatasetError(
                f"{path}: missing {exc} (expected data/arousals and data/sleep_stages)"
            ) from exc
    stage = np.full(len(arousal), -1, dtype=np.int8)
    count = np.zeros(len(arousal), dtype=np.int8)
    for key, mask in masks.items():
        if len(mask) != len(arousal):
            raise DatasetError(f"{path}: sleep_stages/{key} has {len(mask)} samples, arousals {len(arousal)}")
        if key in STAGES:
            stage[mask > 0] = STAGES[key][0]
        elif key != "undefined":
            raise DatasetError(f"{path}: unknown sleep stage {key!r}")
        count += (mask > 0).astype(np.int8)
    if (count > 1).any():
        raise DatasetError(f"{path}: {int((count > 1).sum())} samples carry more than one sleep stage")
    return arousal, stage


def epochs(arousal: np.ndarray, stage: np.ndarray, fs: float) -> pd.DataFrame:
    n = int(EPOCH_S * fs)
    rows = []
    names = {code: name for code, name in STAGES.values()}
    for k in range(len(stage) // n):
        st, ar = stage[k * n : (k + 1) * n], arousal[k * n : (k + 1) * n]
        code = float(st[0]) if (st == st[0]).all() and st[0] >= 0 else np.nan
        scored = ar[ar >= 0]
        rows.append(
            (
                k * EPOCH_S,
                EPOCH_S,
                code,
                names.get(int(code)) if code == code else None,
                float((scored > 0).any()) if len(scored) else np.nan,
            )
        )
    return pd.DataFrame(rows, columns=["onset", "duration", "stage", "stage_name", "arousal"])


def load(root: Path, split: str = "training") -> RecordingSet:
    """PhysioNet 2018 records (``split``: training / test / all) with 30-s epoch annotations."""
    if split not in ("training", "test", "all"):
        raise ValueError(f"physionet2018: split must be training, test or all, got {split!r}")
    folders = ["training", "test"] if split == "all" else [split]
    heads = [h for d in folders for h in sorted((root / d).glob("*/*.hea")) if h.stem == h.parent.name]
    if not heads:
        raise FileNotFoundError(f"{root}: no {'/'.join(folders)}/<record>/<record>.hea found")
    demo = pd.read_csv(require_file(root / "age-sex.csv", "age/sex table"), dtype={"Record": str})
    demo = demo.set_index(demo["Record"].str.strip())
    rows = []
    for h in heads:
        rid = h.stem
        if rid not in demo.index:
            warn(f"{h}: record {rid} has no row in age-sex.csv; age and sex are NaN")
        age = float(demo.loc[rid, "Age"]) if rid in demo.index else np.nan
        sex = str(demo.loc[rid, "Sex"]).strip().upper()[:1] if rid in demo.index else None
        rows.append(
            {
                "record_id": rid,
                "subject_id": rid,
                "path": str(h.with_suffix("")),
                "split": h.parent.parent.name,
                "age": age,
                "sex": sex,
                "female": sex_code(sex),
                "age_under_55": float(age < 55) if age == age else np.nan,
            }
        )
    table = pd.DataFrame(rows)

    def load_row(row: pd.Series) -> Recording:
        path = Path(row["path"])
        signals, fs, units, _ = read_single_segment(path)
        for ch in signals:
            if ch.upper().startswith("ECG"):
                signals[ch], units[ch] = (
                    to_millivolts(signals[ch], units[ch], f"{path}.hea channel {ch}"),
                    "mV",
                )
        ann = None
        arousal_file = Path(str(path) + "-arousal.mat")
        if arousal_file.is_file():
            arousal, stage = read_arousal_file(arousal_file)
            n = len(next(iter(signals.values())))
            if len(stage) != n:
                raise DatasetError(f"{arousal_file}: {len(stage)} samples of sleep stages, signal has {n}")
            ann = epochs(arousal, stage, next(iter(fs.values())))
        elif row["split"] == "training":
            warn(f"{arousal_file}: missing; record has no sleep-stage / arousal annotations")
        report_nans(signals, fs, str(path))
        labels = {k: row[k] for k in ("age", "sex", "female", "age_under_55", "split")}
        return Recording(row["record_id"], row["subject_id"], "physionet2018", signals, fs, units=units,
                         labels=labels, annotations=ann, meta={"path": str(path)})

    stages = [0, 1, 2, 3, 4]
    tasks = {"sleep_stage": task("multiclass", "annotation", ["stage"], ["multimae"], classes=stages),
             "arousal": task("binary", "annotation", ["arousal"], ["multimae"]),
             "age": task("binary", "record", ["age_under_55"], ["multimae"])}
    return RecordingSet("physionet2018", table, load_row, info={"root": str(root), "tasks": tasks})
