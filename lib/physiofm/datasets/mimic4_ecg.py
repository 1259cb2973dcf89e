"""MIMIC-IV-ECG: diagnostic electrocardiogram matched subset, registry name ``mimic4_ecg``.

Citation: Gow B., Pollard T., Nathanson L.A., Johnson A., Moody B., Fernandes C., Greenbaum N.,
Berkowitz S., Moukheiber D., Eslami P., et al. MIMIC-IV-ECG: Diagnostic Electrocardiogram Matched Subset
(version 1.0). PhysioNet (2023). doi:10.13026/4nqg-sb35.

Download: https://physionet.org/content/mimic-iv-ecg/1.0/. Licence: Open Data Commons Open Database
License v1.0 (open access; no credentialing needed for this subset).

Layout::

    root/record_list.csv             (subject_id, study_id, file_name, ecg_time, path)
    root/machine_measurements.csv    (subject_id, study_id, cart_id, ecg_time, report_0 ... report_17, ...)
    root/files/p1000/p10000032/s40689238/40689238.hea/.dat   (12 leads @ 500 Hz, 10 s)

Text (D-BETA pre-training): the non-empty ``report_0..report_17`` of a study are merged, in order and
space-separated, into one report, then cleaned as D-BETA describes ("lowercase, strip, and punctuation
removal"): lower-cased, ASCII punctuation deleted, runs of whitespace collapsed, stripped
(:func:`physiofm.text.reports.clean_report`, shared with the synthetic reports). Column
``text`` (also ``Recording.labels["text"]``); ``report_raw`` keeps the merged uncleaned text.
Option ``require_text`` (default True, as D-BETA drops empty reports) drops studies whose cleaned
text is empty; a study without a machine-measurement row is dropped with a warning. D-BETA also drops
ECGs containing NaN: :class:`Recording` keeps NaN samples and the loader warns about them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from physiofm.recording import Recording, RecordingSet
from physiofm.text.reports import clean_report, merge_reports

from ._common import read_ecg_record, require_file, warn
from ._layout import LEADS_12, FileSpec, Layout, wfdb_files

__all__ = ["clean_report", "load", "merge_reports"]

LAYOUT = Layout(
    files=(
        FileSpec("record_list.csv"), FileSpec("machine_measurements.csv"),
        *wfdb_files("files/p*/p*/s*/*", "files/p1000/p10000032/s40689238/40689238"),
    ),
    channels=LEADS_12,
    rates={"*": 500.0},
)


def load(root: Path, require_text: bool = True) -> RecordingSet:
    """MIMIC-IV-ECG studies with their merged, cleaned machine report."""
    records = pd.read_csv(require_file(root / "record_list.csv", "record list"))
    mm = pd.read_csv(
        require_file(root / "machine_measurements.csv", "machine measurements"), low_memory=False
    )
    report_cols = sorted((c for c in mm.columns if re.fullmatch(r"report_\d+", c)), key=lambda c: int(c[7:]))
    if not report_cols:
        raise ValueError(f"{root / 'machine_measurements.csv'}: no report_<i> columns")
    mm["report_raw"] = mm.apply(merge_reports, axis=1, columns=report_cols)
    mm["text"] = mm["report_raw"].map(clean_report)
    table = records.merge(mm[["study_id", "report_raw", "text"]], on="study_id", how="left")
    missing = table["text"].isna()
    if missing.any():
        warn(
            f"{root / 'machine_measurements.csv'}: {int(missing.sum())} stud(ies) of record_list.csv have no "
            f"report row (e.g. study {table.loc[missing, 'study_id'].iloc[0]}); dropped"
        )
        table = table[~missing]
    if require_text:
        table = table[table["text"].str.len() > 0]
    table = pd.DataFrame(
        {
            "record_id": table["study_id"].astype(str),
            "subject_id": table["subject_id"].astype(str),
            "path": table["path"].map(lambda p: str(root / p)),
            "ecg_time": table["ecg_time"],
            "report_raw": table["report_raw"],
            "text": table["text"],
        }
    )

    def load_row(row: pd.Series) -> Recording:
        path = Path(row["path"])
        signals, fs, _ = read_ecg_record(path)
        return Recording(
            row["record_id"],
            row["subject_id"],
            "mimic4_ecg",
            signals,
            fs,
            units={k: "mV" for k in signals},
            labels={"text": row["text"], "report_raw": row["report_raw"], "ecg_time": row["ecg_time"]},
            meta={"path": str(path)},
        )

    tasks = {"text": {"type": "text", "level": "record", "columns": ["text"], "papers": ["dbeta"]}}
    return RecordingSet("mimic4_ecg", table, load_row, info={"root": str(root), "tasks": tasks})
