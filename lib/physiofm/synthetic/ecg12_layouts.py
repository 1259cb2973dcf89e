"""The built-in 12-lead cohort in the label layouts of the real benchmark loaders.

:func:`physiofm.synthetic.ecg12_cohort` gives each record its SCP statements as lists (``superclass``,
``subclass``, ``form``, ``rhythm``, ``scp_codes``). The probe protocol reads one indicator column per class,
as the dataset loaders write them, so this module re-expresses a cohort's records in a loader's layout:

* :func:`ptbxl_layout` — :mod:`physiofm.datasets.ptbxl`'s: ``super_<c>``, ``sub_<c>``, ``form_<c>``,
  ``rhythm_<c>`` for every class of the cohort's statement table (a class without positives stays a zero
  column), ``n_<task>``, and ``split`` from ``strat_fold`` (1-8 train, 9 validation, 10 test, PTB-XL's
  recommended split);
* :func:`cpsc2018_layout` — :mod:`physiofm.datasets.cpsc2018`'s ``dx_<class>`` for the nine CPSC2018
  classes. The cohort's statements map onto seven of them (:data:`CPSC2018_FROM_STATEMENTS`); it never draws
  premature atrial contractions or ST elevation, so ``dx_PAC`` and ``dx_STE`` are zero columns. CPSC2018 holds
  only records with at least one of its classes: the task's filter is ``n_dx > 0``.

:func:`with_layout` returns the cohort's recordings with those columns in ``records`` and in each
:class:`~physiofm.recording.Recording`'s labels (so a segment store's index carries them) and the layout's
``info["tasks"]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from physiofm.recording import Recording, RecordingSet
from physiofm.synthetic.cohort import Cohort

PTBXL_TASKS = {"superdiagnostic": ("super_", "superclass"), "subdiagnostic": ("sub_", "subclass"),
               "form": ("form_", "form"), "rhythm": ("rhythm_", "rhythm")}
CPSC2018_CLASSES = ("NORM", "AF", "IAVB", "LBBB", "RBBB", "PAC", "PVC", "STD", "STE")


def _hot(lists: pd.Series, classes: list[str], prefix: str) -> pd.DataFrame:
    return pd.DataFrame({f"{prefix}{c}": lists.map(lambda ls, c=c: int(c in ls)).astype(np.int8)
                         for c in classes}, index=lists.index)


def ptbxl_layout(cohort: Cohort) -> tuple[pd.DataFrame, dict[str, dict]]:
    """PTB-XL's label columns and tasks for the cohort's records (one row per ``records`` row)."""
    records, statements = cohort.recordings.records, cohort.info["statements"]
    classes = {
        "superdiagnostic": list(cohort.info["superclasses"]),
        "subdiagnostic": sorted(statements["diagnostic_subclass"].dropna().unique()),
        "form": sorted(statements.index[statements["kind"] == "form"]),
        "rhythm": sorted(statements.index[statements["kind"] == "rhythm"]),
    }
    parts, tasks = [], {}
    for task, (prefix, column) in PTBXL_TASKS.items():
        parts.append(_hot(records[column], classes[task], prefix))
        parts.append(records[column].map(len).rename(f"n_{task}"))
        tasks[task] = {"type": "multilabel", "level": "record", "filter": f"n_{task} > 0",
                       "columns": [prefix + c for c in classes[task]]}
    fold = records["strat_fold"].astype(int)
    split = pd.Series(np.select([fold <= 8, fold == 9], ["train", "val"], "test"), index=records.index,
                      name="split")
    return pd.concat([*parts, split], axis=1), tasks


def _cpsc_classes(codes: Mapping[str, float], superclass: list[str], form: list[str],
                  rhythm: list[str]) -> list[str]:
    out = []
    if superclass == ["NORM"] and not form and rhythm == ["SR"]:
        out.append("NORM")  # CPSC2018's "Normal": sinus rhythm, normal ECG
    out += [cpsc for stmt, cpsc in CPSC2018_FROM_STATEMENTS.items()
            if stmt in codes or stmt in form or stmt in rhythm]
    return out


# Statement (cohort code) -> CPSC2018 class. NORM is a whole-record condition (see _cpsc_classes).
CPSC2018_FROM_STATEMENTS = {"AFIB": "AF", "1AVB": "IAVB", "CLBBB": "LBBB", "CRBBB": "RBBB", "PVC": "PVC",
                            "STD_": "STD"}


def cpsc2018_layout(cohort: Cohort) -> tuple[pd.DataFrame, dict[str, dict]]:
    """CPSC2018's ``dx_<class>`` columns, ``n_dx`` and the diagnosis task for the cohort's records."""
    r = cohort.recordings.records
    rows = zip(r["scp_codes"], r["superclass"], r["form"], r["rhythm"], strict=True)
    lists = pd.Series([_cpsc_classes(c, s, f, h) for c, s, f, h in rows], index=r.index)
    cols = [f"dx_{c}" for c in CPSC2018_CLASSES]
    frame = pd.concat([_hot(lists, list(CPSC2018_CLASSES), "dx_"), lists.map(len).rename("n_dx")], axis=1)
    task = {"type": "multilabel", "level": "record", "columns": cols, "filter": "n_dx > 0"}
    return frame, {"diagnosis": task}


LAYOUTS: dict[str, Callable[[Cohort], tuple[pd.DataFrame, dict[str, dict]]]] = {
    "ptbxl": ptbxl_layout, "cpsc2018": cpsc2018_layout}


class _WithLabels:
    """Picklable ``load_fn``: the inner set's recording with the row's layout columns added to its labels."""

    def __init__(self, inner: RecordingSet, columns: list[str]) -> None:
        self.inner, self.columns = inner, columns
        self.by_id = {rid: i for i, rid in enumerate(inner.records["record_id"])}

    def __call__(self, row: pd.Series) -> Recording:
        rec = self.inner[self.by_id[row["record_id"]]]
        extra = {c: (row[c].item() if hasattr(row[c], "item") else row[c]) for c in self.columns}
        return Recording(rec.record_id, rec.subject_id, rec.source, rec.signals, rec.fs, rec.units,
                         rec.start_time, {**rec.labels, **extra}, rec.annotations, rec.meta)


def with_layout(cohort: Cohort, layout: str) -> RecordingSet:
    """The cohort's recordings with ``layout``'s label columns (``records`` and every recording's labels) and
    its tasks in ``info["tasks"]``."""
    if layout not in LAYOUTS:
        raise KeyError(f"unknown 12-lead label layout {layout!r}; known: {sorted(LAYOUTS)}")
    frame, tasks = LAYOUTS[layout](cohort)
    rs = cohort.recordings
    records = pd.concat([rs.records.drop(columns=[c for c in frame if c in rs.records]), frame], axis=1)
    return RecordingSet(rs.name, records, _WithLabels(rs, list(frame.columns)),
                        {**rs.info, "tasks": tasks, "layout": layout})
