"""What every synthetic cohort returns, and the seeding that makes it reproducible.

A cohort is generated in two steps. The *plan* (latent attributes, beat times, hypnogram, events,
annotations) is drawn up front, because the label tables need it; the *signals* are rendered lazily,
one record at a time, when the :class:`~physiofm.recording.RecordingSet` is indexed, so that a
2,000-record 12-lead cohort never sits in memory at once. Every random draw comes from a generator
seeded by ``(seed, cohort, record, purpose)``, so the same seed gives identical arrays whatever the
order in which records are read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from physiofm.recording import Recording, RecordingSet

_STREAMS = {"icu": 1, "ecg12": 2, "psg": 3}
_PURPOSES = {"subjects": 0, "plan": 1, "render": 2, "artefacts": 3, "split": 4}


def rng_for(seed: int, cohort: str, index: int, purpose: str) -> np.random.Generator:
    """Independent generator for one (cohort, record, purpose); ``index=-1`` is cohort-wide."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"synthetic {cohort}: seed must be a non-negative int, got {seed!r}")
    return np.random.default_rng([int(seed), _STREAMS[cohort], int(index) + 1, _PURPOSES[purpose]])


@dataclass
class Cohort:
    """A synthetic cohort in the same form the real loaders produce.

    Attributes:
        name: source name written into every recording (``"synthetic_icu"``, ...).
        recordings: lazily rendered :class:`RecordingSet`; ``records`` holds the record-level labels.
        subjects: one row per subject: latent attributes and subject-level labels.
        labels: one row per labelled stretch of signal (``record_id``, ``subject_id``, ``onset`` (s),
            ``duration`` (s) + label columns) — the concatenation of every recording's annotations.
            For the 12-lead cohort, whose records are one 10-s label each, it is the record table.
        events: exact time-stamped events (artefacts, alarms, arousals, spindles, ...) with
            ``record_id``, ``onset``, ``duration``, ``kind`` and, where it applies, ``channel``.
        info: channel names, sampling rates and the documented information structure.
    """

    name: str
    recordings: RecordingSet
    subjects: pd.DataFrame
    labels: pd.DataFrame
    events: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.recordings)

    def head(self, n: int) -> Cohort:
        """The first ``n`` records as a cohort (its tables cut to match)."""
        rs = self.recordings.subset(np.arange(min(n, len(self.recordings))))
        ids, subjects = set(rs.records["record_id"]), set(rs.records["subject_id"])
        return replace(self, recordings=rs,
                       subjects=self.subjects[self.subjects["subject_id"].isin(subjects)],
                       labels=self.labels[self.labels["record_id"].isin(ids)],
                       events=self.events[self.events["record_id"].isin(ids)])

    def __repr__(self) -> str:
        return (
            f"Cohort({self.name!r}, {len(self.recordings)} records, {len(self.subjects)} subjects, "
            f"{len(self.labels)} label rows)"
        )


def plan_tables(plans: dict[str, Any], labels: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A cohort's label and event tables from its records' plans: every plan's ``labels`` table (blocks,
    epochs) with ``record_id`` and ``subject_id``, and its ``events`` with ``subject_id``."""
    tables = [getattr(p, labels).assign(record_id=p.record_id, subject_id=p.subject_id)
              for p in plans.values()]
    parts = [p.events.assign(subject_id=p.subject_id) for p in plans.values() if len(p.events)]
    empty = next(iter(plans.values())).events.assign(subject_id="")
    return pd.concat(tables, ignore_index=True), pd.concat(parts, ignore_index=True) if parts else empty


class LazyLoader:
    """Picklable ``load_fn`` for a RecordingSet: renders record ``i`` from its plan on demand.

    A plain object (not a lambda) so that a store builder may send it to worker processes.
    """

    def __init__(self, plans: dict[str, Any], render: Callable[[Any], Recording]) -> None:
        self.plans = plans
        self.render = render

    def __call__(self, row: pd.Series) -> Recording:
        return self.render(self.plans[row["record_id"]])


def block_edges(duration_s: float, block_s: float) -> np.ndarray:
    """Onsets (s) of the whole ``block_s`` blocks that fit in ``duration_s``."""
    return np.arange(int(duration_s // block_s)) * block_s


def check_positive(name: str, **values: float) -> None:
    for key, v in values.items():
        if not v > 0:
            raise ValueError(f"synthetic {name}: {key} must be > 0, got {v!r}")
