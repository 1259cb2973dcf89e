"""Windowing and quality control: recordings -> fixed-length raw windows, with a funnel of what was dropped.

The path for one record (:func:`segment_record`):

1. every required channel must be present (else the record is dropped: ``missing_channel``);
2. NaN gaps up to ``max_gap_s`` are interpolated; longer gaps split the record into *valid spans*, the
   stretches where all required channels are valid at once; spans shorter than ``min_duration_s`` are
   dropped (``short_span``; SyneCo keeps only >= 10 min of continuous recording);
3. each span is tiled from its start with non-overlapping ``window_s`` windows;
4. window QC on the raw samples: more than ``max_flatline`` of samples equal to their predecessor, within
   a value held for at least ``flat_min_s``, in any channel (``flatline``), or more than ``max_invalid`` of
   samples that were NaN before interpolation (``invalid``);
5. a per-record cap keeps a seeded random subset (``record_cap``); :func:`cap_per_subject` applies the
   per-subject cap across records (``subject_cap``).

Each window carries the record's scalar labels and the annotation row that matches it (:func:`annotation_at`).
:class:`Funnel` counts every stage and every drop by reason, and renders as a table.

**A missing label value is NaN** (``float("nan")``) in every label column of every segment index, whatever
the column's dtype and under pandas 2.x and 3.x alike: never ``None``, ``pd.NA`` or ``NaT``. A window no
annotation covers, a record whose label is ``None`` and a record that lacks a column other records have all
read NaN. Why NaN: a numeric column can hold nothing else, and pandas 3's default string dtype stores a
missing string as NaN, so NaN is the one marker both versions share, while ``None`` survives only in pandas
2's object columns (mixing the two markers in one column and making ``x is None`` version-dependent).
:class:`Segments` applies :func:`missing_as_nan` to every index it holds; test with ``pd.isna`` / ``notna``.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from physiofm.recording import ANNOTATION_COLUMNS, Recording
from physiofm.signals import flatline_fraction, interpolate_gaps, valid_intervals

STAGES = ("records", "valid_spans", "windows", "after_qc", "after_caps")


@dataclass
class Funnel:
    """Counts per stage (records -> valid spans -> windows -> after QC -> after caps) and drops by reason.

    ``counts[stage]`` is how many items reached that stage; ``dropped[(stage, reason)]`` how many were
    removed on the way *into* that stage. Funnels add up (``a + b``), so parallel workers can each keep
    one and the builder sums them.
    """

    counts: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)
    span_seconds: float = 0.0

    def add(self, stage: str, n: int = 1) -> None:
        self.counts[stage] += n

    def drop(self, stage: str, reason: str, n: int = 1) -> None:
        if n:
            self.dropped[(stage, reason)] += n

    def __add__(self, other: Funnel) -> Funnel:
        return Funnel(self.counts + other.counts, self.dropped + other.dropped,
                      self.span_seconds + other.span_seconds)

    def table(self) -> pd.DataFrame:
        """One row per stage: ``stage``, ``count``, ``dropped`` (into this stage) and ``reasons``."""
        rows = []
        for stage in STAGES:
            reasons = {r: n for (s, r), n in sorted(self.dropped.items()) if s == stage}
            rows.append({"stage": stage, "count": int(self.counts.get(stage, 0)),
                         "dropped": int(sum(reasons.values())),
                         "reasons": ", ".join(f"{r}: {n}" for r, n in reasons.items())})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return {"counts": dict(self.counts), "span_seconds": self.span_seconds,
                "dropped": [[s, r, int(n)] for (s, r), n in self.dropped.items()]}

    @classmethod
    def from_dict(cls, d: Mapping) -> Funnel:
        return cls(Counter(d["counts"]), Counter({(s, r): n for s, r, n in d["dropped"]}),
                   float(d.get("span_seconds", 0.0)))


def missing_as_nan(index: pd.DataFrame) -> pd.DataFrame:
    """``index`` (changed in place and returned) with every missing value of an object column as NaN.

    Numeric columns and pandas 3's string columns already hold NaN; an object column (strings or mixed
    values under pandas 2, booleans with gaps) may hold ``None``, ``pd.NA`` or ``NaT`` instead.
    """
    for col in index.columns:
        if index[col].dtype != object:
            continue
        missing = index[col].isna().to_numpy()
        values = index[col].to_numpy(dtype=object)
        if not all(isinstance(v, float) for v in values[missing]):  # a NaN is a float; None, NA, NaT not
            values = values.copy()
            values[missing] = np.nan
            index[col] = pd.Series(values, index=index.index, dtype=object)
    return index


@dataclass
class Segments:
    """Fixed-length windows of many records: arrays per channel group plus one index row per window.

    Attributes:
        arrays: group name -> ``(N, C, T)`` array (raw windows: one group per required channel, C = 1).
        index: ``N`` rows: ``subject_id``, ``record_id``, ``source``, ``offset_s`` (window start from the
            record start, s), ``start_time`` (from the subject's first record, s), record labels and the
            covering annotation's columns; a missing label value is NaN (see the module docstring).
        fs: group name -> sampling rate in Hz.
        funnel: the counts that led here.
    """

    arrays: dict[str, np.ndarray]
    index: pd.DataFrame
    fs: dict[str, float]
    funnel: Funnel = field(default_factory=Funnel)

    def __post_init__(self) -> None:
        missing_as_nan(self.index)
        for name, a in self.arrays.items():
            if a.ndim != 3 or len(a) != len(self.index):
                raise ValueError(f"Segments: group {name!r} has shape {a.shape}; expected "
                                 f"({len(self.index)}, C, T)")

    def __len__(self) -> int:
        return len(self.index)

    def select(self, keep: np.ndarray) -> Segments:
        """Rows by boolean mask or positions (the funnel is kept as is)."""
        return Segments({k: a[keep] for k, a in self.arrays.items()},
                        self.index[keep].reset_index(drop=True) if np.asarray(keep).dtype == bool
                        else self.index.iloc[keep].reset_index(drop=True), dict(self.fs), self.funnel)

    @classmethod
    def concat(cls, parts: Sequence[Segments], funnel: Funnel | None = None) -> Segments:
        """Stack parts with the same groups, shapes and rates; parts with no windows are skipped."""
        full = [p for p in parts if len(p)]
        if funnel is None:  # parts from one segment_recordings call share a funnel: count it once
            unique = {id(p.funnel): p.funnel for p in parts}
            funnel = (sum(unique.values(), Funnel()) if len(unique) > 1
                      else next(iter(unique.values()), Funnel()))
        if not full:
            return cls({}, pd.DataFrame(), {}, funnel)
        first = full[0]
        for p in full[1:]:
            if p.fs != first.fs or {k: a.shape[1:] for k, a in p.arrays.items()} != {
                    k: a.shape[1:] for k, a in first.arrays.items()}:
                raise ValueError(f"Segments.concat: record {p.index['record_id'].iloc[0]!r} has rates "
                                 f"{p.fs} / shapes differing from {first.fs}; resample before stacking")
        arrays = {k: np.concatenate([p.arrays[k] for p in full]) for k in first.arrays}
        index = pd.concat([p.index for p in full], ignore_index=True)
        return cls(arrays, index, dict(first.fs), funnel)


def resolve_channels(rec: Recording, channels: Mapping[str, str | Sequence[str]]) -> dict[str, str] | None:
    """Group name -> the record's channel name, taking the first alias present; None if one is missing."""
    out = {}
    for group, names in channels.items():
        names = (names,) if isinstance(names, str) else tuple(names)
        hit = next((n for n in names if n in rec.signals), None)
        if hit is None:
            return None
        out[group] = hit
    return out


def _intersect(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _with_gaps(values: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """``values`` with NaN where not ``covered``: numbers become float, anything else object."""
    out = values.astype(np.float64 if values.dtype.kind in "iuf" else object)
    out[~covered] = np.nan
    return out


def annotation_at(annotations: pd.DataFrame | None, t: np.ndarray) -> pd.DataFrame:
    """For each time ``t`` (s from record start; a window's centre), the label columns of the annotation row
    that matches it best: among the rows covering ``t``, the one whose own centre is nearest (the earlier one
    on a tie). Non-overlapping annotations (sleep epochs, 10-s blocks) have one row covering ``t``; for
    annotations that are overlapping windows themselves (PPG-DaLiA: 8-s heart-rate windows every 2 s) it is
    the row aligned with the window's own start. NaN in every column where no row covers ``t``."""
    if annotations is None or annotations.empty:
        return pd.DataFrame(index=range(len(t)))
    ann = annotations.sort_values("onset", kind="stable").reset_index(drop=True)
    onset, end = ann["onset"].to_numpy(float), (ann["onset"] + ann["duration"]).to_numpy(float)
    centre = (onset + end) / 2
    steps = np.diff(onset)
    overlap = len(ann) if not (steps > 0).any() else int(ann["duration"].max() / steps[steps > 0].min()) + 1
    row = np.searchsorted(onset, t, side="right") - 1  # the latest row starting at or before t
    best, gap = row.copy(), np.full(len(t), np.inf)
    for back in range(min(overlap, len(ann))):  # walk back over the rows that may still cover t
        j = row - back
        k = np.clip(j, 0, None)
        d = np.abs(centre[k] - t)
        better = (j >= 0) & (t < end[k]) & (d <= gap)  # <=: a tie goes to the earlier row, seen later
        best, gap = np.where(better, j, best), np.where(better, d, gap)
    covered = np.isfinite(gap)
    labels = ann.drop(columns=list(ANNOTATION_COLUMNS)).iloc[np.clip(best, 0, None)].reset_index(drop=True)
    if covered.all():
        return labels
    return pd.DataFrame({c: _with_gaps(labels[c].to_numpy(), covered) for c in labels.columns})


def _seed_for(key: str, seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


def cap_rows(groups: np.ndarray, cap: int, seed: int) -> np.ndarray:
    """Boolean mask keeping at most ``cap`` rows per group value: a seeded random subset, order kept."""
    keep = np.ones(len(groups), dtype=bool)
    values, inverse, counts = np.unique(groups.astype(str), return_inverse=True, return_counts=True)
    for g in np.flatnonzero(counts > cap):
        rows = np.flatnonzero(inverse == g)
        chosen = _seed_for(str(values[g]), seed).choice(len(rows), size=cap, replace=False)
        keep[rows] = False
        keep[rows[chosen]] = True
    return keep


def _cap_for(source: str, cap: int | Mapping[str, int] | None) -> int | None:
    if cap is None or isinstance(cap, int):
        return cap
    return cap.get(source, cap.get("*"))


def segment_record(rec: Recording, channels: Mapping[str, str | Sequence[str]], window_s: float, *,
                   min_duration_s: float = 0.0, max_gap_s: float = 0.0, max_flatline: float = 0.25,
                   max_invalid: float = 0.0, record_cap: int | Mapping[str, int] | None = None,
                   seed: int = 0, funnel: Funnel | None = None, flat_min_s: float = 1.0) -> Segments:
    """Raw non-overlapping windows of one record where every required channel is valid.

    Args:
        rec: the recording (NaN marks invalid samples).
        channels: group name -> channel name or aliases tried in order, e.g.
            ``{"ecg_ii": ("II", "ECG_II"), "ppg": ("PLETH",)}``.
        window_s: window length in s; ``window_s * fs`` is rounded to whole samples per channel.
        min_duration_s: shortest valid span kept (SyneCo: 600).
        max_gap_s: NaN runs up to this long are linearly interpolated; longer ones split spans.
        max_flatline: drop windows with a larger :func:`~physiofm.signals.flatline_fraction` in any channel.
        max_invalid: drop windows where a larger fraction of samples was NaN before interpolation.
        record_cap: most windows kept per record (an int, or a mapping source -> int with optional "*").
        seed: seeds the cap's random subset (with the record id).
        funnel: counts are added here (a new one when None); also attached to the result.
        flat_min_s: shortest held value (s) that counts as flat; shorter repeats are quantisation (a
            5-uV-step ECG lead at 250 Hz repeats ~25 % of its samples in runs of up to 60 ms).

    Returns:
        :class:`Segments` with one group per required channel, shaped ``(N, 1, round(window_s * fs))``,
        float32, at the record's own rates.
    """
    funnel = Funnel() if funnel is None else funnel
    funnel.add("records")
    names = resolve_channels(rec, channels)
    if names is None:
        funnel.drop("valid_spans", "missing_channel")
        return Segments({}, pd.DataFrame(), {}, funnel)
    fs = {g: float(rec.fs[c]) for g, c in names.items()}
    n_win = {g: int(round(window_s * f)) for g, f in fs.items()}
    filled, was_nan, spans = _valid_spans(rec, names, fs, max_gap_s, max(min_duration_s, window_s), funnel)
    starts, first = _tile(spans, window_s, fs, n_win, {g: len(x) for g, x in filled.items()})
    funnel.add("windows", len(starts))

    windows = {g: filled[g][first[g][:, None] + np.arange(n_win[g])] for g in names}
    invalid = ({g: was_nan[g][first[g][:, None] + np.arange(n_win[g])].mean(axis=1) for g in names}
               if max_invalid < 1.0 else None)
    # a held value counts as flat from flat_min_s on (at least two samples)
    min_run = {g: max(2, int(np.ceil(flat_min_s * fs[g] - 1e-9))) for g in names}
    keep = _window_qc(windows, invalid, max_flatline, max_invalid, min_run, funnel)
    keep = _record_cap(keep, rec, _cap_for(rec.source, record_cap), seed, funnel)

    index = _window_index(rec, starts[keep], window_s)
    arrays = {g: windows[g][keep][:, None, :].astype(np.float32) for g in names}
    return Segments(arrays, index, fs, funnel)


def _valid_spans(rec: Recording, names: Mapping[str, str], fs: Mapping[str, float], max_gap_s: float,
                 min_span_s: float, funnel: Funnel
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], list[tuple[float, float]]]:
    """Gap-filled channels, their pre-fill NaN masks, and the spans (s) valid in every channel at once
    that last at least ``min_span_s``; the shorter ones are counted as dropped."""
    filled, was_nan, spans = {}, {}, None
    for g, c in names.items():
        x = np.asarray(rec.signals[c], dtype=np.float64)
        was_nan[g] = np.isnan(x)
        filled[g] = interpolate_gaps(x, fs[g], max_gap_s)
        iv = [(s / fs[g], e / fs[g]) for s, e in valid_intervals(filled[g])]
        spans = iv if spans is None else _intersect(spans, iv)
    long_enough = [(a, b) for a, b in spans if b - a >= min_span_s]
    funnel.drop("valid_spans", "short_span", len(spans) - len(long_enough))
    if not spans:
        funnel.drop("valid_spans", "no_valid_samples")
    funnel.add("valid_spans", len(long_enough))
    funnel.span_seconds += sum(b - a for a, b in long_enough)
    return filled, was_nan, long_enough


def _tile(spans: list[tuple[float, float]], window_s: float, fs: Mapping[str, float],
          n_win: Mapping[str, int], n_samples: Mapping[str, int]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Window starts (s) tiling each span from its start, and each group's first sample per window."""
    tiles = [a + window_s * np.arange(int(np.floor((b - a) / window_s + 1e-9))) for a, b in spans]
    starts = np.concatenate(tiles) if tiles else np.zeros(0)
    # Window w of group g covers samples [i, i + n); ceil keeps the start inside the valid span.
    first = {g: np.ceil(starts * fs[g] - 1e-6).astype(np.int64) for g in fs}
    in_range = np.ones(len(starts), dtype=bool)
    for g in fs:
        in_range &= first[g] + n_win[g] <= n_samples[g]
    return starts[in_range], {g: i[in_range] for g, i in first.items()}


def _window_qc(windows: Mapping[str, np.ndarray], invalid: Mapping[str, np.ndarray] | None,
               max_flatline: float, max_invalid: float, min_run: Mapping[str, int],
               funnel: Funnel) -> np.ndarray:
    """Mask of windows passing QC in every group; each rejected window counts once, for its first reason
    in the order NaN left by a long gap, flatline, invalid fraction (``invalid``: per group, the fraction
    of each window's samples that were NaN before interpolation; None skips that check; ``min_run``: per
    group, the shortest run of a held value, in samples, that counts as flat)."""
    n = len(next(iter(windows.values()), ()))
    keep = np.ones(n, dtype=bool)
    reasons = Counter()
    checks = [("nan_gap", lambda g: np.isnan(windows[g]).any(axis=1)),  # a long gap met at a span edge
              ("flatline", lambda g: flatline_fraction(windows[g], min_run[g]) > max_flatline)]
    if invalid is not None:
        checks.append(("invalid", lambda g: invalid[g] > max_invalid))
    for reason, check in checks:
        for g in windows:
            bad = check(g)
            reasons[reason] += int((bad & keep).sum())
            keep &= ~bad
    for reason, count in reasons.items():
        funnel.drop("after_qc", reason, count)
    funnel.add("after_qc", int(keep.sum()))
    return keep


def _record_cap(keep: np.ndarray, rec: Recording, cap: int | None, seed: int, funnel: Funnel) -> np.ndarray:
    """``keep`` limited to a seeded random subset of ``cap`` windows (seeded by the record id)."""
    if cap is not None and keep.sum() > cap:
        kept = np.flatnonzero(keep)
        chosen = _seed_for(rec.record_id, seed).choice(len(kept), size=cap, replace=False)
        keep = np.zeros_like(keep)
        keep[kept[chosen]] = True
        funnel.drop("after_caps", "record_cap", len(kept) - cap)
    funnel.add("after_caps", int(keep.sum()))
    return keep


def _window_index(rec: Recording, starts: np.ndarray, window_s: float) -> pd.DataFrame:
    """One row per window: ids, ``offset_s``, ``start_time``, the record's scalar labels and the columns
    of the annotation covering the window's centre."""
    index = pd.DataFrame({"subject_id": str(rec.subject_id), "record_id": str(rec.record_id),
                          "source": str(rec.source), "offset_s": starts,
                          "start_time": float(rec.start_time) + starts})
    for k, v in rec.labels.items():
        if np.isscalar(v) or v is None:
            index[k] = np.nan if v is None else v
    ann = annotation_at(rec.annotations, starts + window_s / 2)
    for col in ann.columns:
        index[col] = ann[col].to_numpy()
    return index


def subject_cap_mask(index: pd.DataFrame, cap: int | Mapping[str, int] | None, seed: int = 0) -> np.ndarray:
    """Boolean mask over ``index`` rows keeping at most ``cap`` per subject (an int, or source -> int)."""
    keep = np.ones(len(index), dtype=bool)
    if cap is None or not len(index):
        return keep
    for source, rows in index.groupby("source").indices.items():
        c = _cap_for(str(source), cap)
        if c is not None:
            keep[rows] = cap_rows(index["subject_id"].to_numpy()[rows], c, seed)
    return keep


def cap_per_subject(segments: Segments, cap: int | Mapping[str, int] | None, seed: int = 0) -> Segments:
    """Keep at most ``cap`` windows per subject (an int or mapping source -> int); drops are counted."""
    keep = subject_cap_mask(segments.index, cap, seed)
    dropped = int((~keep).sum())
    if not dropped:
        return segments
    segments.funnel.drop("after_caps", "subject_cap", dropped)
    segments.funnel.add("after_caps", -dropped)
    return segments.select(keep)


def segment_recordings(recordings: Iterable[Recording], channels: Mapping[str, str | Sequence[str]],
                       window_s: float, *, subject_cap: int | Mapping[str, int] | None = None,
                       seed: int = 0, progress: bool = False, **kwargs) -> list[Segments]:
    """:func:`segment_record` over many records with one shared funnel; the subject cap is applied
    across each subject's records. Returns one :class:`Segments` per record (rates may differ), all
    carrying the same funnel; ``kwargs`` go to :func:`segment_record`."""
    from tqdm.auto import tqdm

    funnel = Funnel()
    parts = [segment_record(r, channels, window_s, seed=seed, funnel=funnel, **kwargs)
             for r in tqdm(recordings, desc="segment", disable=not progress)]
    if subject_cap is None:
        return parts
    # Cap on the joined index, then hand each record back its surviving rows.
    lengths = [len(p) for p in parts]
    if not any(lengths):
        return parts
    joined = pd.concat([p.index for p in parts if len(p)], ignore_index=True)
    keep = subject_cap_mask(joined, subject_cap, seed)
    dropped = int((~keep).sum())
    funnel.drop("after_caps", "subject_cap", dropped)
    funnel.add("after_caps", -dropped)
    bounds = np.cumsum([0] + lengths)
    return [p.select(keep[bounds[i]:bounds[i + 1]]) if len(p) else p for i, p in enumerate(parts)]
