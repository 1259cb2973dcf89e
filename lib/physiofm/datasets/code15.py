"""CODE-15%: a large-scale annotated dataset of 12-lead ECGs, registry name ``code15``.

Citation: Ribeiro A.H., Paixao G.M.M., Lima E.M., Horta Ribeiro M., Pinto Filho M.M., Gomes P.R.,
Oliveira D.M., Meira Jr W., Schön T.B., Ribeiro A.L.P. CODE-15%: a large scale annotated dataset of 12-lead
ECGs. Zenodo (2021). doi:10.5281/zenodo.4916206. Labels: Ribeiro A.H. et al., Automatic diagnosis of the
12-lead ECG using a deep neural network. Nat. Commun. 11:1760 (2020); ``nn_predicted_age``: Lima E.M. et al.,
Nat. Commun. 12:5117 (2021).

Download: https://zenodo.org/records/4916206 (345,779 exams of 233,770 patients, 18 HDF5 parts).
Licence: Creative Commons Attribution 4.0 International.

Layout::

    root/exams.csv             (exam_id, age, is_male, nn_predicted_age, 1dAVb, RBBB, LBBB, SB, ST, AF,
                                patient_id, death, timey, normal_ecg, trace_file)
    root/exams_part0.hdf5 ... root/exams_part17.hdf5
        dataset ``tracings``   (N, 4096, 12) float32
        dataset ``exam_id``    (N,) int, the row order of ``tracings``

Signals, as documented by the authors and checked against the software that reads them:

* 400 Hz; exams last 7 s (2,800 samples) or 10 s (4,000 samples) and were zero-padded on both sides,
  centred, to 4,096 samples. The loader strips the padding: it keeps the span from the first to the last
  sample in which any lead is non-zero (a 4,000-sample exam loses 48 zeros on each side, a 2,800-sample
  exam 648). ``Recording.meta["span"]`` is the (start, stop) of the kept samples in the stored 4,096.
* Lead order ``DI, DII, DIII, AVR, AVL, AVF, V1, ..., V6`` (README of github.com/antonior92/
  automatic-ecg-diagnosis and ecg-age-prediction, the dataset authors' code), i.e. I, II, III, aVR, aVL, aVF,
  V1-V6, the channel names used here.
* Unit: the stored values are millivolts. The PhysioNet Challenge 2025 conversion script for this dataset
  (``prepare_code15_data.py``, which cites the Zenodo record for these values) writes them out with unit
  "mV", fs 400 Hz and that lead order; torch_ecg's CODE-15% reader also treats them as mV; hybrid_ecg's
  Table 6 lists CODE-15's "MV-unit" as 1. The authors' README phrase "scale 1e-4V: if the signal is in V it
  should be multiplied by 1000" contradicts itself (x 1000 turns V into mV). Option ``unit`` overrides the
  assumption (any unit :func:`~physiofm.datasets._common.to_millivolts` knows).
* Each part ends with a row of exam_id 0 and an all-zero tracing that belongs to no exam; it is skipped.

Records: one per exam; ``record_id`` = exam_id, ``subject_id`` = patient_id (several exams per patient).
Columns: ``age``, ``female`` (1 - is_male), ``nn_predicted_age``, the six abnormalities ``1dAVb``, ``RBBB``,
``LBBB``, ``SB``, ``ST``, ``AF`` and ``normal_ecg`` as 0/1, ``death`` and ``timey`` (given on a patient's
first exam only, NaN elsewhere), ``path`` (the HDF5 part) and ``row``. An HDF5 exam absent from exams.csv
is dropped with a warning naming the file; a csv row whose ``trace_file`` is present but lacks the exam
gives a warning; exams whose part is not downloaded are simply absent. NaN samples stay NaN with a warning.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from physiofm.recording import Recording, RecordingSet

from ._common import DatasetError, report_nans, require_file, to_millivolts, warn
from ._layout import LEADS_12, FileSpec, Layout

FS = 400.0
LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
ABNORMALITIES = ("1dAVb", "RBBB", "LBBB", "SB", "ST", "AF")
REQUIRED_COLUMNS = ("exam_id", "patient_id", "age", "is_male")

LAYOUT = Layout(
    files=(FileSpec("exams.csv"), FileSpec("exams_part*.hdf5", "exams_part0.hdf5")),
    channels=LEADS_12,
    rates={"*": FS},
)
_PART = re.compile(r"exams_part(\d+)\.hdf5$")


_BOOL = {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0, "1.0": 1.0, "0.0": 0.0}


def _as01(column: pd.Series) -> pd.Series:
    """True/False (bool, 0/1 or text) -> 1.0/0.0; missing stays NaN."""
    mapped = column.map(lambda v: _BOOL.get(str(v).strip().lower(), np.nan))
    return mapped.where(column.notna())


def _index_part(path: Path) -> pd.DataFrame:
    """(exam_id, path, row) of one HDF5 part, after checking its two datasets."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            for name in ("tracings", "exam_id"):
                if name not in f:
                    raise DatasetError(f"{path}: dataset {name!r} missing (has {sorted(f.keys())})")
            shape, ids = f["tracings"].shape, np.asarray(f["exam_id"][:]).reshape(-1)
    except OSError as exc:
        raise DatasetError(f"{path}: unreadable HDF5 file ({exc})") from exc
    if len(shape) != 3 or shape[2] != len(LEADS):
        raise DatasetError(f"{path}: 'tracings' has shape {shape}, expected (N, samples, 12)")
    if shape[0] != len(ids):
        raise DatasetError(f"{path}: 'tracings' has {shape[0]} rows but 'exam_id' has {len(ids)}")
    table = pd.DataFrame({"exam_id": ids.astype(np.int64), "path": str(path), "row": np.arange(len(ids))})
    return table[table["exam_id"] != 0]  # the trailing all-zero filler row of every part


def strip_padding(x: np.ndarray, where: str) -> tuple[np.ndarray, tuple[int, int]]:
    """(T, 12) tracing -> the span between the first and last sample where any lead is non-zero."""
    active = np.flatnonzero(np.any(x != 0, axis=1))  # NaN counts as non-zero: it is not padding
    if active.size == 0:
        raise DatasetError(f"{where}: tracing is all zeros (no signal inside the padding)")
    start, stop = int(active[0]), int(active[-1]) + 1
    return x[start:stop], (start, stop)


def load(root: Path, unit: str = "mV") -> RecordingSet:
    """CODE-15% exams found in ``root``'s HDF5 parts, signals in mV at 400 Hz without the zero padding."""
    csv = require_file(root / "exams.csv", "CODE-15% exam table")
    exams = pd.read_csv(csv)
    missing = [c for c in REQUIRED_COLUMNS if c not in exams.columns]
    if missing:
        raise DatasetError(f"{csv}: column(s) {missing} missing (has {list(exams.columns)})")
    if exams["patient_id"].isna().any():
        bad = exams.loc[exams["patient_id"].isna(), "exam_id"].iloc[0]
        raise DatasetError(f"{csv}: exam_id {bad} has no patient_id")
    if exams["exam_id"].duplicated().any():
        dup = exams.loc[exams["exam_id"].duplicated(), "exam_id"].iloc[0]
        raise DatasetError(f"{csv}: exam_id {dup} appears more than once")
    parts = sorted((p for p in root.glob("exams_part*.hdf5") if _PART.search(p.name)),
                   key=lambda p: int(_PART.search(p.name).group(1)))
    if not parts:
        raise FileNotFoundError(f"{root}: no exams_part<i>.hdf5 files")
    index = pd.concat([_index_part(p) for p in parts], ignore_index=True)
    dup = index["exam_id"].duplicated(keep=False)
    if dup.any():
        first = index[dup].iloc[0]
        where = sorted(set(index.loc[index["exam_id"] == first["exam_id"], "path"]))
        raise DatasetError(f"exam_id {first['exam_id']} is stored more than once, in {where}")
    orphans = index[~index["exam_id"].isin(exams["exam_id"])]
    for path, group in orphans.groupby("path"):
        eg = group["exam_id"].iloc[0]
        warn(f"{path}: {len(group)} exam(s) not in {csv.name} (e.g. exam_id {eg}); dropped")
    table = index.merge(exams, on="exam_id", how="inner")  # keeps the part / row order of the index
    if "trace_file" in exams.columns:
        present = {Path(p).name for p in parts}
        expected = exams[exams["trace_file"].isin(present)]
        lost = expected[~expected["exam_id"].isin(index["exam_id"])]
        for name, group in lost.groupby("trace_file"):
            warn(
                f"{root / name}: {len(group)} exam(s) that {csv.name} places in this file are not in it "
                f"(e.g. exam_id {group['exam_id'].iloc[0]})"
            )
    records = pd.DataFrame(
        {
            "record_id": table["exam_id"].astype(str),
            "subject_id": table["patient_id"].map(lambda v: str(int(v))),
            "path": table["path"],
            "row": table["row"].astype(int),
            "age": table["age"].astype(float),
            "female": 1.0 - _as01(table["is_male"]),
        }
    )
    for col in ("nn_predicted_age", "timey"):
        if col in table.columns:
            records[col] = table[col].astype(float)
    for col in (*ABNORMALITIES, "normal_ecg", "death"):
        if col in table.columns:
            records[col] = _as01(table[col])

    def load_row(row: pd.Series) -> Recording:
        import h5py

        path, i = Path(row["path"]), int(row["row"])
        where = f"{path} exam_id {row['record_id']} (row {i})"
        with h5py.File(path, "r") as f:
            x = np.asarray(f["tracings"][i], dtype=np.float64)
        x, span = strip_padding(x, where)
        signals = {lead: to_millivolts(x[:, j], unit, where) for j, lead in enumerate(LEADS)}
        fs = dict.fromkeys(LEADS, FS)
        report_nans(signals, fs, where)
        labels = {k: v for k, v in row.items() if k not in ("record_id", "subject_id", "path", "row")}
        return Recording(
            row["record_id"],
            row["subject_id"],
            "code15",
            signals,
            fs,
            units=dict.fromkeys(LEADS, "mV"),
            labels=labels,
            meta={"path": str(path), "row": i, "span": span},
        )

    tasks = {
        "abnormalities": {
            "type": "multilabel", "level": "record", "columns": list(ABNORMALITIES), "papers": []
        },
        "normal_ecg": {"type": "binary", "level": "record", "columns": ["normal_ecg"], "papers": []},
        "age": {"type": "regression", "level": "record", "columns": ["age"], "papers": []},
        "sex": {"type": "binary", "level": "record", "columns": ["female"], "papers": []},
    }
    info = {"root": str(root), "fs": FS, "leads": LEADS, "unit": unit, "parts": [p.name for p in parts],
            "tasks": tasks}
    return RecordingSet("code15", records, load_row, info)
