"""PPG-BP: short-recording finger PPG with blood pressure, registry name ``ppgbp``.

Citation: Liang Y., Chen Z., Liu G., Elgendi M. A new, short-recorded photoplethysmogram dataset for
blood pressure monitoring in China. Sci. Data 5:180020 (2018). doi:10.1038/sdata.2018.20.

Download: https://doi.org/10.6084/m9.figshare.5459299 ("PPG-BP Database.zip").
Licence: Creative Commons Attribution 4.0.

Layout (searched recursively; the xlsx header is on its second row, as in the published file)::

    root/Data File/PPG-BP dataset.xlsx     Num., subject_ID, Sex(M/F), Age(year), Height(cm), Weight(kg),
                                           Systolic Blood Pressure(mmHg), Diastolic Blood Pressure(mmHg),
                                           Heart Rate(b/m), BMI(kg/m^2), Hypertension, Diabetes, ...
    root/Data File/0_subject/2_1.txt ...   <subject>_<segment>.txt: one tab-separated line of 2,100 samples
                                           (2.1 s at 1 kHz), three segments per subject

One record per pulse segment (``subject_id`` groups a subject's segments; 219 subjects, 657 segments).
Targets (SyneCo PPGBP, per subject): ``sbp``, ``dbp``, ``hr`` regression and ``hypertension``
= 1 if SBP >= 140 mmHg or DBP >= 90 mmHg (SyneCo's definition, not the sheet's "Hypertension" text,
which is kept as ``hypertension_stage``). Segments whose length is not 2,100 samples give a warning
naming the file; a segment file without a sheet row is skipped with a warning.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from physiofm.recording import Recording, RecordingSet

from ._common import DatasetError, report_nans, sex_code, warn
from ._layout import FileSpec, Layout

FS = 1000.0
SEGMENT_SAMPLES = 2100
COLUMNS = {
    "subject_ID": "sid",
    "Sex(M/F)": "sex",
    "Age(year)": "age",
    "Systolic Blood Pressure(mmHg)": "sbp",
    "Diastolic Blood Pressure(mmHg)": "dbp",
    "Heart Rate(b/m)": "hr",
    "BMI(kg/m^2)": "bmi",
    "Hypertension": "hypertension_stage",
}
_SEGMENT = re.compile(r"^(\d+)_(\d+)\.txt$")

LAYOUT = Layout(
    files=(
        FileSpec("**/PPG-BP dataset.xlsx", "Data File/PPG-BP dataset.xlsx"),
        FileSpec("**/*_*.txt", "Data File/0_subject/2_1.txt"),
    ),
    channels=("ppg",),
    rates={"ppg": FS},
)


def read_sheet(path: Path) -> pd.DataFrame:
    sheet = pd.read_excel(path, header=1)
    sheet.columns = [str(c).strip() for c in sheet.columns]
    missing = [c for c in COLUMNS if c not in sheet.columns]
    if missing:
        raise DatasetError(f"{path}: column(s) {missing} missing from the sheet (header expected on row 2)")
    sheet = sheet[list(COLUMNS)].rename(columns=COLUMNS).dropna(subset=["sid"])
    sheet["sid"] = sheet["sid"].astype(int).astype(str)
    for col in ("age", "sbp", "dbp", "hr", "bmi"):
        sheet[col] = pd.to_numeric(sheet[col], errors="coerce")
    sheet["sex"] = (
        sheet["sex"].astype(str).str.strip().str.upper().map({"M": "M", "F": "F", "MALE": "M", "FEMALE": "F"})
    )
    sheet["female"] = sheet["sex"].map(sex_code)
    sheet["hypertension"] = ((sheet["sbp"] >= 140) | (sheet["dbp"] >= 90)).astype(int)
    return sheet


def read_segment(path: Path) -> np.ndarray:
    try:
        values = pd.read_csv(path, sep="\t", header=None).to_numpy(dtype=np.float64).reshape(-1)
    except Exception as exc:
        raise DatasetError(f"{path}: unreadable pulse segment ({exc})") from exc
    values = values[: np.flatnonzero(~np.isnan(values))[-1] + 1] if (~np.isnan(values)).any() else values
    if len(values) != SEGMENT_SAMPLES:
        warn(f"{path}: {len(values)} samples, the published segments have {SEGMENT_SAMPLES} (truncated?)")
    return values


def load(root: Path) -> RecordingSet:
    """PPG-BP pulse segments with their subject's blood pressure, heart rate and hypertension label."""
    xlsx = next(iter(sorted(root.rglob("PPG-BP dataset.xlsx"))), None)
    if xlsx is None:
        raise FileNotFoundError(f"{root}: 'PPG-BP dataset.xlsx' not found")
    sheet = read_sheet(xlsx).set_index("sid")
    files = sorted(
        (p for p in root.rglob("*.txt") if _SEGMENT.match(p.name)),
        key=lambda p: tuple(int(g) for g in _SEGMENT.match(p.name).groups()),
    )
    if not files:
        raise FileNotFoundError(f"{root}: no <subject>_<segment>.txt pulse files found")
    rows = []
    for p in files:
        sid, seg = _SEGMENT.match(p.name).groups()
        if sid not in sheet.index:
            warn(f"{p}: subject {sid} has no row in {xlsx.name}; skipped")
            continue
        rows.append(
            {
                "record_id": f"{sid}_{seg}",
                "subject_id": sid,
                "path": str(p),
                "segment": int(seg),
                **sheet.loc[sid].to_dict(),
            }
        )
    absent = sorted(set(sheet.index) - {r["subject_id"] for r in rows}, key=int)
    if absent:
        warn(f"{xlsx}: {len(absent)} subject(s) have no pulse file (e.g. {absent[:3]})")
    table = pd.DataFrame(rows)

    def load_row(row: pd.Series) -> Recording:
        path = Path(row["path"])
        signals, fs = {"ppg": read_segment(path)}, {"ppg": FS}
        report_nans(signals, fs, str(path))
        labels = {
            k: row[k]
            for k in ("sbp", "dbp", "hr", "hypertension", "hypertension_stage", "age", "sex", "female", "bmi")
        }
        return Recording(row["record_id"], row["subject_id"], "ppgbp", signals, fs, units={"ppg": "NU"},
                         labels=labels, meta={"path": str(path)})

    tasks = {
        "hypertension": {
            "type": "binary",
            "level": "record",
            "columns": ["hypertension"],
            "papers": ["syneco"],
        },
        "hr": {"type": "regression", "level": "record", "columns": ["hr"], "papers": ["syneco"]},
        "sbp": {"type": "regression", "level": "record", "columns": ["sbp"], "papers": ["syneco"]},
        "dbp": {"type": "regression", "level": "record", "columns": ["dbp"], "papers": ["syneco"]},
    }
    return RecordingSet("ppgbp", table, load_row, info={"root": str(root), "tasks": tasks})
