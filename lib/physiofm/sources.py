"""Recordings from a params source: a built-in synthetic cohort, a registry dataset, or several as one.

* :func:`cohort`: the :func:`physiofm.synthetic.icu_cohort` a :class:`~physiofm.sections.CohortSection`
  describes; :func:`ecg12` the :func:`physiofm.synthetic.ecg12_cohort` of an
  :class:`~physiofm.sections.Ecg12CohortSection` (:func:`cohort` also takes a
  :class:`~physiofm.sections.PsgCohortSection`);
* :func:`recordings`: the recording set of a :data:`~physiofm.sections.Source`, renamed to the source's
  name (record and subject ids prefixed with it, so two cohorts drawn with different seeds never share a
  subject in a split);
* :func:`load_dataset`: ``physiofm.datasets.load`` from ``data_root / subdir`` with a clear error when the
  root is missing;
* :func:`chain`: several recording sets as one.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from physiofm import datasets
from physiofm.recording import Recording, RecordingSet
from physiofm.sections import (
    CohortSection,
    Ecg12CohortSection,
    PsgCohortSection,
    RegistrySource,
    SyntheticEcg12Source,
    SyntheticPsgSource,
    SyntheticSource,
    UnavailableSource,
)
from physiofm.synthetic import ArtefactRates, ecg12_cohort, icu_cohort, psg_cohort
from physiofm.synthetic.ecg12_layouts import with_layout


def cohort(c: CohortSection | PsgCohortSection | Ecg12CohortSection, n_subjects: int | None = None):
    """The :class:`~physiofm.synthetic.Cohort` of a cohort section (optionally with fewer subjects): the ICU
    cohort of a :class:`CohortSection`, the PSG or 12-lead cohort of theirs, with the section's knobs."""
    n = n_subjects or c.n_subjects
    if isinstance(c, PsgCohortSection):
        return psg_cohort(n, c.seed, hours=c.hours, arousal_fraction=c.arousal_fraction, effects=c.effects)
    if isinstance(c, Ecg12CohortSection):
        return ecg12(c, n)
    rates = ArtefactRates(mains_hz=float(c.mains_hz), scale=c.artefact_scale)
    return icu_cohort(n, c.seed, duration_s=c.duration_s, v_lead=c.v_lead,
                      alarms_per_hour=c.alarms_per_hour, artefacts=rates, effects=c.effects)


def ecg12(c: Ecg12CohortSection, n_subjects: int | None = None):
    """The :class:`~physiofm.synthetic.Cohort` of a 12-lead cohort section (optionally fewer subjects)."""
    base, k = ArtefactRates(), c.noise_scale
    rates = ArtefactRates(baseline_mv=(base.baseline_mv[0] * k, base.baseline_mv[1] * k),
                          powerline_mv=(base.powerline_mv[0] * k, base.powerline_mv[1] * k),
                          white_mv=base.white_mv * k)
    return ecg12_cohort(n_subjects or c.n_subjects, c.seed, c.records_per_subject, rates, effects=c.effects)


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


def recordings(spec: SyntheticSource | SyntheticEcg12Source | SyntheticPsgSource | RegistrySource
               | UnavailableSource,
               data_root: Path | None = None) -> RecordingSet:
    """The recording set of a source, renamed to ``spec.name`` (a 12-lead cohort in its label layout)."""
    if spec.kind == "synthetic_icu":
        return renamed(cohort(spec).recordings, spec.name)
    if spec.kind == "synthetic_ecg12":
        return renamed(with_layout(ecg12(spec), spec.layout), spec.name)
    if spec.kind == "synthetic_psg":
        return renamed(cohort(spec).recordings, spec.name)
    if spec.kind == "registry":
        return renamed(load_dataset(spec, data_root), spec.name)
    raise ValueError(f"source {spec.name!r} is marked unavailable ({spec.reason}); it cannot be read")


def chain(name: str, sets: Sequence[RecordingSet]) -> RecordingSet:
    """Several recording sets as one (records tables stacked; each row still loads from its own set; the
    records the loaders left out, ``info["excluded"]``, added up)."""
    tables = [s.records.assign(_set=i, _pos=np.arange(len(s))) for i, s in enumerate(sets)]
    empty = pd.DataFrame(columns=["record_id", "subject_id"])
    table = pd.concat(tables, ignore_index=True) if tables else empty
    excluded: Counter = sum((Counter(s.info.get("excluded") or {}) for s in sets), Counter())
    return RecordingSet(name, table, _Chained(list(sets)), {"excluded": dict(excluded)} if excluded else {})


class _Chained:
    """Picklable ``load_fn`` of :func:`chain`."""

    def __init__(self, sets: list[RecordingSet]) -> None:
        self.sets = sets

    def __call__(self, row: pd.Series) -> Recording:
        return self.sets[int(row["_set"])][int(row["_pos"])]
