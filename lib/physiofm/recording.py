"""The one in-memory form every data source hands to preprocessing: real loaders and synthetic cohorts alike.

A :class:`Recording` is a multi-rate, multi-channel stretch of signal from one subject, in physical units,
with record-level labels and time-stamped annotations. A :class:`RecordingSet` is a lazily loaded,
indexable collection of recordings plus one row per record in a pandas table, so that ``len()`` is the
number of records and the table can be filtered before any signal is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

ANNOTATION_COLUMNS = ("onset", "duration")


@dataclass
class Recording:
    """One record of one subject.

    Attributes:
        record_id: unique within its source, e.g. ``"p000020/3544749_0001"`` or ``"HR06000"``.
        subject_id: patient identifier; splits never put one subject in two partitions.
        source: dataset registry name (``"mimic3_wave"``, ``"vitaldb"``, ``"synthetic_icu"``, ...).
        signals: channel name -> 1-D float array ``(T_c,)`` in physical units (mV for ECG).
            Channels may have different lengths when their rates differ. NaN marks invalid samples.
        fs: channel name -> sampling rate in Hz.
        units: channel name -> physical unit string (``"mV"``, ``"uV"``, ``"NU"``).
        start_time: seconds since the start of the subject's first record (0 when unknown).
        labels: record-level labels and attributes (age, sex, diagnosis codes, ...).
        annotations: optional table of time-stamped events with columns ``onset`` (s, from the record
            start) and ``duration`` (s) plus one column per annotated quantity (sleep stage, activity,
            heart rate, alarm, ...). Segmentation gives each window the row covering its centre.
        meta: anything else worth keeping (file path, header comments, ...).
    """

    record_id: str
    subject_id: str
    source: str
    signals: dict[str, np.ndarray]
    fs: dict[str, float]
    units: dict[str, str] = field(default_factory=dict)
    start_time: float = 0.0
    labels: dict[str, Any] = field(default_factory=dict)
    annotations: pd.DataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = set(self.signals) - set(self.fs)
        if missing:
            raise ValueError(f"record {self.record_id}: no sampling rate for channel(s) {sorted(missing)}")
        for name, x in self.signals.items():
            if np.ndim(x) != 1:
                raise ValueError(
                    f"record {self.record_id}: channel {name!r} must be 1-D, got shape {np.shape(x)}"
                )
            if not self.fs[name] > 0:
                raise ValueError(
                    f"record {self.record_id}: channel {name!r} has sampling rate {self.fs[name]}"
                )
        if self.annotations is not None:
            absent = [c for c in ANNOTATION_COLUMNS if c not in self.annotations.columns]
            if absent:
                raise ValueError(f"record {self.record_id}: annotations lack column(s) {absent}")

    @property
    def channels(self) -> list[str]:
        return list(self.signals)

    def duration(self, channel: str | None = None) -> float:
        """Length in seconds of one channel, or of the shortest channel when ``channel`` is None."""
        names = [channel] if channel is not None else self.channels
        return min(len(self.signals[c]) / self.fs[c] for c in names)


class RecordingSet(Sequence[Recording]):
    """A lazily loaded collection: ``records`` has one row per record, ``load_fn(row)`` reads it.

    ``records`` must hold at least ``record_id`` and ``subject_id`` columns; loaders add label and
    metadata columns (age, sex, split, ...). Indexing returns a :class:`Recording`; slicing and
    :meth:`subset` return a smaller ``RecordingSet`` without reading any signal.

    ``info["excluded"]``, when a loader sets it: reason -> how many records it found but left out (a
    required channel missing, shorter than asked). A store built from the set counts them in its funnel, as
    drops into its ``records`` stage, so no record a loader could not use vanishes silently. A subset is
    the caller's own selection and carries no exclusions.
    """

    def __init__(
        self,
        name: str,
        records: pd.DataFrame,
        load_fn: Callable[[pd.Series], Recording],
        info: dict[str, Any] | None = None,
    ) -> None:
        for col in ("record_id", "subject_id"):
            if col not in records.columns:
                raise ValueError(f"{name}: records table lacks column {col!r}")
        self.name = name
        self.records = records.reset_index(drop=True)
        self._load_fn = load_fn
        self.info = dict(info or {})

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return self.subset(self.records.index[i])
        return self._load_fn(self.records.iloc[i])

    def __iter__(self) -> Iterator[Recording]:
        for i in range(len(self)):
            yield self[i]

    def subset(self, rows: Sequence[int] | np.ndarray | pd.Index) -> RecordingSet:
        """Rows by position (or a boolean mask over ``records``)."""
        rows = np.asarray(rows)
        picked = self.records[rows] if rows.dtype == bool else self.records.iloc[rows]
        info = {k: v for k, v in self.info.items() if k != "excluded"}
        return RecordingSet(self.name, picked, self._load_fn, info)

    @classmethod
    def from_list(
        cls,
        name: str,
        recordings: list[Recording],
        records: pd.DataFrame | None = None,
        info: dict[str, Any] | None = None,
    ) -> RecordingSet:
        """Wrap recordings already in memory (synthetic cohorts)."""
        by_id = {r.record_id: r for r in recordings}
        if records is None:
            records = pd.DataFrame(
                [
                    {
                        "record_id": r.record_id,
                        "subject_id": r.subject_id,
                        **{k: v for k, v in r.labels.items() if np.isscalar(v)},
                    }
                    for r in recordings
                ]
            )
        return cls(name, records, lambda row: by_id[row["record_id"]], info)

    def __repr__(self) -> str:
        n_subjects = self.records['subject_id'].nunique()
        return f"RecordingSet({self.name!r}, {len(self)} records, {n_subjects} subjects)"
