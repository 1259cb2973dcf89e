"""One leaderboard per cohort: every pretraining method on one footing (the benchmark part, issue 16).

A leaderboard (:class:`physiofm.sections.LeaderboardSection`) is a loop over registry names, not one code
path per method. Every entry is built from :mod:`physiofm.methods` with the leaderboard's encoder, trained by
the one run loop (:func:`physiofm.training.pretrain`) with the same budget, data and seeds, embedded through
the one cache (:func:`physiofm.embeddings.embed_runs`) and probed by the same frozen-embedding probe on the
same tasks and probe seeds (:func:`physiofm.evaluation.protocol.holdout_probes`). An entry that cannot run on
the cohort is listed with the reason: the params give one, or building it fails (an encoder kind not
registered yet, a config the method rejects), or it reads inputs the cohort's store does not hold. Once the
reason goes away (another branch registers the encoder kind), the same params run it.

Two reference rows share one network (``reference``): ``random_init`` (untrained, placed at 0) and
``supervised`` (the same network trained on the tasks' labels, :mod:`physiofm.methods.supervised`, placed at
1): one run on every task, one per task or one per group of tasks (``reference.mode``), each scored on its
own tasks only (:func:`as_supervised`). Training seed ``seeds[i % len(seeds)]`` serves probe seed
``probe_seeds[i]``.

Outputs (each a function of the tidy results):

* :func:`normalised`: each score placed between the references, per task and probe seed;
* :func:`rank_table`: each method's rank per task (1 = best) averaged over tasks, mean and spread over seeds;
* :func:`bootstrap_vs_best`: paired bootstrap 95 % intervals, resampling test subjects, of each method's AUROC
  minus the best method's on the same subjects;
* :func:`structure_matrix`: mean AUROC per method and task with the tasks grouped by the kind of information
  they need (redundant, unique to a channel, synergistic: the SyneCo synergy notebook's matrix).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from physiofm import methods
from physiofm.embeddings import embed_runs
from physiofm.evaluation.protocol import holdout_predictions, holdout_probes
from physiofm.evaluation.results import read_results, results_frame, write_results
from physiofm.evaluation.tasks import Task
from physiofm.io import read_json, write_csv, write_parquet
from physiofm.parallel import parallel_map
from physiofm.sections import (
    LeaderboardSection,
    LeaderboardTask,
    MethodChoice,
    MethodEntry,
    ReferenceSection,
    TrainSection,
    reference_run,
)
from physiofm.store import SegmentDataset, SegmentStore
from physiofm.training.run import RunData, batch_keys, checkpoint, finished_run, pretrain, run_dir

REFERENCES = ("random_init", "supervised")


# ----------------------------------------------------------------------------------------------- entries
def channels_read(method: str, config: Mapping[str, Any]) -> set[str]:
    """The batch keys a channel method's config names (``channels``, ``pair``, ``towers``, or ``key``)."""
    cfg = methods.config_class(method)(**config)
    for name in ("channels", "pair", "towers"):
        if getattr(cfg, name, None):
            return set(getattr(cfg, name))
    return {cfg.key} if getattr(cfg, "key", None) else set()


def with_encoder(method: str, config: Mapping[str, Any], encoder: Mapping[str, Any],
                 channel_encoders: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``config`` with the leaderboard's encoder in the method's ``encoder`` field and, for the channels it
    reads that have overrides, full per-channel specs in its ``encoders`` field (fields the method lacks, or
    the config sets, are left alone)."""
    fields = set(getattr(methods.config_class(method), "__dataclass_fields__", {}))
    out = dict(config)
    if "encoder" in fields and "encoder" not in out:
        out["encoder"] = dict(encoder)
    if "encoders" in fields and channel_encoders and "encoders" not in out:
        read = channels_read(method, config)
        out["encoders"] = {ch: {**encoder, **over} for ch, over in channel_encoders.items() if ch in read}
    return out


def entry_choice(entry: MethodEntry | ReferenceSection, board: LeaderboardSection) -> MethodChoice:
    """The :class:`MethodChoice` an entry runs (the shared encoder injected unless it opts out)."""
    config = entry.config
    if getattr(entry, "shared_encoder", True):
        config = with_encoder(entry.method, config, board.encoder, board.channel_encoders)
        if entry.method == "supervised" and "base" in config:  # the wrapped network gets the encoder
            inner = with_encoder(config["base"], config.get("config", {}), board.encoder,
                                 board.channel_encoders)
            config = {**config, "config": inner}
    return MethodChoice(method=entry.method, config=config)


def target_heads(tasks: Sequence[LeaderboardTask], index: pd.DataFrame) -> dict[str, Any]:
    """The ``supervised`` settings of some tasks: their label columns with kinds, class counts of the
    multi-class ones and centre / scale of the regression ones (from the pretraining store's index)."""
    targets, kinds, classes, scales = [], [], {}, {}
    for t in tasks:
        cols = [t.target] if isinstance(t.target, str) else list(t.target)
        for col in cols:
            if col not in index:
                raise KeyError(f"task {t.name}: no column {col!r} in the pretraining store for its "
                               "supervised reference (add it as a derived label)")
            if t.positive is not None:
                raise ValueError(f"task {t.name}: a supervised reference needs a 0/1 column, not 'positive' "
                                 "values (derive one)")
            kind = "binary" if t.kind in ("binary", "multilabel") else t.kind
            targets.append(col)
            kinds.append(kind)
            values = pd.to_numeric(index[col], errors="coerce")
            if kind == "multiclass":
                classes[col] = int(np.nanmax(values)) + 1
            elif kind == "regression":
                scales[col] = (float(values.mean()), float(values.std()) or 1.0)
    return {"targets": targets, "kinds": kinds, "classes": classes, "scales": scales}


def reference_choices(board: LeaderboardSection, index: pd.DataFrame) -> dict[str, MethodChoice]:
    """``random_init`` and the supervised runs of a leaderboard: ``supervised`` (joint), ``supervised_<task>``
    (per task) or ``supervised_<group>`` (groups); none without a ``reference`` section."""
    ref = board.reference
    if ref is None:
        return {}
    base = entry_choice(ref, board)
    out = {"random_init": base}
    by_name = {t.name: t for t in board.tasks}
    for name, tasks in ref.group_tasks(list(by_name)).items():
        out[name] = MethodChoice(method="supervised", config={
            "base": base.method, "config": base.config, **target_heads([by_name[t] for t in tasks], index)})
    return out


def check_runs(choices: Mapping[str, MethodChoice], available: set[str]) -> dict[str, str | None]:
    """Run name -> None when the method builds and the cohort holds every input it reads (store groups and
    index columns; ``<group>_pair`` and ``subject`` come from the run loop's paired batches), else the
    reason."""
    reasons = {}
    for name, choice in choices.items():
        try:
            method = methods.build(choice.method, choice.config)
        except Exception as e:  # noqa: BLE001 - any build failure is the reason it cannot run here
            reasons[name] = f"{type(e).__name__}: {e}"
            continue
        keys, _ = batch_keys(method.inputs)  # paired partners and subject codes are made by the batching
        missing = [k for k in keys if k not in available]
        reasons[name] = (f"reads {missing}, which the cohort's store does not hold ({sorted(available)})"
                         if missing else None)
    return reasons


def plan(board: LeaderboardSection, data: RunData) -> tuple[dict[str, MethodChoice], pd.DataFrame]:
    """The runs of a leaderboard (methods, then the reference rows) and the table of methods that cannot run
    on the cohort, with the reason (``method`` = run name, ``registry`` = method, ``reason``)."""
    store = next(iter(data.stores.values()))
    available = set(store.groups) | set(store.index.columns)
    choices, rows = {}, []
    for name, entry in board.methods.items():
        if entry.reason is not None:
            rows.append({"method": name, "registry": entry.method, "reason": entry.reason})
        else:
            choices[name] = entry_choice(entry, board)
    choices.update(reference_choices(board, store.index))
    for name, reason in check_runs(choices, available).items():
        if reason is not None:
            rows.append({"method": name, "registry": choices.pop(name).method, "reason": reason})
    return choices, pd.DataFrame(rows, columns=["method", "registry", "reason"])


# ------------------------------------------------------------------------------------------------- runs
@dataclass(frozen=True)
class Board:
    """A leaderboard's outcome: the runs that ran, those that could not (with reasons), the tidy probe results
    (``method, task, probe, metric, seed, value`` + ``info``), the first probe seed's test-row scores of the
    binary tasks, the tasks and the training summary."""

    runs: dict[str, MethodChoice]
    unavailable: pd.DataFrame
    results: pd.DataFrame
    predictions: pd.DataFrame
    tasks: list[LeaderboardTask]
    training: pd.DataFrame
    checkpoints: dict[tuple[str, int], Path] | None = None  # (run, training seed) -> best checkpoint

    @property
    def methods(self) -> list[str]:
        """The method rows in params order (not the references)."""
        return [m for m in self.runs if not reference_run(m)]

    def order(self) -> list[str]:
        """Method rows, then the references present in the results."""
        present = set(self.results["method"])
        return self.methods + [r for r in REFERENCES if r in present]


def probe_tasks(board: LeaderboardSection) -> list[Task]:
    return [t.task("probe").but(inputs="all") for t in board.tasks]


def budget(board: LeaderboardSection, run_name: str) -> TrainSection:
    """The training budget of a run: a supervised reference's own (its group's, else the reference's) when
    the params give one, else the board's (every method's)."""
    ref = board.reference
    if ref is not None and reference_run(run_name) and run_name != "random_init":
        own = ref.budget(run_name)
        if own is not None:
            return own
    return board.train


def run(board: LeaderboardSection, data_dir: Path, probe: SegmentStore, labels: pd.DataFrame, out: Path, *,
        probe_seeds: Sequence[int], device: str = "cpu", workers: int = 1, worker_threads: int = 1,
        reuse: Path | None = None) -> Board:
    """Train, embed and probe every run of ``board``; write ``results.parquet``, ``predictions.parquet``,
    ``unavailable.csv`` and ``runs/runs.csv`` to ``out``. Finished runs and cached embeddings are reused, and
    so are runs an earlier step finished in ``reuse`` with the same fingerprint (name, config, budget, seed,
    data): their checkpoints are read from there."""
    out = Path(out)
    data = RunData.open(data_dir)
    choices, unavailable = plan(board, data)
    seeds = [board.seeds[i % len(board.seeds)] for i in range(len(probe_seeds))]
    train_seeds = list(dict.fromkeys(seeds))
    where = {(n, s): out / "runs" for n in choices for s in train_seeds}
    if reuse is not None:
        where.update({(n, s): Path(reuse) for n, c in choices.items() for s in train_seeds
                      if n != "random_init" and finished_run(reuse, n, c, None, budget(board, n), data, s)})
    jobs = [(n, c, None, budget(board, n), data, out / "runs", s, device) for n, c in choices.items()
            if n != "random_init" for s in train_seeds if where[n, s] == out / "runs"]
    parallel_map(pretrain, jobs, workers, worker_threads)
    training = pd.DataFrame([{**read_json(run_dir(where[n, s], n, s) / "run.json"),
                              "trained in": "this step" if where[n, s] == out / "runs" else "an earlier step"}
                             for n in choices if n != "random_init" for s in train_seeds])
    write_csv(training, out / "runs" / "runs.csv")
    embed_jobs = {n: {ps: (c, None, None if n == "random_init" else checkpoint(where[n, s], n, s, "best"), s)
                      for ps, s in zip(probe_seeds, seeds, strict=True)} for n, c in choices.items()}
    groups = [g for g in probe.groups if any(g in m.inputs for m in _built(choices))]
    ds = SegmentDataset(probe, groups=groups)
    emb = embed_runs(embed_jobs, ds, out / "embeddings", batch_size=board.probe.embed_batch_size,
                     device=device, inputs={"all": tuple(board.channels)}, workers=workers)
    p = board.probe
    kw = dict(probes=[p.probe], test_fraction=p.test_fraction, max_segments=p.max_segments_per_subject,
              probe_kwargs={}, segment_rows=p.segment_rows_per_subject)
    tasks = probe_tasks(board)
    results = holdout_probes(emb, labels, [(m, t) for m in choices for t in tasks], seeds=list(probe_seeds),
                             workers=workers, **kw)
    info = {t.name: t.info for t in board.tasks}
    owners = board.reference.group_tasks([t.name for t in board.tasks]) if board.reference else {}
    results = as_supervised(results.assign(info=results["task"].map(info)), owners)
    first = probe_seeds[0]
    items = [(emb[m][first]["in:all"], labels, t, m, first, kw) for m in choices for t in tasks
             if t.kind == "binary"]
    parts = parallel_map(_predict_job, items, workers, desc="test scores")
    predictions = as_supervised(pd.concat(parts, ignore_index=True), owners) if parts else pd.DataFrame()
    write_results(results, out / "results.parquet")
    write_parquet(predictions, out / "predictions.parquet")
    write_csv(unavailable, out / "unavailable.csv")
    ckpts = {(n, s): checkpoint(where[n, s], n, s, "best") for n in choices if n != "random_init"
             for s in train_seeds}
    return Board(choices, unavailable, results, predictions, list(board.tasks), training, ckpts)


def as_supervised(frame: pd.DataFrame, owners: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Rows of the supervised runs (``owners``: run -> the tasks it was trained on) kept for their own tasks
    only, renamed ``supervised``; every other row as it is."""
    own = pd.Series([t in owners.get(m, ()) for m, t in zip(frame["method"], frame["task"], strict=True)],
                    index=frame.index, dtype=bool)
    other = frame["method"].isin(list(owners)) & ~own
    return frame[~other].assign(method=frame["method"].where(~own, "supervised")).reset_index(drop=True)


def _built(choices: Mapping[str, MethodChoice]) -> list[methods.Method]:
    return [methods.build(c.method, c.config) for c in choices.values()]


def _predict_job(X: np.ndarray, labels: pd.DataFrame, task: Task, method: str, seed: int,
                 kw: Mapping) -> pd.DataFrame:
    r = holdout_predictions(X, labels, task, seed=seed, probe=kw["probes"][0],
                            test_fraction=kw["test_fraction"], max_segments=kw["max_segments"],
                            probe_kwargs=kw["probe_kwargs"], segment_rows=kw["segment_rows"])
    return r.assign(method=method, task=task.id)


# -------------------------------------------------------------------------------------------- analyses
def metric_of(results: pd.DataFrame) -> pd.DataFrame:
    """One score per (method, task, seed): AUROC for classification, R² for regression."""
    keep = results["metric"].isin(["auroc", "r2"])
    return results[keep][["method", "task", "seed", "metric", "value", "info"]]


def scores(board: Board) -> pd.DataFrame:
    """Mean score over probe seeds, methods (params order, references last) x tasks (params order)."""
    m = metric_of(board.results).groupby(["method", "task"])["value"].mean().unstack("task")
    return m.reindex(index=[r for r in board.order() if r in m.index], columns=[t.name for t in board.tasks])


def normalised(board: Board, min_gap: float = 0.02) -> pd.DataFrame:
    """Per method, task and probe seed: (score - random_init) / (supervised - random_init), with the
    references of the same seed; NaN where the references are within ``min_gap`` of each other (no room
    to place anything between them). Columns ``method, task, seed, value``."""
    d = metric_of(board.results)
    wide = d.pivot_table(index=["task", "seed"], columns="method", values="value", dropna=False)
    if "random_init" not in wide or "supervised" not in wide:
        raise KeyError("normalised scores need both reference rows (random_init and supervised)")
    gap = wide["supervised"] - wide["random_init"]
    norm = wide.sub(wide["random_init"], axis=0).div(gap.where(gap.abs() >= min_gap), axis=0)
    return norm.stack().rename("value").reset_index()


def normalised_table(board: Board) -> pd.DataFrame:
    """Mean normalised score over probe seeds: methods x tasks, plus the mean over tasks."""
    n = normalised(board).groupby(["method", "task"])["value"].mean().unstack("task")
    n = n.reindex(index=[r for r in board.order() if r in n.index], columns=[t.name for t in board.tasks])
    return n.assign(mean=n.mean(axis=1))


def table_heatmap(table: pd.DataFrame, title: str, vmin: float, vmax: float, label: str) -> Figure:
    """Any rows x columns table of scores as a heatmap with each value written in its cell."""
    values = table.to_numpy(float)
    fig, ax = plt.subplots(figsize=(0.95 * table.shape[1] + 2.8, 0.42 * table.shape[0] + 1.6))
    im = ax.imshow(values, cmap="RdYlGn", vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=40, ha="right")
    ax.set_yticks(range(table.shape[0]), table.index)
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, "–" if np.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=7)
    fig.colorbar(im, ax=ax, label=label)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def heatmap(board: Board, title: str) -> Figure:
    """Methods x tasks, each cell the normalised score (0 = random init, 1 = supervised)."""
    return table_heatmap(normalised_table(board).drop(columns="mean"), title, -0.25, 1.25, "normalised score")


def rank_table(board: Board) -> pd.DataFrame:
    """Per method (not the references): the mean rank over tasks (1 = best) per probe seed, averaged over
    seeds (``mean rank``) with its standard deviation (``seed spread``), and the mean normalised score with
    its spread; sorted by mean rank."""
    d = metric_of(board.results)
    d = d[d["method"].isin(board.methods)]
    d = d.assign(rank=d.groupby(["task", "seed"])["value"].rank(ascending=False, method="average"))
    per_seed = d.groupby(["method", "seed"])["rank"].mean().unstack("seed")
    n = normalised(board)
    n = n[n["method"].isin(board.methods)].groupby(["method", "seed"])["value"].mean().unstack("seed")
    table = pd.DataFrame({"mean rank": per_seed.mean(axis=1),
                          "seed spread (rank)": per_seed.std(axis=1, ddof=0),
                          "normalised score": n.mean(axis=1), "seed spread (score)": n.std(axis=1, ddof=0)})
    return table.sort_values("mean rank")


def weighted_auroc(y: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """AUROC of ``score`` for binary ``y`` (L,) under each row of sample ``weights`` (R, L) (a bootstrap
    resample as counts): the weighted Mann-Whitney statistic, ties counted one half. Returns (R,)."""
    order = np.argsort(score, kind="stable")
    y, s = np.asarray(y)[order].astype(bool), np.asarray(score)[order]
    w = np.asarray(weights, float)[:, order]
    _, first = np.unique(s, return_index=True)  # s is sorted: each tie group is one contiguous run
    pos = np.add.reduceat(w * y, first, axis=1)
    neg = np.add.reduceat(w * ~y, first, axis=1)
    below = np.cumsum(neg, axis=1) - neg  # negative weight strictly below each tie group
    num = (pos * (below + 0.5 * neg)).sum(axis=1)
    den = pos.sum(axis=1) * neg.sum(axis=1)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def bootstrap_vs_best(board: Board, n: int, seed: int = 0) -> pd.DataFrame:
    """Per binary task: the best method (highest AUROC on the first probe seed's test subjects) and, for every
    other method, its AUROC minus the best's with a paired bootstrap 95 % interval (``n`` resamples of the
    test subjects with replacement; the same resamples for every method). Rows ``task, method, auroc, delta,
    low, high``; an interval below 0 means reliably worse than the best."""
    p = board.predictions
    rows = []
    rng = np.random.default_rng(seed)
    for task in [t.name for t in board.tasks]:
        d = p[(p["task"] == task) & p["method"].isin(board.methods)]
        if d.empty:
            continue
        by_method = {m: g.reset_index(drop=True) for m, g in d.groupby("method", sort=False)}
        ref = next(iter(by_method.values()))
        codes, subjects = pd.factorize(ref["subject_id"])
        counts = rng.multinomial(len(subjects), np.full(len(subjects), 1 / len(subjects)), size=n)
        w = counts[:, codes].astype(float)
        y = ref["y"].to_numpy()
        boot = {m: weighted_auroc(y, g["score"].to_numpy(), w) for m, g in by_method.items()}
        one = np.ones((1, len(y)))
        point = {m: weighted_auroc(y, g["score"].to_numpy(), one)[0] for m, g in by_method.items()}
        best = max(point, key=lambda m: point[m])
        for m in by_method:
            diff = boot[m] - boot[best]
            rows.append({"task": task, "method": m, "best": best, "auroc": point[m],
                         "delta": point[m] - point[best], "low": np.nanpercentile(diff, 2.5),
                         "high": np.nanpercentile(diff, 97.5)})
    return pd.DataFrame(rows)


def bootstrap_table(intervals: pd.DataFrame) -> pd.DataFrame:
    """Methods x tasks: "delta [low, high]" against the task's best method ("best" in its own cell)."""
    cell = intervals.apply(lambda r: "best" if r["method"] == r["best"]
                           else f"{r['delta']:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}]", axis=1)
    return intervals.assign(cell=cell).pivot(index="method", columns="task", values="cell")


def structure_matrix(board: Board) -> pd.DataFrame:
    """Mean AUROC (R² for regression) over probe seeds: methods (references last) x tasks, the columns
    ``<info>: <task>`` grouped by the kind of information in the order the params list the tasks."""
    s = scores(board)
    infos = list(dict.fromkeys(t.info for t in board.tasks))
    cols = [t for i in infos for t in board.tasks if t.info == i]
    s = s[[t.name for t in cols]]
    s.columns = [f"{t.info}: {t.name}" if t.info else t.name for t in cols]
    return s


def information_by_kind(board: Board) -> pd.DataFrame:
    """Mean score per method over each information kind's tasks (columns in params order)."""
    s = scores(board)
    infos = list(dict.fromkeys(t.info for t in board.tasks if t.info))
    return pd.DataFrame({i: s[[t.name for t in board.tasks if t.info == i]].mean(axis=1) for i in infos})


def read_board(out: Path, board: LeaderboardSection, runs: Mapping[str, MethodChoice] | None = None) -> Board:
    """The :class:`Board` an earlier :func:`run` wrote to ``out`` (for a later step's tables)."""
    out = Path(out)
    results = read_results(out / "results.parquet")
    names = list(dict.fromkeys(results["method"]))
    summary = out / "runs" / "runs.csv"
    return Board(dict(runs) if runs is not None else dict.fromkeys(names),
                 pd.read_csv(out / "unavailable.csv"), results, pd.read_parquet(out / "predictions.parquet"),
                 list(board.tasks),
                 pd.read_csv(summary) if summary.is_file() else pd.DataFrame())


__all__ = ["Board", "REFERENCES", "bootstrap_table", "bootstrap_vs_best", "budget", "check_runs",
           "entry_choice", "heatmap", "table_heatmap", "information_by_kind", "normalised",
           "normalised_table", "plan", "rank_table",
           "read_board", "reference_choices", "results_frame", "run", "scores", "structure_matrix",
           "weighted_auroc", "with_encoder"]
