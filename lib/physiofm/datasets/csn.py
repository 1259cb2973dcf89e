"""Chapman-Shaoxing-Ningbo large-scale 12-lead ECG database (CSN), registry name ``csn``.

Citation: Zheng J., Guo H., Chu H. A large scale 12-lead electrocardiogram database for arrhythmia study
(version 1.0.0). PhysioNet (2022). doi:10.13026/wgex-er52. Original article: Zheng J. et al.,
Sci. Data 7:48 (2020).

Download: https://physionet.org/content/ecg-arrhythmia/1.0.0/. Licence: Creative Commons Attribution 4.0.

Layout::

    root/ConditionNames_SNOMED-CT.csv         (acronym, full name, SNOMED code of every condition)
    root/WFDBRecords/01/010/JS00001.hea/.mat  ... (45,152 records, 12 leads @ 500 Hz, 10 s, "#Dx:")

Task (D-BETA linear probing / zero-shot, multi-label): one ``dx_<acronym>`` column per condition with
at least ``min_count`` positive records (D-BETA/MERL keep 38 classes on 23,026 records; that filtered
list and its 70/10/20 split are not distributed with the data - pass ``min_count`` to approximate).
Codes missing from the condition table produce a warning naming the file and the code; codes are
used as their own names when the table is absent. Also ``age``, ``female``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from physiofm.recording import RecordingSet

from ._common import warn
from ._layout import LEADS_12, FileSpec, Layout
from .cinc import classes_from_codes, dx_lists, index_headers, make_set

LAYOUT = Layout(
    files=(
        FileSpec("**/ConditionNames_SNOMED-CT.csv", "ConditionNames_SNOMED-CT.csv", required=False),
        FileSpec("**/*.hea", "WFDBRecords/01/010/JS00001.hea"),
        FileSpec("**/*.mat", "WFDBRecords/01/010/JS00001.mat", required=False),
    ),
    channels=LEADS_12,
    rates={"*": 500.0},
    sample_root="WFDBRecords/*/*",
)


def condition_names(root: Path) -> dict[str, str] | None:
    """SNOMED code -> acronym from ``ConditionNames_SNOMED-CT.csv`` (None when absent)."""
    path = next(iter(sorted(root.rglob("ConditionNames_SNOMED-CT.csv"))), None)
    if path is None:
        return None
    table = pd.read_csv(path, dtype=str)
    code_col = next((c for c in table.columns if table[c].dropna().str.strip().str.isdigit().all()), None)
    name_col = next((c for c in table.columns if "acronym" in c.lower()), table.columns[0])
    if code_col is None:
        raise ValueError(f"{path}: no column of SNOMED-CT codes (columns {list(table.columns)})")
    return dict(zip(table[code_col].str.strip(), table[name_col].str.strip(), strict=True))


def load(root: Path, min_count: int = 1) -> RecordingSet:
    """CSN records; ``min_count``: keep conditions with at least this many positive records."""
    table = index_headers(root, "csn")
    names = condition_names(root)
    codes = sorted({c for ls in dx_lists(table) for c in ls}, key=int)
    if names is not None:
        for code in codes:
            if code not in names:
                where = table.loc[table["dx"].str.split(";").map(lambda ls, c=code: c in ls), "path"].iloc[0]
                warn(f"csn: {where}.hea has Dx code {code} that is not in ConditionNames_SNOMED-CT.csv")
    label_map: dict[str, tuple[str, ...]] = {}
    for code in codes:  # several codes may share one acronym in the condition table
        name = (names or {}).get(code, code)
        label_map[name] = label_map.get(name, ()) + (code,)
    hot, cols = classes_from_codes(table, label_map, min_count=min_count)
    table = pd.concat([table, hot], axis=1)
    tasks = {
        "diagnosis": {"type": "multilabel", "level": "record", "columns": cols, "papers": ["dbeta"]},
        "sex": {"type": "binary", "level": "record", "columns": ["female"], "papers": []},
    }
    return make_set("csn", table, tasks, root)
