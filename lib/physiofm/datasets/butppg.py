"""Brno University of Technology Smartphone PPG Database (BUT PPG) v2.0.0, registry name ``butppg``.

Citation: Nemcova A., Smisek R., Vargova E., Maršánová L., Vitek M., Smital L. Brno University of
Technology Smartphone PPG Database (BUT PPG): annotated dataset for PPG quality assessment and heart
rate estimation. BioMed Res. Int. 2021:3453007 (2021). PhysioNet doi:10.13026/tn53-8153.

Download: https://physionet.org/content/butppg/2.0.0/. Licence: Creative Commons Attribution 4.0.

Layout (as published; the CSV files start with a UTF-8 byte-order mark)::

    root/quality-hr-ann.csv     ID, Quality (1 good / 0 bad), HR (reference, bpm)
    root/subject-info.csv       ID, Gender, Age [years], Height [cm], Weight [kg], Ear/finger, Motion,
                                Blood pressure [mmHg] ("SBP/DBP"), ...
    root/100001/100001_PPG.hea/.dat   10-s smartphone PPG at 30 Hz (colour channels)
    root/100001/100001_ECG.hea/.dat   reference ECG at 1 kHz
    root/100001/100001_ACC.hea/.dat   accelerometer at 100 Hz (recordings from 112001 on)

Record ID = 6 digits: the first three are the subject (50 subjects). One record per recording.
Channels: ``ppg`` = the PPG header channel named by option ``ppg_channel`` (default ``PPG_R``; a header
with one PPG channel uses it whatever its name), other PPG channels keep their names; ``include_ecg``
adds ``ecg`` (mV). Targets (AnyPPG): ``hr``, ``sbp``, ``dbp`` regression and ``quality`` binary.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from physiofm.recording import Recording, RecordingSet

from ._common import DatasetError, read_single_segment, report_nans, require_file, sex_code, to_millivolts
from ._layout import FileSpec, Layout, wfdb_files

LAYOUT = Layout(
    files=(
        FileSpec("quality-hr-ann.csv"), FileSpec("subject-info.csv"),
        *wfdb_files("*/*_PPG", "100001/100001_PPG"),
        *wfdb_files("*/*_ECG", "100001/100001_ECG", required=False),  # read with include_ecg
    ),
    channels=("ppg",),
    rates={"ppg": 30.0},
    ignored=("*/*_ACC.hea", "*/*_ACC.dat"),
)


def _csv(path: Path) -> pd.DataFrame:
    table = pd.read_csv(require_file(path, "BUT PPG table"), encoding="utf-8-sig", dtype={"ID": str})
    table.columns = [c.strip() for c in table.columns]
    if "ID" not in table.columns:
        raise DatasetError(f"{path}: no 'ID' column (has {list(table.columns)})")
    table["ID"] = table["ID"].str.strip().str.zfill(6)
    return table


def load(root: Path, ppg_channel: str = "PPG_R", include_ecg: bool = False) -> RecordingSet:
    """BUT PPG recordings with quality, HR and blood-pressure targets."""
    ann = _csv(root / "quality-hr-ann.csv")
    info = _csv(root / "subject-info.csv")
    for col in ("Quality", "HR"):
        if col not in ann.columns:
            raise DatasetError(f"{root / 'quality-hr-ann.csv'}: column {col!r} missing")
    table = ann.merge(info, on="ID", how="left")
    bp_col = next((c for c in table.columns if c.lower().startswith("blood pressure")), None)
    bp = (
        table[bp_col].astype("string").str.extract(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")
        if bp_col
        else pd.DataFrame({0: np.nan, 1: np.nan}, index=table.index)
    )
    age_col = next((c for c in table.columns if c.lower().startswith("age")), None)
    sex = table["Gender"].astype("string").str.strip().str.upper().str[:1] if "Gender" in table else None
    out = pd.DataFrame(
        {
            "record_id": table["ID"],
            "subject_id": table["ID"].str[:3],
            "path": [str(root / i / f"{i}_PPG") for i in table["ID"]],
            "quality": pd.to_numeric(table["Quality"], errors="coerce"),
            "hr": pd.to_numeric(table["HR"], errors="coerce"),
            "sbp": pd.to_numeric(bp[0], errors="coerce"),
            "dbp": pd.to_numeric(bp[1], errors="coerce"),
            "age": pd.to_numeric(table[age_col], errors="coerce") if age_col else np.nan,
            "sex": sex if sex is not None else None,
        }
    )
    out["female"] = out["sex"].map(lambda s: sex_code(s if isinstance(s, str) else None))
    for col in ("Ear/finger", "Motion"):
        if col in table.columns:
            out[col.replace("/", "_").lower()] = table[col].to_numpy()

    def load_row(row: pd.Series) -> Recording:
        path = Path(row["path"])
        sig, fs, units, header = read_single_segment(path)
        name = next(iter(sig)) if len(sig) == 1 else ppg_channel
        if name not in sig:
            raise DatasetError(f"{path}.hea: PPG channel {ppg_channel!r} missing (has {list(sig)})")
        signals = {"ppg": sig.pop(name)}
        rates, out_units = {"ppg": fs[name]}, {"ppg": units[name]}
        for k in sig:
            signals[k], rates[k], out_units[k] = sig[k], fs[k], units[k]
        if include_ecg:
            ecg_path = path.with_name(path.name.replace("_PPG", "_ECG"))
            esig, efs, eunits, _ = read_single_segment(ecg_path)
            ch = next(iter(esig))
            signals["ecg"] = to_millivolts(esig[ch], eunits[ch], f"{ecg_path}.hea channel {ch}")
            rates["ecg"], out_units["ecg"] = efs[ch], "mV"
        report_nans(signals, rates, str(path))
        labels = {k: row[k] for k in row.index if k not in ("record_id", "subject_id", "path")}
        return Recording(row["record_id"], row["subject_id"], "butppg", signals, rates, units=out_units,
                         labels=labels, meta={"path": str(path)})

    tasks = {
        t: {"type": "regression", "level": "record", "columns": [t], "papers": ["anyppg"]}
        for t in ("hr", "sbp", "dbp")
    }
    tasks["quality"] = {"type": "binary", "level": "record", "columns": ["quality"], "papers": ["anyppg"]}
    return RecordingSet("butppg", out, load_row, info={"root": str(root), "tasks": tasks})
