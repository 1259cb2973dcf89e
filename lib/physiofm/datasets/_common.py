"""Helpers every loader shares: WFDB reading with file-level checks, unit conversion, NaN reporting.

Loaders must never hand over a silently wrong signal, so every reader here checks what the header
promises against what the files hold and raises or warns with the file name and the problem.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


class DatasetWarning(UserWarning):
    """A problem in a dataset's files that the loader could work around (named file, named problem)."""


class DatasetError(ValueError):
    """A problem in a dataset's files that makes a record unreadable (named file, named problem)."""


def task(kind: str, level: str, columns: list[str], papers: list[str], **extra: Any) -> dict[str, Any]:
    """One entry of a loader's ``info["tasks"]``: ``type`` (binary, multiclass, multilabel, regression,
    text), ``level`` ("record": one label per record, "annotation": per annotated stretch), the label
    ``columns``, the ``papers`` that use it, and extras such as ``classes`` or a row ``filter``."""
    return {"type": kind, "level": level, "columns": list(columns), "papers": list(papers), **extra}


def warn(message: str) -> None:
    warnings.warn(message, DatasetWarning, stacklevel=3)


def require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {what} not found")
    return path


def per_file_table(files: list[Path]) -> pd.DataFrame:
    """Index of one-record-per-file datasets: ``record_id`` = ``subject_id`` = file stem, ``path``."""
    return pd.DataFrame(
        {
            "record_id": [p.stem for p in files],
            "subject_id": [p.stem for p in files],
            "path": [str(p) for p in files],
        }
    )


# --------------------------------------------------------------------------- channel names

#: canonical co-recorded channel -> header names seen in MIMIC-III/IV, Challenge 2015, VTaC (upper-cased)
CHANNEL_ALIASES: dict[str, tuple[str, ...]] = {
    "ecg_ii": ("II", "ECG II", "ECG_II", "LEAD II", "MLII"),
    "ecg_v": ("V", "V1", "V2", "V3", "V4", "V5", "V6", "MCL1", "MCL", "ECG V", "ECG_V", "ECG_V5"),
    "ppg": ("PLETH", "PPG", "PLETH1", "SPO2 WAVE", "PLETH WAVE"),
}


def canonical_channel(name: str) -> str | None:
    """Map a header channel name to ``ecg_ii`` / ``ecg_v`` / ``ppg`` (None for anything else)."""
    key = name.strip().upper()
    for canon, aliases in CHANNEL_ALIASES.items():
        if key in aliases:
            return canon
    return None


def pick_channels(names: Iterable[str]) -> dict[str, str]:
    """Canonical name -> first header channel that provides it (header order decides between V leads)."""
    chosen: dict[str, str] = {}
    for name in names:
        canon = canonical_channel(name)
        if canon is not None and canon not in chosen:
            chosen[canon] = name
    return chosen


# --------------------------------------------------------------------------- units

_MV_FACTORS = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "microvolt": 1e-3, "v": 1e3, "nv": 1e-6}


def to_millivolts(x: np.ndarray, unit: str, where: str) -> np.ndarray:
    """Scale an ECG trace to mV from its declared physical unit; unknown units are an error."""
    key = (unit or "").strip().lower()
    if key not in _MV_FACTORS:
        raise DatasetError(f"{where}: ECG unit {unit!r} cannot be converted to mV")
    factor = _MV_FACTORS[key]
    return x if factor == 1.0 else x * factor


# --------------------------------------------------------------------------- NaN runs


def nan_runs(x: np.ndarray) -> tuple[int, int]:
    """(number of NaN samples, longest NaN run in samples)."""
    bad = np.isnan(x)
    n = int(bad.sum())
    if n == 0:
        return 0, 0
    edges = np.diff(np.concatenate(([0], bad.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return n, int((stops - starts).max())


def report_nans(signals: dict[str, np.ndarray], fs: dict[str, float], where: str) -> None:
    """Warn (naming the file and channel) when a channel holds invalid samples; they stay NaN."""
    for name, x in signals.items():
        n, longest = nan_runs(x)
        if n == len(x) and n > 0:
            warn(f"{where}: channel {name!r} is entirely NaN ({n} samples)")
        elif n:
            warn(
                f"{where}: channel {name!r} has {n} NaN samples "
                f"(longest run {longest} samples, {longest / fs[name]:.2f} s)"
            )


# --------------------------------------------------------------------------- WFDB

# bytes per sample of the uncompressed WFDB formats (FLAC formats 508/516/524 are variable-size)
_BYTES_PER_SAMPLE = {
    "8": 1,
    "16": 2,
    "61": 2,
    "80": 1,
    "160": 2,
    "212": 1.5,
    "24": 3,
    "32": 4,
    "310": 4 / 3,
    "311": 4 / 3,
}


def check_signal_files(header: Any, record_path: Path) -> None:
    """Compare each signal file's size with what the header declares (truncation / length mismatch)."""
    by_file: dict[str, list[int]] = {}
    for i, fname in enumerate(header.file_name or []):
        by_file.setdefault(fname, []).append(i)
    for fname, idx in by_file.items():
        fmt = str(header.fmt[idx[0]])
        path = record_path.parent / fname
        if not path.is_file():
            raise FileNotFoundError(f"{path}: signal file named in {record_path}.hea is missing")
        if fmt not in _BYTES_PER_SAMPLE or not header.sig_len:
            continue
        spf = sum((header.samps_per_frame[i] if header.samps_per_frame else 1) for i in idx)
        offset = int(header.byte_offset[idx[0]] or 0) if header.byte_offset else 0
        expected = offset + math.ceil(header.sig_len * spf * _BYTES_PER_SAMPLE[fmt])
        actual = path.stat().st_size
        if actual < expected:
            held = int((actual - offset) / (spf * _BYTES_PER_SAMPLE[fmt]))
            raise DatasetError(
                f"{path}: truncated signal file - header declares {header.sig_len} samples, "
                f"file holds {held} ({actual} of {expected} bytes)"
            )
        # format 212 pads to whole bytes; allow one spare byte for it
        if actual > expected + (1 if fmt == "212" else 0):
            held = int((actual - offset) / (spf * _BYTES_PER_SAMPLE[fmt]))
            raise DatasetError(
                f"{path}: header/data length mismatch - header declares {header.sig_len} "
                f"samples, file holds {held}"
            )


def read_header(record_path: Path) -> Any:
    """``wfdb.rdheader`` with the file named in any failure."""
    import wfdb

    hea = Path(str(record_path) + ".hea")
    require_file(hea, "WFDB header")
    try:
        return wfdb.rdheader(str(record_path))
    except Exception as exc:  # wfdb raises bare ValueError/IndexError without the path
        raise DatasetError(f"{hea}: unreadable WFDB header ({exc})") from exc


def read_single_segment(
    record_path: Path,
    channel_names: list[str] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, float], dict[str, str], Any]:
    """Read one single-segment WFDB record as physical per-channel arrays (multi-rate aware).

    Returns signals (name -> (T_c,)), fs (name -> Hz), units and the header. Invalid samples are NaN.
    """
    import wfdb

    header = read_header(record_path)
    if getattr(header, "n_seg", None):
        raise DatasetError(f"{record_path}.hea: is a multi-segment header, expected a single segment")
    check_signal_files(header, record_path)
    missing = [c for c in (channel_names or []) if c not in header.sig_name]
    if missing:
        raise DatasetError(f"{record_path}.hea: channel(s) {missing} not in header (has {header.sig_name})")
    multirate = any(s != 1 for s in (header.samps_per_frame or [1]))
    try:
        rec = wfdb.rdrecord(str(record_path), channel_names=channel_names, smooth_frames=not multirate)
    except Exception as exc:
        raise DatasetError(f"{record_path}: cannot read signal ({exc})") from exc
    signals, fs, units = {}, {}, {}
    for i, name in enumerate(rec.sig_name):
        if multirate:
            x = np.asarray(rec.e_p_signal[i], dtype=np.float64)
            rate = float(rec.fs) * rec.samps_per_frame[i]
        else:
            x = np.asarray(rec.p_signal[:, i], dtype=np.float64)
            rate = float(rec.fs)
        if name in signals:
            raise DatasetError(f"{record_path}.hea: duplicate channel name {name!r}")
        signals[name], fs[name], units[name] = x, rate, rec.units[i] if rec.units else ""
        expected = header.sig_len * (rec.samps_per_frame[i] if multirate else 1)
        if len(x) != expected:
            raise DatasetError(
                f"{record_path}: channel {name!r} has {len(x)} samples, header declares {expected}"
            )
    return signals, fs, units, header


def read_ecg_record(path: Path) -> tuple[dict[str, np.ndarray], dict[str, float], Any]:
    """Read a single-segment WFDB ECG record with every lead in mV; NaN samples are reported.

    Returns signals (lead -> (T,) mV), fs (lead -> Hz) and the header.
    """
    signals, fs, units, header = read_single_segment(path)
    for lead in signals:
        signals[lead] = to_millivolts(signals[lead], units[lead], f"{path}.hea lead {lead}")
    report_nans(signals, fs, str(path))
    return signals, fs, header


# --------------------------------------------------------------------------- CinC headers

_COMMENT = re.compile(r"^\s*#?\s*([A-Za-z]+)\s*:\s*(.*)$")


def parse_cinc_comments(comments: list[str], where: str) -> dict[str, Any]:
    """``# Age:``, ``# Sex:``, ``# Dx:`` (comma-separated SNOMED-CT codes) from a CinC 2020/21 header.

    Age ``NaN``/``Unknown`` becomes NaN; sex is normalised to ``"M"``/``"F"`` (None when unknown);
    a Dx entry that is not an integer code raises.
    """
    fields: dict[str, str] = {}
    for line in comments:
        m = _COMMENT.match(line)
        if m:
            fields[m.group(1).lower()] = m.group(2).strip()
    if "dx" not in fields:
        raise DatasetError(f"{where}: header has no '# Dx:' line")
    dx: list[str] = []
    for code in filter(None, (c.strip() for c in fields["dx"].split(","))):
        if not code.isdigit():
            raise DatasetError(f"{where}: Dx code {code!r} is not a SNOMED-CT integer code")
        dx.append(code)
    age_txt = fields.get("age", "")
    try:
        age = float(age_txt)
    except ValueError:
        age = float("nan")
    sex_txt = fields.get("sex", "").strip().lower()
    sex = {"male": "M", "m": "M", "female": "F", "f": "F"}.get(sex_txt)
    return {"age": age, "sex": sex, "dx": dx}


def multi_hot(lists: pd.Series, classes: list[str], prefix: str) -> pd.DataFrame:
    """One int column per class (``{prefix}{class}``) from a Series of label lists."""
    return pd.DataFrame(
        {f"{prefix}{c}": lists.map(lambda ls, c=c: int(c in ls)).astype(np.int8) for c in classes},
        index=lists.index,
    )


def sex_code(sex: str | None) -> float:
    """Binary sex target used by the probes: 1 = female, 0 = male, NaN unknown."""
    return {"F": 1.0, "M": 0.0}.get(sex or "", float("nan"))
