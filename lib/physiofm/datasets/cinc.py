"""Reader for 12-lead ECGs in the PhysioNet/CinC Challenge 2020/2021 WFDB layout (shared by several loaders).

Each record is ``<id>.hea`` + ``<id>.mat`` (MATLAB v4 matrix ``val``, WFDB format ``16+24``) with the
diagnoses as SNOMED-CT codes in the header comments::

    HR06000 12 500 5000
    HR06000.mat 16x1+24 1000.0(0)/mv 16 0 10 23323 0 I
    ...
    # Age: 59
    # Sex: Female
    # Dx: 164934002,426783006

The same layout (with ``#Dx:`` written without a space) is used by the Chapman-Shaoxing/Ningbo
"large scale 12-lead ECG database" (CSN). Lead names, rates and lengths come from the header via
``wfdb``; amplitudes are converted to mV from each lead's declared unit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from physiofm.recording import Recording, RecordingSet

from ._common import (
    DatasetError,
    parse_cinc_comments,
    read_ecg_record,
    read_header,
    sex_code,
    warn,
)

#: PhysioNet/CinC 2020 scored diagnoses (dx_mapping_scored.csv); the challenge scores the pairs
#: CRBBB/RBBB, PAC/SVPB and PVC/VPB as one class each, so they are merged here.
CINC2020_SCORED: dict[str, tuple[str, ...]] = {
    "IAVB": ("270492004",),
    "AF": ("164889003",),
    "AFL": ("164890007",),
    "Brady": ("426627000",),
    "CRBBB": ("713427006", "59118001"),
    "IRBBB": ("713426002",),
    "LAnFB": ("445118002",),
    "LAD": ("39732003",),
    "LBBB": ("164909002",),
    "LQRSV": ("251146004",),
    "NSIVCB": ("698252002",),
    "PR": ("10370003",),
    "PAC": ("284470004", "63593006"),
    "PVC": ("427172004", "17338001"),
    "LPR": ("164947007",),
    "LQT": ("111975006",),
    "QAb": ("164917005",),
    "RAD": ("47665007",),
    "SA": ("427393009",),
    "SB": ("426177001",),
    "NSR": ("426783006",),
    "STach": ("427084000",),
    "TAb": ("164934002",),
    "TInv": ("59931005",),
}


def index_headers(root: Path, source: str, pattern: str = "*.hea") -> pd.DataFrame:
    """One row per CinC-format header under ``root`` (recursive): id, path, rate, length, leads, age, dx."""
    paths = sorted(p for p in root.rglob(pattern) if p.is_file())
    if not paths:
        raise FileNotFoundError(f"{root}: no WFDB headers ({pattern}) found for {source}")
    rows = []
    for hea in tqdm(paths, desc=f"{source}: headers", leave=False, disable=len(paths) < 500):
        rec_path = hea.with_suffix("")
        h = read_header(rec_path)
        meta = parse_cinc_comments(h.comments or [], str(hea))
        rows.append(
            {
                "record_id": hea.stem,
                "subject_id": hea.stem,
                "path": str(rec_path),
                "fs": float(h.fs),
                "n_samples": int(h.sig_len),
                "leads": ";".join(h.sig_name),
                "age": meta["age"],
                "sex": meta["sex"],
                "female": sex_code(meta["sex"]),
                "dx": ";".join(meta["dx"]),
            }
        )
    table = pd.DataFrame(rows)
    dup = table["record_id"].duplicated()
    if dup.any():
        raise DatasetError(f"{root}: record id(s) {table.loc[dup, 'record_id'].tolist()[:5]} appear twice")
    return table


def dx_lists(table: pd.DataFrame) -> pd.Series:
    return table["dx"].map(lambda s: s.split(";") if s else [])


def classes_from_codes(
    table: pd.DataFrame, label_map: dict[str, tuple[str, ...]], prefix: str = "dx_", min_count: int = 1
) -> tuple[pd.DataFrame, list[str]]:
    """Multi-hot columns for the classes of ``label_map`` with at least ``min_count`` positive records."""
    codes = dx_lists(table)
    cols = {}
    for name, group in label_map.items():
        hit = codes.map(lambda ls, g=group: int(any(c in g for c in ls))).astype(np.int8)
        if int(hit.sum()) >= min_count:
            cols[f"{prefix}{name}"] = hit
    frame = pd.DataFrame(cols, index=table.index)
    return frame, list(frame.columns)


def ecg_loader(
    source: str,
    extra_labels: Callable[[pd.Series], dict[str, Any]] | None = None,
) -> Callable[[pd.Series], Recording]:
    """``load_fn`` for a RecordingSet of CinC-format rows: reads the record, all leads in mV."""

    def load_row(row: pd.Series) -> Recording:
        path = Path(row["path"])
        signals, fs, header = read_ecg_record(path)
        labels = {"age": row["age"], "sex": row["sex"], "dx": row["dx"].split(";") if row["dx"] else []}
        labels.update({k: v for k, v in row.items() if k.startswith("dx_") or k in ("female", "rhythm")})
        if extra_labels is not None:
            labels.update(extra_labels(row))
        return Recording(record_id=row["record_id"], subject_id=str(row["subject_id"]), source=source,
                         signals=signals, fs=fs, units={k: "mV" for k in signals}, labels=labels,
                         meta={"path": str(path), "comments": list(header.comments or [])})

    return load_row


def warn_unlabelled(table: pd.DataFrame, columns: list[str], source: str) -> None:
    none = table[columns].sum(axis=1) == 0 if columns else pd.Series(True, index=table.index)
    if none.any():
        examples = ", ".join(table.loc[none, "path"].head(3).map(lambda p: Path(p).name + ".hea"))
        warn(f"{source}: {int(none.sum())} record(s) carry none of the task's label codes (e.g. {examples})")


def make_set(
    source: str,
    table: pd.DataFrame,
    tasks: dict[str, dict[str, Any]],
    root: Path,
    extra_labels: Callable[[pd.Series], dict[str, Any]] | None = None,
) -> RecordingSet:
    return RecordingSet(
        source, table, ecg_loader(source, extra_labels), info={"root": str(root), "tasks": tasks}
    )
