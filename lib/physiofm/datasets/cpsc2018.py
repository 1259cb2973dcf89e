"""China Physiological Signal Challenge 2018 (CPSC2018), registry name ``cpsc2018``.

Citation: Liu F. et al. An open access database for evaluating the algorithms of electrocardiogram rhythm
and morphology abnormality detection. J. Med. Imaging Health Inform. 8(7):1368-1373 (2018).

Download: http://2018.icbeb.org/Challenge.html (``TrainingSet1-3.zip`` + ``REFERENCE.csv``), or the
PhysioNet/CinC 2020 WFDB conversion (``training/cpsc_2018`` of https://physionet.org/content/challenge-2021/1.0.3/).
Licence: free for research (challenge terms); the PhysioNet copy is CC BY 4.0.

Two layouts are read, chosen by the presence of ``REFERENCE.csv``:

* original: ``root/REFERENCE.csv`` (``Recording,First_label,Second_label,Third_label``, labels 1-9) and
  ``root/**/A0001.mat`` (MATLAB v5 struct ``ECG`` with fields ``sex``, ``age``, ``data`` (12, T) at
  500 Hz in mV, leads I, II, III, aVR, aVL, aVF, V1-V6);
* CinC: ``root/**/A0001.hea`` + ``.mat`` with ``# Dx:`` SNOMED codes (:mod:`physiofm.datasets.cinc`).

Task (D-BETA linear probing / zero-shot, 9 classes, multi-label): columns ``dx_<class>`` for
NORM, AF, IAVB, LBBB, RBBB, PAC, PVC, STD, STE. D-BETA's 4,950 / 551 / 1,376 split follows MERL and is
not published as a file here; splitting is left to :mod:`physiofm.splits`. Also ``age``, ``female``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from physiofm.recording import Recording, RecordingSet

from ._common import DatasetError, report_nans, sex_code, warn
from ._layout import LEADS_12, FileSpec, Layout
from .cinc import CINC2020_SCORED, classes_from_codes, index_headers, make_set, warn_unlabelled

CLASSES = ["NORM", "AF", "IAVB", "LBBB", "RBBB", "PAC", "PVC", "STD", "STE"]  # REFERENCE.csv labels 1..9
#: SNOMED codes of the nine classes in the CinC 2020 conversion (PVC also appears as 427172004); the
#: classes CinC 2020 scores alike take its codes (NORM is its NSR, RBBB its merged CRBBB/RBBB)
SNOMED: dict[str, tuple[str, ...]] = {
    "NORM": CINC2020_SCORED["NSR"],
    **{c: CINC2020_SCORED[c] for c in ("AF", "IAVB", "LBBB")},
    "RBBB": CINC2020_SCORED["CRBBB"],
    "PAC": ("284470004",),  # without the SVPB code CinC 2020 merges into PAC
    "PVC": ("164884008", "427172004"),
    "STD": ("429622005",),
    "STE": ("164931005",),
}
LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
FS = 500.0
#: the two published layouts, tried in this order (the loader reads the original one when it finds it)
LAYOUT = (
    Layout(
        files=(FileSpec("REFERENCE.csv"), FileSpec("**/A*.mat", "**/A0001.mat")),
        channels=LEADS_12,
        rates={"*": FS},
        name="original",
    ),
    Layout(
        files=(FileSpec("**/*.hea", "**/A0001.hea"), FileSpec("**/*.mat", "**/A0001.mat", required=False)),
        channels=LEADS_12,
        rates={"*": FS},
        name="CinC",
    ),
)


def _tasks(cols: list[str]) -> dict:
    return {
        "diagnosis": {"type": "multilabel", "level": "record", "columns": cols, "papers": ["dbeta"]},
        "sex": {"type": "binary", "level": "record", "columns": ["female"], "papers": []},
    }


def _read_struct(path: Path) -> dict:
    from scipy.io import loadmat

    try:
        ecg = loadmat(str(path), squeeze_me=True, struct_as_record=False)["ECG"]
    except KeyError as exc:
        raise DatasetError(f"{path}: no 'ECG' struct") from exc
    except Exception as exc:
        raise DatasetError(f"{path}: unreadable MATLAB file ({exc})") from exc
    data = np.asarray(ecg.data, dtype=np.float64)
    if data.ndim != 2 or data.shape[0] != 12:
        raise DatasetError(f"{path}: ECG.data has shape {data.shape}, expected (12, T)")
    sex = {"male": "M", "female": "F"}.get(str(ecg.sex).strip().lower())
    try:
        age = float(ecg.age)
    except (TypeError, ValueError):
        age = float("nan")
    return {"data": data, "sex": sex, "age": age}


def _load_original(root: Path) -> RecordingSet:
    ref = pd.read_csv(root / "REFERENCE.csv", dtype=str)
    if "Recording" not in ref.columns:
        raise DatasetError(f"{root / 'REFERENCE.csv'}: no 'Recording' column (has {list(ref.columns)})")
    files = {p.stem: p for p in root.rglob("A*.mat")}
    rows = []
    for _, r in ref.iterrows():
        rid = r["Recording"].strip()
        labels = []
        for col in ("First_label", "Second_label", "Third_label"):
            v = r.get(col)
            if isinstance(v, str) and v.strip():
                code = v.strip()[:-2] if v.strip().endswith(".0") else v.strip()  # pandas may write 9.0
                if code not in {str(i) for i in range(1, 10)}:
                    raise DatasetError(f"{root / 'REFERENCE.csv'}: record {rid} has unknown label code {v!r}")
                labels.append(CLASSES[int(code) - 1])
        if rid not in files:
            warn(f"{root}: {rid}.mat listed in REFERENCE.csv is missing; record skipped")
            continue
        rows.append({"record_id": rid, "subject_id": rid, "path": str(files[rid]), "labels": labels})
    table = pd.DataFrame(rows)
    for c in CLASSES:
        table[f"dx_{c}"] = table["labels"].map(lambda ls, c=c: int(c in ls)).astype(np.int8)
    table["dx"] = table.pop("labels").map(";".join)

    def load_row(row: pd.Series) -> Recording:
        path = Path(row["path"])
        s = _read_struct(path)
        signals = {lead: s["data"][i] for i, lead in enumerate(LEADS)}
        fs = {lead: FS for lead in LEADS}
        report_nans(signals, fs, str(path))
        labels = {
            "age": s["age"],
            "sex": s["sex"],
            "female": sex_code(s["sex"]),
            "dx": row["dx"].split(";"),
            **{k: v for k, v in row.items() if k.startswith("dx_")},
        }
        return Recording(row["record_id"], row["subject_id"], "cpsc2018", signals, fs,
                         units={k: "mV" for k in LEADS}, labels=labels, meta={"path": str(path)})

    return RecordingSet(
        "cpsc2018",
        table,
        load_row,
        info={"root": str(root), "layout": "original", "tasks": _tasks([f"dx_{c}" for c in CLASSES])},
    )


def load(root: Path) -> RecordingSet:
    """CPSC2018 in its original or its CinC 2020 layout."""
    if (root / "REFERENCE.csv").is_file():
        return _load_original(root)
    table = index_headers(root, "cpsc2018")
    hot, cols = classes_from_codes(table, SNOMED, min_count=0)
    table = pd.concat([table, hot], axis=1)
    warn_unlabelled(table, cols, "cpsc2018")
    return make_set("cpsc2018", table, _tasks(cols), root)
