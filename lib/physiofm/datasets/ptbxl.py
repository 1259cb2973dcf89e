"""PTB-XL 12-lead ECG database, registry name ``ptbxl``.

Citation: Wagner P., Strodthoff N., Bousseljot R.-D., Kreiseler D., Lunze F.I., Samek W., Schaeffter T.
PTB-XL, a large publicly available electrocardiography dataset. Sci. Data 7:154 (2020).
doi:10.1038/s41597-020-0495-6.

Download: https://physionet.org/content/ptb-xl/1.0.3/. Licence: Creative Commons Attribution 4.0.

Layout::

    root/ptbxl_database.csv      (ecg_id, patient_id, age, sex, scp_codes, strat_fold, filename_lr/_hr, ...)
    root/scp_statements.csv      (SCP codes; diagnostic, form, rhythm, diagnostic_class/_subclass)
    root/records100/00000/00001_lr.hea/.dat ...   (100 Hz)
    root/records500/00000/00001_hr.hea/.dat ...   (500 Hz)

Labels follow the PTB-XL benchmark (Strodthoff et al. 2021, ``compute_label_aggregations`` /
``select_data`` of github.com/helme/ecg_ptbxl_benchmarking, checked against its code): every key of a
record's ``scp_codes`` counts regardless of its likelihood value;

* ``superdiagnostic`` (5): ``diagnostic_class`` of codes with ``diagnostic == 1``  -> ``super_<c>``
* ``subdiagnostic`` (23): ``diagnostic_subclass`` of those codes                  -> ``sub_<c>``
* ``form`` (19): codes with ``form == 1``                                        -> ``form_<c>``
* ``rhythm`` (12): codes with ``rhythm == 1``                                    -> ``rhythm_<c>``

Class lists are sorted like scikit-learn's ``MultiLabelBinarizer``; ``n_<task>`` counts a record's labels
and the benchmark evaluates a task only on records with ``n_<task> > 0`` (``info["tasks"][t]["filter"]``).
Split: the recommended ``strat_fold`` 1-8 train / 9 val / 10 test (column ``split``). ``sex`` is
0 = male, 1 = female in the database (copied to ``female``); ages over 89 are published as 300.
An SCP code missing from ``scp_statements.csv`` gives a warning naming the ecg_id and code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd

from physiofm.recording import Recording, RecordingSet

from ._common import (
    DatasetError,
    multi_hot,
    read_ecg_record,
    require_file,
    warn,
)
from ._layout import LEADS_12, FileSpec, Layout, wfdb_files

TASKS = {"superdiagnostic": "super_", "subdiagnostic": "sub_", "form": "form_", "rhythm": "rhythm_"}

LAYOUT = Layout(
    files=(
        FileSpec("ptbxl_database.csv"), FileSpec("scp_statements.csv"),
        *wfdb_files("records{sampling_rate}/*/*", "records500/00000/00001_hr"),
    ),
    channels=LEADS_12,
    rates={"*": "{sampling_rate}"},
)


def aggregate(scp_codes: pd.Series, statements: pd.DataFrame) -> dict[str, pd.Series]:
    """Label lists per record for the four benchmark tasks (the benchmark's aggregation rules)."""
    diag = statements[statements["diagnostic"] == 1.0]
    form = statements[statements["form"] == 1.0]
    rhythm = statements[statements["rhythm"] == 1.0]

    def via(table: pd.DataFrame, column: str | None):
        def f(codes: dict) -> list[str]:
            out = set()
            for key in codes:
                if key in table.index:
                    value = key if column is None else table.loc[key, column]
                    if str(value) != "nan":
                        out.add(value)
            return sorted(out)

        return f

    return {
        "superdiagnostic": scp_codes.map(via(diag, "diagnostic_class")),
        "subdiagnostic": scp_codes.map(via(diag, "diagnostic_subclass")),
        "form": scp_codes.map(via(form, None)),
        "rhythm": scp_codes.map(via(rhythm, None)),
    }


def load(root: Path, sampling_rate: int = 500) -> RecordingSet:
    """PTB-XL at ``sampling_rate`` 500 (``records500``) or 100 Hz (``records100``)."""
    if sampling_rate not in (100, 500):
        raise ValueError(f"ptbxl: sampling_rate must be 100 or 500, got {sampling_rate}")
    db = pd.read_csv(require_file(root / "ptbxl_database.csv", "PTB-XL database table"), index_col="ecg_id")
    statements = pd.read_csv(require_file(root / "scp_statements.csv", "SCP statement table"), index_col=0)
    for col in ("diagnostic", "form", "rhythm", "diagnostic_class", "diagnostic_subclass"):
        if col not in statements.columns:
            raise DatasetError(f"{root / 'scp_statements.csv'}: column {col!r} missing")
    codes = db["scp_codes"].map(ast.literal_eval)
    for ecg_id, rec_codes in codes.items():
        unknown = [c for c in rec_codes if c not in statements.index]
        if unknown:
            warn(
                f"{root / 'ptbxl_database.csv'}: ecg_id {ecg_id} has SCP code(s) {unknown} "
                "not in scp_statements.csv (ignored)"
            )
    lists = aggregate(codes, statements)
    fn_col = "filename_hr" if sampling_rate == 500 else "filename_lr"
    table = pd.DataFrame(
        {
            "record_id": db.index.astype(str),
            "subject_id": db["patient_id"].map(lambda v: str(int(v))),
            "path": db[fn_col].map(lambda f: str(root / f)),
            "age": db["age"].astype(float),
            "female": db["sex"].astype(float),
            "strat_fold": db["strat_fold"].astype(int),
        },
        index=db.index,
    )
    table["split"] = np.select([table["strat_fold"] <= 8, table["strat_fold"] == 9], ["train", "val"], "test")
    tasks: dict[str, dict] = {}
    for task, prefix in TASKS.items():
        classes = sorted({c for ls in lists[task] for c in ls})
        table = pd.concat([table, multi_hot(lists[task], classes, prefix)], axis=1)
        table[f"n_{task}"] = lists[task].map(len)
        tasks[task] = {
            "type": "multilabel",
            "level": "record",
            "columns": [prefix + c for c in classes],
            "filter": f"n_{task} > 0",
            "papers": ["syneco", "hybrid_ecg", "dbeta"],
        }
    tasks["sex"] = {"type": "binary", "level": "record", "columns": ["female"], "papers": ["syneco"]}
    table = table.reset_index(drop=True)

    def load_row(row: pd.Series) -> Recording:
        path = Path(row["path"])
        signals, fs, _ = read_ecg_record(path)
        labels = {k: v for k, v in row.items() if k not in ("record_id", "subject_id", "path")}
        labels["sex"] = {0.0: "M", 1.0: "F"}.get(row["female"])
        return Recording(row["record_id"], row["subject_id"], "ptbxl", signals, fs,
                         units={k: "mV" for k in signals}, labels=labels, meta={"path": str(path)})

    return RecordingSet(
        "ptbxl", table, load_row, info={"root": str(root), "sampling_rate": sampling_rate, "tasks": tasks}
    )
