"""The synergy test (ours): which method's frozen embeddings carry redundant, unique and synergistic labels.

The built-in cohort fixes, by construction, where each label's information lives (see
:mod:`physiofm.synthetic.icu`): heart rate and rhythm in every channel (redundant), conduction and ST-T
change in the ECG only, an R' in the V lead only, arterial stiffness in the PPG only, and hypertension in
the ECG-to-PPG delay only (synergistic: neither channel alone carries it). SyneCo's argument is that
fusion-based contrastive learning keeps what pairwise alignment suppresses: unique and, above all,
synergistic information. Each label is probed from every method's three-channel representation and, with
``per_channel``, from each channel's own embedding, at two levels: one 10-s segment per sample, and the
subject mean of its segments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from physiofm.evaluation import results_frame
from physiofm.evaluation.protocol import holdout_probe
from physiofm.evaluation.tasks import Task
from physiofm.io import write_csv
from physiofm.parallel import parallel_map

# Labels that vary within a subject take their subject-level counterpart when probed per subject.
SUBJECT_COLUMN = {"hypertensive": "hypertensive_subject", "hr_high": "hr_high_subject"}


def synergy_tasks(labels: Mapping[str, Sequence[str]], levels: Sequence[str]) -> list[tuple[str, Task]]:
    """(information kind, task) for every label and level; task ids are ``<label>@<level>``."""
    out = []
    for kind, names in labels.items():
        for name in names:
            for level in levels:
                col = SUBJECT_COLUMN.get(name, name) if level == "subject" else name
                out.append((kind, Task(f"{name}@{level}", "binary", (col,), inputs="all", rows=level,
                                       description=f"{name} ({kind}), {level} level")))
    return out


def run(embeddings: Mapping[str, Mapping[int, Mapping[str, np.ndarray]]], labels: pd.DataFrame,
        label_groups: Mapping[str, Sequence[str]], *, levels: Sequence[str], probe: str, seeds: Sequence[int],
        test_fraction: float, max_segments: int, probe_kwargs: Mapping[str, dict],
        per_channel: Sequence[str] = (), segment_rows: int | None = None, workers: int = 1) -> pd.DataFrame:
    """Tidy results with extra columns ``kind`` (information kind), ``label``, ``level`` and ``view``
    ("all": the method's three-channel representation; a channel name: that channel's own embedding, for
    the methods in ``per_channel``, at the first level only). ``embeddings``: method -> probe seed ->
    representations, as :func:`physiofm.embeddings.read_run_embeddings` gives them; the (method, view)
    jobs run over ``workers`` processes."""
    tasks = synergy_tasks(label_groups, levels)
    jobs = []
    for method, by_seed in embeddings.items():
        names = next(iter(by_seed.values()))
        if "in:all" in names:
            jobs += [(method, "all", "in:all", tasks)]
        if method in per_channel:
            first = [(k, t) for k, t in tasks if t.rows == levels[0]]
            jobs += [(method, k.removeprefix("ch:"), k, first) for k in names if k.startswith("ch:")]
    kwargs = dict(probes=[probe], seeds=seeds, test_fraction=test_fraction, max_segments=max_segments,
                  probe_kwargs=probe_kwargs, segment_rows=segment_rows)
    items = [({s: e[key] for s, e in embeddings[method].items()}, labels, method, view, job_tasks, kwargs)
             for method, view, key, job_tasks in jobs]
    parts = parallel_map(_view_job, items, workers, desc="synergy")
    return results_frame(pd.concat(parts, ignore_index=True))


def _view_job(X: Mapping[int, np.ndarray], labels: pd.DataFrame, method: str, view: str,
              tasks: Sequence[tuple[str, Task]], kwargs: Mapping) -> pd.DataFrame:
    """Every label of one (method, view): :func:`holdout_probe` with the kind, label, level and view."""
    parts = []
    for kind, task in tasks:
        r = holdout_probe(X, labels, task, method=method, **kwargs)
        label, level = task.id.split("@")
        parts.append(r.assign(kind=kind, label=label, level=level, view=view))
    return pd.concat(parts, ignore_index=True)


def matrix(results: pd.DataFrame, level: str, view: str = "all", metric: str = "auroc",
           order: Sequence[str] | None = None, out: Path | None = None) -> pd.DataFrame:
    """Mean AUROC over seeds: rows methods (in ``order`` when given), columns ``kind: label`` in the order
    the params list them; written to ``out/synergy_<level>.csv`` when ``out`` is given."""
    d = results[(results["level"] == level) & (results["view"] == view) & (results["metric"] == metric)]
    cols = list(dict.fromkeys(f"{k}: {lab}" for k, lab in zip(d["kind"], d["label"])))
    m = d.assign(column=d["kind"] + ": " + d["label"]).groupby(["method", "column"])["value"].mean()
    m = m.unstack("column").reindex(columns=cols)
    m = m.reindex([x for x in order if x in m.index]) if order is not None else m
    if out is not None:
        write_csv(m, Path(out) / f"synergy_{level}.csv", index=True)
    return m


def channel_matrix(results: pd.DataFrame, method: str, level: str, metric: str = "auroc",
                   out: Path | None = None) -> pd.DataFrame:
    """One method: rows views (each channel's embedding, then "all"), columns labels; written to
    ``out/channels_<method>.csv`` when ``out`` is given."""
    d = results[(results["method"] == method) & (results["level"] == level) & (results["metric"] == metric)]
    cols = list(dict.fromkeys(f"{k}: {lab}" for k, lab in zip(d["kind"], d["label"])))
    m = d.assign(column=d["kind"] + ": " + d["label"]).groupby(["view", "column"])["value"].mean()
    m = m.unstack("column").reindex(columns=cols)
    m = m.loc[[v for v in ("ecg_ii", "ecg_v", "ppg", "all") if v in m.index]]
    if out is not None:
        write_csv(m, Path(out) / f"channels_{method}.csv", index=True)
    return m


def by_kind(results: pd.DataFrame, level: str, kinds: Sequence[str], order: Sequence[str],
            out: Path | None = None) -> pd.DataFrame:
    """Mean AUROC over each kind's labels (columns, in ``kinds`` order) of every method's three-channel
    representation (rows, in ``order``), at one level; written to ``out/synergy_by_kind.csv`` when given."""
    d = results[(results["level"] == level) & (results["view"] == "all") & (results["metric"] == "auroc")]
    m = d.groupby(["method", "kind"])["value"].mean().unstack("kind").reindex(columns=list(kinds))
    m = m.reindex([x for x in order if x in m.index])
    if out is not None:
        write_csv(m, Path(out) / "synergy_by_kind.csv", index=True)
    return m
