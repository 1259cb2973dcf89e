"""Recordings from a params source: a built-in synthetic cohort, a registry dataset, or several as one.

* :func:`cohort`: the :func:`physiofm.synthetic.icu_cohort` a :class:`~physiofm.sections.CohortSection`
  describes; :func:`psg`: the :func:`physiofm.synthetic.psg_cohort` of a
  :class:`~physiofm.sections.PsgCohortSection`;
* :func:`recordings`: the recording set of a :data:`~physiofm.sections.Source`, renamed to the source's
  name (record and subject ids prefixed with it, so two cohorts drawn with different seeds never share a
  subject in a split);
* :func:`load_dataset`: ``physiofm.datasets.load`` from ``data_root / subdir`` with a clear error when the
  root is missing;
* :func:`chain`: several recording sets as one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from physiofm import datasets
from physiofm.recording import Recording, RecordingSet
from physiofm.sections import (
    CohortSection,
    PsgCohortSection,
    RegistrySource,
    SyntheticPsgSource,
    SyntheticSource,
    UnavailableSource,
)
from physiofm.synthetic import ArtefactRates, icu_cohort, psg_cohort


def cohort(c: CohortSection, n_subjects: int | None = None):
    """The :class:`~physiofm.synthetic.Cohort` of a cohort section (optionally with fewer subjects)."""
    rates = ArtefactRates(mains_hz=float(c.mains_hz), scale=c.artefact_scale)
    return icu_cohort(n_subjects or c.n_subjects, c.seed, duration_s=c.duration_s, v_lead=c.v_lead,
                      alarms_per_hour=c.alarms_per_hour, artefacts=rates)


def psg(c: PsgCohortSection):
    """The :class:`~physiofm.synthetic.Cohort` of a PSG cohort section."""
    return psg_cohort(c.n_subjects, c.seed, hours=c.hours, arousal_fraction=c.arousal_fraction)


def load_dataset(spec: RegistrySource, data_root: Path | None) -> RecordingSet:
    """``physiofm.datasets.load(spec.dataset, data_root / spec.subdir, **spec.options)``."""
    if data_root is None:
        raise ValueError(f"source {spec.name!r} reads dataset {spec.dataset!r} from disk: run with "
                         f"--data-root pointing at the folder that holds {spec.subdir!r}")
    return datasets.load(spec.dataset, Path(data_root) / spec.subdir, **spec.options)


class _Renamed:
    """Picklable ``load_fn``: the wrapped set's recording under this source's name and subject ids."""

    def __init__(self, inner: RecordingSet, source: str) -> None:
        self.inner, self.source = inner, source
        self.by_id = {rid: i for i, rid in enumerate(inner.records["record_id"])}

    def __call__(self, row: pd.Series) -> Recording:
        rec = self.inner[self.by_id[row["inner_record_id"]]]
        ids = {"record_id": f"{self.source}/{rec.record_id}", "subject_id": f"{self.source}/{rec.subject_id}",
               "source": self.source}
        # labels are copied into the segment index after the ids, so a label named like an id must agree
        labels = {k: ids.get(k, v) for k, v in rec.labels.items()}
        return dataclasses.replace(rec, labels=labels, **ids)


def renamed(recordings: RecordingSet, source: str) -> RecordingSet:
    """``recordings`` with ``source`` set and record / subject ids prefixed by it."""
    table = recordings.records.rename(columns={"record_id": "inner_record_id"}).copy()
    table["record_id"] = source + "/" + table["inner_record_id"].astype(str)
    table["subject_id"] = source + "/" + table["subject_id"].astype(str)
    return RecordingSet(source, table, _Renamed(recordings, source), recordings.info)


def recordings(spec: SyntheticSource | SyntheticPsgSource | RegistrySource | UnavailableSource,
               data_root: Path | None = None) -> RecordingSet:
    """The recording set of a source, renamed to ``spec.name``."""
    if spec.kind == "synthetic_icu":
        return renamed(cohort(spec).recordings, spec.name)
    if spec.kind == "synthetic_psg":
        return renamed(psg(spec).recordings, spec.name)
    if spec.kind == "registry":
        return renamed(load_dataset(spec, data_root), spec.name)
    raise ValueError(f"source {spec.name!r} is marked unavailable ({spec.reason}); it cannot be read")


def chain(name: str, sets: Sequence[RecordingSet]) -> RecordingSet:
    """Several recording sets as one (records tables stacked; each row still loads from its own set)."""
    tables = [s.records.assign(_set=i, _pos=np.arange(len(s))) for i, s in enumerate(sets)]
    empty = pd.DataFrame(columns=["record_id", "subject_id"])
    table = pd.concat(tables, ignore_index=True) if tables else empty
    return RecordingSet(name, table, _Chained(list(sets)))


class _Chained:
    """Picklable ``load_fn`` of :func:`chain`."""

    def __init__(self, sets: list[RecordingSet]) -> None:
        self.sets = sets

    def __call__(self, row: pd.Series) -> Recording:
        return self.sets[int(row["_set"])][int(row["_pos"])]
