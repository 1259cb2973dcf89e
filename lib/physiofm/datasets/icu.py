"""Reader for ICU bedside-monitor waveforms in WFDB form (MIMIC-III/IV matched DBs, Challenge 2015, VTaC).

Handles what these databases actually contain:

* single-segment records (Challenge 2015 ``a103l``, VTaC events, MIMIC segments);
* multi-frequency records (MIMIC-IV: ECG ~250 Hz, Pleth ~125 Hz, Resp ~62.5 Hz in one frame), read with
  ``smooth_frames=False`` so every channel keeps its own rate; FLAC-compressed signal files need the
  ``soundfile`` package (wfdb uses it);
* multi-segment records (a master header listing segments, ``~`` for gaps, an optional ``_layout``
  segment): :func:`read_record` lays the segments on the master's timeline with NaN in gaps and where a
  segment lacks a channel; :func:`segment_index` lists the segments as separate records.

Channel names vary between monitors and eras; :func:`physiofm.datasets._common.canonical_channel` maps
``II`` -> ``ecg_ii``, the first V lead (``V``, ``V1``..``V6``, ``MCL1``) -> ``ecg_v`` and ``PLETH`` /
``Pleth`` -> ``ppg``. ECG channels are converted to mV from their header units.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from physiofm.recording import Recording, RecordingSet

from ._common import (
    DatasetError,
    canonical_channel,
    pick_channels,
    read_header,
    read_single_segment,
    report_nans,
    to_millivolts,
    warn,
)

CANONICAL = ("ecg_ii", "ecg_v", "ppg")
_VOLT_UNITS = {"mv", "uv", "µv", "μv", "v", "nv"}


def _to_output(
    signals: dict[str, np.ndarray], fs: dict[str, float], units: dict[str, str], where: str, channels: str
) -> tuple[dict[str, np.ndarray], dict[str, float], dict[str, str], dict[str, str]]:
    """Select/rename channels (``"canonical"`` or ``"all"``) and convert ECG to mV."""
    if channels == "canonical":
        mapping = {canon: name for canon, name in pick_channels(signals).items()}
    elif channels == "all":
        mapping = {name: name for name in signals}
    else:
        raise ValueError(f"channels must be 'canonical' or 'all', got {channels!r}")
    out, out_fs, out_units = {}, {}, {}
    for new, old in mapping.items():
        x, unit = signals[old], units.get(old, "")
        is_ecg = canonical_channel(old) in ("ecg_ii", "ecg_v") or unit.strip().lower() in _VOLT_UNITS
        if is_ecg and canonical_channel(old) != "ppg":
            x, unit = to_millivolts(x, unit or "mV", f"{where} channel {old}"), "mV"
        out[new], out_fs[new], out_units[new] = x, fs[old], unit
    return out, out_fs, out_units, mapping


def _alarm_labels(comments: Sequence[str]) -> dict[str, Any]:
    """Challenge-2015-style comments (``#Asystole`` / ``#False alarm``) -> alarm type and truth."""
    labels: dict[str, Any] = {"comments": [c.strip() for c in comments]}
    for c in labels["comments"]:
        low = c.lower()
        if low in ("true alarm", "false alarm"):
            labels["true_alarm"] = int(low == "true alarm")
        elif c and ":" not in c and not low.startswith("produced by"):
            labels.setdefault("alarm", c)
    return labels


def _read_multisegment(record_path: Path, header: Any) -> tuple[dict, dict, dict, list[str]]:
    """Concatenate a multi-segment record on its master timeline (NaN gaps, NaN for absent channels)."""
    total = int(header.sig_len)
    base_fs = float(header.fs)
    pieces: list[tuple[int, dict, dict, dict]] = []
    comments: list[str] = list(header.comments or [])
    offset = 0
    for name, length in zip(header.seg_name, header.seg_len, strict=True):
        length = int(length)
        if name != "~" and length > 0:
            sig, fs, units, seg_header = read_single_segment(record_path.parent / name)
            if float(seg_header.fs) != base_fs:
                raise DatasetError(
                    f"{record_path.parent / name}.hea: frame rate {seg_header.fs} Hz differs from "
                    f"master {record_path}.hea ({base_fs} Hz)"
                )
            pieces.append((offset, sig, fs, units))
            comments += list(seg_header.comments or [])
        offset += length
    if offset != total:
        raise DatasetError(f"{record_path}.hea: segment lengths sum to {offset}, master declares {total}")
    signals: dict[str, np.ndarray] = {}
    fs_all: dict[str, float] = {}
    units_all: dict[str, str] = {}
    for start, sig, fs, units in pieces:
        for ch, x in sig.items():
            if ch not in signals:
                fs_all[ch], units_all[ch] = fs[ch], units[ch]
                signals[ch] = np.full(int(round(total * fs[ch] / base_fs)), np.nan)
            elif fs_all[ch] != fs[ch]:
                raise DatasetError(f"{record_path}: channel {ch!r} changes rate between segments")
            i0 = int(round(start * fs[ch] / base_fs))
            signals[ch][i0 : i0 + len(x)] = x
    return signals, fs_all, units_all, comments


def read_record(
    record_path: str | Path,
    channels: str = "canonical",
    source: str = "icu",
    subject_id: str | None = None,
    record_id: str | None = None,
) -> Recording:
    """One ICU waveform record (single- or multi-segment, single- or multi-rate) as a Recording.

    Args:
        record_path: path without extension (``.../a103l``).
        channels: ``"canonical"`` keeps ``ecg_ii``/``ecg_v``/``ppg`` (those present);
            ``"all"`` keeps every channel under its header name.
    """
    record_path = Path(record_path)
    header = read_header(record_path)
    if getattr(header, "n_seg", None):
        signals, fs, units, comments = _read_multisegment(record_path, header)
    else:
        signals, fs, units, h = read_single_segment(record_path)
        comments = list(h.comments or [])
    signals, fs, units, mapping = _to_output(signals, fs, units, str(record_path), channels)
    if channels == "canonical":
        absent = [c for c in CANONICAL if c not in signals]
        if absent:
            warn(f"{record_path}.hea: no channel for {absent} (channels {list(header.sig_name or [])})")
    report_nans(signals, fs, str(record_path))
    rid = record_id or record_path.name
    return Recording(record_id=rid, subject_id=subject_id or rid, source=source, signals=signals, fs=fs,
                     units=units, labels=_alarm_labels(comments),
                     meta={"path": str(record_path), "channel_source": mapping})


# --------------------------------------------------------------------------- matched waveform databases


def _start(header: Any) -> dt.datetime | None:
    if header.base_date is None or header.base_time is None:
        return None
    return dt.datetime.combine(header.base_date, header.base_time)


def segment_index(master: Path, subject_id: str, require: Sequence[str]) -> tuple[list[dict], list[str]]:
    """Rows (one per non-gap segment with all ``require``d canonical channels) and the skipped segments."""
    header = read_header(master)
    start = _start(header)
    if not getattr(header, "n_seg", None):  # a single-segment record is its own only segment
        names, lens, seg_dir = [master.name], [int(header.sig_len)], master.parent
    else:
        names, lens, seg_dir = list(header.seg_name), [int(n) for n in header.seg_len], master.parent
    rows, skipped = [], []
    offset = 0
    for name, length in zip(names, lens, strict=True):
        if name == "~" or length == 0 or name.endswith("_layout"):
            offset += length
            continue
        seg = read_header(seg_dir / name)
        present = pick_channels(seg.sig_name or [])
        lacking = [c for c in require if c not in present]
        if lacking:
            skipped.append(f"{seg_dir / name}.hea lacks {lacking}")
        else:
            rows.append(
                {
                    "record_id": f"{subject_id}/{name}",
                    "subject_id": subject_id,
                    "path": str(seg_dir / name),
                    "master": master.name,
                    "offset_s": offset / float(header.fs),
                    "master_start": start,
                    "duration_s": length / float(header.fs),
                    "channels": ";".join(f"{k}={v}" for k, v in present.items()),
                }
            )
        offset += length
    return rows, skipped


def load_matched(
    root: Path,
    source: str,
    masters: list[tuple[Path, str]],
    require: Sequence[str],
    min_duration_s: float,
    channels: str,
) -> RecordingSet:
    """RecordingSet of the segments of matched-waveform master records ``[(path, subject_id), ...]``."""
    unknown = [c for c in require if c not in CANONICAL]
    if unknown:
        raise ValueError(f"{source}: require must name channels among {CANONICAL}, got {unknown}")
    if not masters:
        raise FileNotFoundError(f"{root}: no {source} waveform records found")
    rows, skipped = [], []
    for master, subject in tqdm(masters, desc=f"{source}: headers", leave=False, disable=len(masters) < 50):
        r, s = segment_index(master, subject, require)
        rows += r
        skipped += s
    if skipped:
        warn(
            f"{source}: {len(skipped)} segment(s) lack required channel(s) and are excluded "
            f"(e.g. {'; '.join(skipped[:3])})"
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "record_id",
            "subject_id",
            "path",
            "master",
            "offset_s",
            "master_start",
            "duration_s",
            "channels",
        ],
    )
    # start_time: seconds since the subject's first master record (offset within the master if undated),
    # taken before the duration filter so it does not depend on which segments are kept
    first = table.groupby("subject_id")["master_start"].transform("min")
    delta = [(s - f).total_seconds() if pd.notna(s) and pd.notna(f) else 0.0
             for s, f in zip(table["master_start"], first)]
    table["start_time"] = table["offset_s"].astype(float) + np.asarray(delta, dtype=float)
    short = (table["duration_s"] < min_duration_s).to_numpy(bool)
    if short.any():
        warn(
            f"{source}: {int(short.sum())} of {len(table)} segment(s) are shorter than min_duration_s="
            f"{min_duration_s:g} s and are excluded (e.g. {'; '.join(table.loc[short, 'path'].head(3))})"
        )
    table = table[~short].drop(columns=["master_start"]).reset_index(drop=True)
    # counted in the funnel of every store built from this set (physiofm.store)
    excluded = {k: n for k, n in (("missing_channel", len(skipped)), ("short_record", int(short.sum()))) if n}

    def load_row(row: pd.Series) -> Recording:
        rec = read_record(
            row["path"],
            channels=channels,
            source=source,
            subject_id=row["subject_id"],
            record_id=row["record_id"],
        )
        rec.start_time = float(row["start_time"])
        rec.meta["master"] = row["master"]
        return rec

    return RecordingSet(
        source, table, load_row,
        info={"root": str(root), "require": list(require), "tasks": {}, "excluded": excluded},
    )


def find_masters(root: Path, accept: Callable[[Path], bool]) -> list[Path]:
    return sorted(p.with_suffix("") for p in root.rglob("*.hea") if accept(p))


def subject_masters(
    root: Path,
    accept: Callable[[Path], bool],
    subject_of: Callable[[Path], str],
    subjects: Sequence[str] | None,
) -> list[tuple[Path, str]]:
    """``[(master record path, subject_id), ...]`` for :func:`load_matched`, kept to ``subjects`` if given."""
    wanted = set(subjects) if subjects is not None else None
    pairs = [(m, subject_of(m)) for m in find_masters(root, accept)]
    return [(m, s) for m, s in pairs if wanted is None or s in wanted]
