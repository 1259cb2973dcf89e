"""One probing task type for every paper, and the label rows and targets it selects from a label table.

A :class:`Task` says which label columns, which stored segments (``store``), which input channels
(``inputs``, a named channel set of the probe step), what one probe sample is (``rows``: every segment; one
segment per subject; or the mean of a subject's segment embeddings) and which kind of target it is. Tasks
come from the loaders' ``info["tasks"]`` (:func:`tasks_from_info`, also written by the built-in cohorts),
from params (:class:`physiofm.sections.TaskSection`) or from a paper's task mapping.

A *label table* has one row per stored segment: ``row`` (the segment's position in its store),
``subject_id``, ``record_id``, ``offset_s`` and the label columns (:func:`label_table` makes one from a
store index).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

Kind = Literal["binary", "multiclass", "multilabel", "regression"]
Rows = Literal["segment", "one", "subject"]


@dataclass(frozen=True)
class Task:
    """One probing task.

    Attributes:
        id: its name (the results table's ``task`` column).
        kind: binary / multiclass / multilabel / regression.
        columns: label column(s) in the label table (multilabel: one indicator column per label).
        store: which stored segments it reads (a data step's store name).
        inputs: the named channel set the probe reads (e.g. "ecg", "ppg", "all").
        rows: "segment" (every segment a sample), "one" (one segment per subject: its first by time) or
            "subject" (the mean of a subject's segment embeddings, one sample per subject).
        where: optional pandas query selecting the rows it uses (e.g. alarm segments only).
        positive: for a binary task on a categorical column, the values that count as 1.
        unit: the regression target's unit.
        description: one line for tables.
    """

    id: str
    kind: Kind
    columns: tuple[str, ...]
    store: str = "downstream"
    inputs: str = "all"
    rows: Rows = "segment"
    where: str | None = None
    positive: tuple[str, ...] | None = None
    unit: str | None = None
    description: str = ""

    @property
    def probe_task(self) -> str:
        """The :mod:`physiofm.evaluation.probes` task type."""
        return {"binary": "classification", "multiclass": "classification"}.get(self.kind, self.kind)

    @property
    def metric(self) -> str:
        return "mae" if self.kind == "regression" else "auroc"

    def but(self, **changes: Any) -> Task:
        """A copy with some fields changed."""
        return replace(self, **changes)


LOADER_LEVELS = {"record": "one", "annotation": "segment", "subject": "subject"}


def tasks_from_info(info_tasks: Mapping[str, Mapping[str, Any]], store: str,
                    **fields: Any) -> dict[str, Task]:
    """The :class:`Task` of every entry of a loader's (or cohort's) ``info["tasks"]``.

    An entry is ``{"type": ..., "level": "record" | "annotation", "columns": [...], "filter": query}``;
    ``level`` sets ``rows`` ("record": one segment per record's subject, "annotation": every segment) unless
    ``fields`` gives it; text targets (D-BETA's reports) are left out.
    """
    out = {}
    for name, spec in info_tasks.items():
        if spec["type"] == "text":
            continue
        out[name] = Task(name, spec["type"], tuple(spec["columns"]), store=store,
                         rows=fields.get("rows", LOADER_LEVELS.get(spec.get("level"), "segment")),
                         where=spec.get("filter"), **{k: v for k, v in fields.items() if k != "rows"})
    return out


def label_table(index: pd.DataFrame) -> pd.DataFrame:
    """A store index as a label table: ``row`` = store position, then every column but the shard layout."""
    df = index.drop(columns=[c for c in ("shard", "row") if c in index]).reset_index(drop=True)
    df.insert(0, "row", np.arange(len(df)))
    df["subject_id"] = df["subject_id"].astype(str)
    return df


def task_columns(labels: pd.DataFrame, task: Task) -> tuple[str, ...]:
    """Label columns of ``task``; a multi-label task named by one prefix expands to its indicator columns."""
    if task.kind == "multilabel" and len(task.columns) == 1 and task.columns[0] not in labels:
        prefix = {"superdiagnostic": "super_", "subdiagnostic": "sub_", "diagnosis": "dx_"}.get(
            task.columns[0], task.columns[0] + "_")
        cols = tuple(c for c in labels.columns if c.startswith(prefix))
        if not cols:
            raise KeyError(f"task {task.id}: no label columns with prefix {prefix!r}")
        return cols
    missing = [c for c in task.columns if c not in labels]
    if missing:
        raise KeyError(f"task {task.id}: label column(s) {missing} not in the label table "
                       f"(columns: {sorted(labels.columns)})")
    return task.columns


def task_rows(labels: pd.DataFrame, task: Task, per_subject: int | None = None) -> pd.DataFrame:
    """The label rows a task uses: ``where`` applied, rows with a label; for "one", each subject's first
    segment by time; for "segment", at most ``per_subject`` segments per subject (a fixed random subset)."""
    df = labels.query(task.where) if task.where else labels
    cols = list(task_columns(labels, task))
    df = df[df[cols].notna().all(axis=1)]
    if task.kind == "regression":
        df = df[np.isfinite(df[cols].to_numpy(float)).all(axis=1)]
    if task.rows == "one":
        df = df.sort_values(["subject_id", "record_id", "offset_s"]).groupby("subject_id", sort=False).head(1)
    elif task.rows == "segment" and per_subject is not None:
        order = np.random.default_rng(0).permutation(len(df))
        df = df.iloc[order].groupby("subject_id", sort=False).head(per_subject).sort_values("row")
    return df


def task_targets(rows: pd.DataFrame, task: Task,
                 labels: pd.DataFrame | None = None) -> tuple[np.ndarray, list]:
    """``(y, classes)`` of a task's rows: (N,) floats (regression), (N,) class codes, or (N, L) indicators.

    Binary targets are 0 / 1 (from ``positive`` when given, else the column must hold only 0 and 1);
    string classes are coded in sorted order; ``classes`` names the codes (empty for regression).
    """
    cols = list(task_columns(labels if labels is not None else rows, task))
    if task.kind == "multilabel":
        return rows[cols].to_numpy().astype(int), cols
    col = rows[cols[0]]
    if task.kind == "regression":
        return pd.to_numeric(col, errors="raise").to_numpy(float), []
    if task.positive is not None:
        return col.astype(str).isin(task.positive).to_numpy(int), ["other", "+".join(task.positive)]
    y = col.to_numpy()
    if y.dtype.kind in "OUS":  # string classes -> codes in sorted order
        classes = sorted(pd.unique(col.astype(str)))
        return np.searchsorted(classes, col.astype(str).to_numpy()), classes
    if task.kind == "binary":
        bad = set(np.unique(y)) - {0, 1}
        if bad:
            raise ValueError(f"task {task.id}: binary column {cols[0]!r} holds {sorted(bad)}")
        return y.astype(int), ["0", "1"]
    return y.astype(int), [str(c) for c in np.unique(y)]
