"""AnyPPG's evaluation steps: PPG-to-ECG retrieval (Table 2) and nested-CV linear probing (Tables 3 and 4).

Both write tidy results (``method, task, probe, metric, seed, value`` + extras) with
:mod:`physiofm.evaluation.results`, and lay them out next to the paper's published numbers
(``params/published/anyppg.yaml``).

Embeddings come from the engine's cache (:func:`physiofm.embeddings.embed_runs`, keyed by the checkpoint's
hash); probing is the engine's nested-CV protocol (:func:`physiofm.evaluation.protocol.nested_cv_probe`).

Retrieval reference ("chance"): a model that ranks the gallery at random puts the match at a uniformly
random rank of a batch of ``b`` pairs, so R@k = min(k, b) / b, MRR = H_b / b and mAP@10 = H_min(10, b) / b
(H_n the n-th harmonic number), averaged over the batches like the scores.

Probing reference ("chance"): the same nested CV on a constant feature, i.e. the training-fold mean for
regression and the training-fold class prior for classification (AUC 0.5, accuracy = majority rate).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from physiofm.anyppg.params import ProbeTaskSpec, ProbingParams, RetrievalParams
from physiofm.anyppg.tasks import PRETRAIN_SOURCES, probe_task
from physiofm.embeddings import embed_runs, store_key
from physiofm.evaluation import results_frame, retrieval_metrics
from physiofm.evaluation.protocol import nested_cv_probe
from physiofm.evaluation.published import load_published
from physiofm.evaluation.results import cached_results
from physiofm.evaluation.tasks import label_table
from physiofm.parallel import parallel_map
from physiofm.sections import EncoderSection, MethodChoice
from physiofm.splits import split_rows
from physiofm.store import SegmentDataset, SegmentStore
from physiofm.training.run import checkpoint

METHOD_LABELS = {"anyppg": "AnyPPG", "simclr": "SimCLR", "byol": "BYOL", "random_init": "Random init"}
RANDOM_INIT = "random_init"  # the AnyPPG model untrained, initialised with the study seed
RETRIEVAL_METRICS = ("R@1", "R@5", "R@10", "mAP@10", "MRR")
CHANCE = "Chance"
PAPER_SOURCE_NAMES = {s.dataset: s.paper_name for s in PRETRAIN_SOURCES}


def run_jobs(methods: Sequence[str], runs: Mapping[str, MethodChoice], encoder: EncoderSection,
             pretrain_dir: Path, which: str, seed: int) -> dict[str, dict[int, tuple]]:
    """:func:`physiofm.embeddings.embed_runs` jobs: each method's ``which`` checkpoint; ``random_init`` is the
    AnyPPG model untrained, initialised with ``seed``."""
    return {m: {seed: (runs["anyppg" if m == RANDOM_INIT else m], encoder,
                       None if m == RANDOM_INIT else checkpoint(pretrain_dir, m, seed, which), seed)}
            for m in methods}


# ------------------------------------------------------------------------------------------ retrieval
def chance_retrieval(n: int, batch_pairs: int, ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """Expected scores of random ranking over ``n`` pairs cut into batches of ``batch_pairs``."""
    sizes = [min(batch_pairs, n - i) for i in range(0, n, batch_pairs)]

    def harmonic(m: int) -> float:
        return float(np.sum(1.0 / np.arange(1, m + 1)))

    out = {f"R@{k}": sum(min(k, b) for b in sizes) / n for k in ks}
    out["mAP@10"] = sum(harmonic(min(10, b)) for b in sizes) / n
    out["MRR"] = sum(harmonic(b) for b in sizes) / n
    return out


def test_embeddings(jobs: Mapping[str, Mapping[int, tuple]], stores: Mapping[str, SegmentStore],
                    splits: pd.DataFrame, params: RetrievalParams, cache_dir: Path,
                    source: str) -> tuple[np.ndarray, np.ndarray]:
    """(PPG queries, ECG gallery) of one source's ``params.split`` pairs in the shared space, row i of both
    from the same window, in store order (cached)."""
    rows = split_rows(splits, params.split)[source]
    if len(rows) < 2:
        raise ValueError(f"anyppg retrieval: source {source!r} has {len(rows)} {params.split} pairs, "
                         "need >= 2")
    data = SegmentDataset({source: stores[source]}, {source: rows}, groups=("ppg", "ecg"))
    emb = next(iter(embed_runs(jobs, data, Path(cache_dir) / source, batch_size=params.embed_batch_size,
                               keys=("ppg_shared", "ecg_shared"))["anyppg"].values()))
    return emb["ppg_shared"], emb["ecg_shared"]


def retrieval_results(jobs: Mapping[str, Mapping[int, tuple]], stores: Mapping[str, SegmentStore],
                      splits: pd.DataFrame, params: RetrievalParams, cache_dir: Path,
                      seed: int = 0) -> pd.DataFrame:
    """PPG->ECG retrieval per source on the held-out ``params.split``, plus the chance reference.

    Returns tidy rows (method, task = source, probe = "retrieval", metric, seed, value) with extra columns
    ``n_samples`` and ``batch_pairs`` (the batch actually used: ``min(params.batch_pairs, n_samples)``),
    then the weighted and macro aggregates over sources (``batch_pairs`` -1: several batch sizes).
    """
    rows: list[dict[str, Any]] = []
    for name in stores:
        query, gallery = test_embeddings(jobs, stores, splits, params, cache_dir, name)
        n = len(query)
        batch = min(params.batch_pairs, n)
        ours = retrieval_metrics(query, gallery, ks=params.ks, batch_size=batch)
        chance = chance_retrieval(n, batch, params.ks)
        for label, scores in ((METHOD_LABELS["anyppg"], ours), (CHANCE, chance)):
            rows += [{"method": label, "task": name, "probe": "retrieval", "metric": m, "seed": seed,
                      "value": v, "n_samples": n, "batch_pairs": batch} for m, v in scores.items()]
    return results_frame(add_aggregates(pd.DataFrame(rows)))


def add_aggregates(df: pd.DataFrame) -> pd.DataFrame:
    """Append ``aggregate_weighted`` (by ``n_samples``) and ``aggregate_macro`` rows per method and metric."""
    per = df[~df["task"].str.startswith("aggregate_")]
    extra = []
    for (method, metric), g in per.groupby(["method", "metric"], sort=False):
        base = {"method": method, "probe": "retrieval", "metric": metric, "seed": int(g["seed"].iloc[0]),
                "n_samples": int(g["n_samples"].sum()), "batch_pairs": -1}
        extra.append({**base, "task": "aggregate_weighted", "value": float(np.average(g["value"],
                                                                                    weights=g["n_samples"]))})
        extra.append({**base, "task": "aggregate_macro", "value": float(g["value"].mean())})
    return pd.concat([per, pd.DataFrame(extra)], ignore_index=True)


def _table2_rows(frame: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    wide = frame.pivot_table(index="task", columns="metric", values="value", sort=False)
    n = frame.groupby("task", sort=False)["n_samples"].first()
    out = pd.DataFrame({"#Samples": n.astype(int)}).join(wide[[c for c in RETRIEVAL_METRICS if c in wide]])
    labels = {"aggregate_weighted": "Aggregate (weighted by samples)",
              "aggregate_macro": "Aggregate (macro-average)"}
    order = [t for t in out.index if t not in labels] + list(labels)
    out = out.loc[[t for t in order if t in out.index]]
    out.index = [labels.get(t, names.get(t, t)) for t in out.index]
    return out


def table2(results: pd.DataFrame, published_yaml: Path, method: str = "AnyPPG") -> pd.DataFrame:
    """Table 2's layout twice: the paper's rows, then ours (and the chance reference), one frame.

    Rows are (origin, dataset); columns #Samples, R@1, R@5, R@10, mAP@10, MRR.
    """
    pub = load_published_tables(published_yaml)["table2_retrieval"]
    pub = pub.rename(columns={"dataset": "task"})
    pub_n = pub[pub["metric"] == "n_samples"].set_index("task")["value"]
    pub = pub[pub["metric"] != "n_samples"].assign(n_samples=lambda d: d["task"].map(pub_n))
    parts = {"published (paper, Table 2)": _table2_rows(pub, PAPER_SOURCE_NAMES)}
    for label in (method, CHANCE):
        sel = results[results["method"] == label]
        if len(sel):
            parts[f"this study: {label}" if label != CHANCE else "this study: chance (random ranking)"] = \
                _table2_rows(sel, {})
    return pd.concat(parts, names=["origin", "dataset"])


# -------------------------------------------------------------------------------------------- probing
def probe_features(jobs: Mapping[str, Mapping[int, tuple]], store: SegmentStore, cache_dir: Path,
                   batch_size: int, workers: int = 1) -> dict[str, np.ndarray]:
    """Method -> (N, feature_dim) frozen PPG-encoder features of every segment of a probe store (cached)."""
    data = SegmentDataset(store, groups=("ppg",))
    emb = embed_runs(jobs, data, cache_dir, batch_size=batch_size, inputs={"ppg": ("ppg",)}, workers=workers)
    return {m: next(iter(by_seed.values()))["in:ppg"] for m, by_seed in emb.items()}


def probe_one(X: np.ndarray, labels: pd.DataFrame, spec: ProbeTaskSpec, params: ProbingParams,
              seed: int) -> pd.DataFrame:
    """Nested CV of one task on features ``X`` (N, D): one row per (outer fold, metric)."""
    return nested_cv_probe(X, labels, spec.task("probe"), grid=params.grid(spec.kind),
                           outer_folds=params.outer_folds, inner_folds=params.inner_folds,
                           group_by_subject=params.group_by_subject, max_iter=params.max_iter, seed=seed,
                           n_jobs=params.n_jobs)


def _probe_rows(X: np.ndarray, labels: pd.DataFrame, task: ProbeTaskSpec, params: ProbingParams, seed: int,
                method: str, probe_set: str) -> pd.DataFrame:
    return probe_one(X, labels, task, params, seed).assign(method=method, task=task.name, probe="linear",
                                                           seed=seed, probe_set=probe_set, kind=task.kind)


def run_probing(jobs: Mapping[str, Mapping[int, tuple]], probe_stores: Mapping[str, SegmentStore],
                tasks: Mapping[str, Sequence[ProbeTaskSpec]], params: ProbingParams, out: Path, seed: int,
                workers: int = 1) -> pd.DataFrame:
    """Every (method, probe set, task) nested CV plus the chance reference (a constant feature); tidy
    results, the nested CVs over ``workers`` processes. Each (method, set, task) result is kept in
    ``out/probes/`` under a hash of what it depends on (features, labels, params), so a rerun only computes
    what changed."""
    cached = []
    for set_name, store in probe_stores.items():
        cache = Path(out) / "features" / set_name
        feats = probe_features(jobs, store, cache, params.embed_batch_size, workers)
        feats["chance"] = np.zeros((len(store), 1), np.float32)
        labels = label_table(store.index)
        for method, task in [(m, t) for m in [*jobs, "chance"] for t in tasks[set_name]]:
            X = feats[method]
            fkey = "constant" if method == "chance" else hashlib.sha256(X.tobytes()).hexdigest()[:16]
            config = hashlib.sha256(json.dumps(
                [fkey, store_key(store), task.model_dump(mode="json"), params.model_dump(mode="json"), seed],
                sort_keys=True).encode()).hexdigest()[:16]
            label = CHANCE if method == "chance" else METHOD_LABELS[method]
            compute = functools.partial(_probe_rows, X, labels, task, params, seed, label, set_name)
            path = Path(out) / "probes" / method / set_name / f"{task.name}.parquet"
            cached.append((path, config, compute))
    frames = parallel_map(cached_results, cached, workers, desc="probes")
    return results_frame(pd.concat(frames, ignore_index=True))


def summarise_probes(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over outer folds per (probe set, task, method, metric)."""
    g = results.groupby(["probe_set", "task", "method", "metric"], sort=False)["value"]
    return g.agg(mean="mean", std="std", folds="count").reset_index()


def _cell(mean: float, std: float, decimals: int) -> str:
    if pd.isna(mean):
        return "–"
    return f"{mean:.{decimals}f}" if pd.isna(std) else f"{mean:.{decimals}f} ({std:.{decimals}f})"


def probing_table(results: pd.DataFrame, kind: str, published_yaml: Path,
                  tasks: Mapping[str, Sequence[ProbeTaskSpec]], decimals: int = 2) -> pd.DataFrame:
    """Table 3 (``kind="regression"``: MAE, R2) or Table 4 (classification: AUC, F1, accuracy) layout,
    "mean (std)" over outer folds, the paper's rows for each analogue task beside ours.

    Rows: (task, origin, dataset, model). ``task`` is the paper's task name for our analogue; the paper's
    rows carry its dataset, ours the probe set and our task name.
    """
    metrics = ["MAE", "R2"] if kind == "regression" else ["AUC", "F1", "accuracy"]
    pub = load_published_tables(published_yaml)
    pub = pub["table3_regression" if kind == "regression" else "table4_classification"]
    summary = summarise_probes(results)
    rows: list[dict[str, Any]] = []
    for set_name, specs in tasks.items():
        for spec in specs:
            if (spec.kind == "regression") != (kind == "regression"):
                continue
            paper_tasks = [probe_task(t) for t in spec.analogue_of]
            title = (" / ".join(dict.fromkeys(t.paper_task for t in paper_tasks))
                     or f"(no paper task) {spec.name}")
            for t in paper_tasks:
                p = pub[pub["dataset"] == t.id]
                for model, g in p.groupby("method", sort=False):
                    vals = dict(zip(g["metric"], g["value"], strict=True))
                    rows.append({"task": title, "origin": "published", "dataset": t.paper_dataset,
                                 "model": model, **{m: _cell(vals.get(m, np.nan), vals.get(f"{m}_sd", np.nan),
                                                             decimals) for m in metrics}})
            s = summary[(summary["probe_set"] == set_name) & (summary["task"] == spec.name)]
            for model, g in s.groupby("method", sort=False):
                mean, std = g.set_index("metric")["mean"], g.set_index("metric")["std"]
                rows.append({"task": title, "origin": "this study", "dataset": f"{set_name}: {spec.name}",
                             "model": model, **{m: _cell(mean.get(m, np.nan), std.get(m, np.nan), decimals)
                                                for m in metrics}})
    return pd.DataFrame(rows).set_index(["task", "origin", "dataset", "model"])


def analogue_table(tasks: Mapping[str, Sequence[ProbeTaskSpec]]) -> pd.DataFrame:
    """Which of our probing tasks stands for which of the paper's (with the notes from the params)."""
    rows = []
    for set_name, specs in tasks.items():
        for s in specs:
            paper = [probe_task(t) for t in s.analogue_of]
            rows.append({"probe set": set_name, "task": s.name, "target column": s.target, "type": s.kind,
                         "unit": s.unit or "", "paper task(s)": "; ".join(
                             f"{t.paper_dataset}: {t.paper_task}" for t in paper) or "—", "note": s.note})
    return pd.DataFrame(rows)


def win_table(results: pd.DataFrame, method: str = "AnyPPG") -> pd.DataFrame:
    """Per task: each method's mean primary metric (MAE for regression, AUC otherwise), the chance level,
    which pretrained model (AnyPPG, SimCLR, BYOL: random init and chance excluded) is best, and how far the
    best is from chance (relative MAE reduction, or AUC - 0.5; near 0 means no model learned the task)."""
    s = summarise_probes(results)
    regression = s["task"].isin(results.loc[results["kind"] == "regression", "task"])
    primary = s[(regression & (s["metric"] == "MAE")) | (~regression & (s["metric"] == "AUC"))]
    wide = primary.pivot_table(index=["probe_set", "task", "metric"], columns="method", values="mean",
                               sort=False)
    models = [c for c in wide.columns if c not in (CHANCE, METHOD_LABELS["random_init"])]
    lower_better = wide.index.get_level_values("metric") == "MAE"
    best = np.where(lower_better, wide[models].idxmin(axis=1), wide[models].idxmax(axis=1))
    best_value = np.where(lower_better, wide[models].min(axis=1), wide[models].max(axis=1))
    wide["best pretrained"] = best
    wide[f"{method} best"] = wide["best pretrained"] == method
    if CHANCE in wide:
        # how far the best pretrained model is from chance: relative MAE reduction, or AUC - 0.5
        wide["best vs chance"] = np.where(lower_better, 1 - best_value / wide[CHANCE], best_value - 0.5)
    return wide


# -------------------------------------------------------------------------------------------- published
def load_published_tables(path: Path) -> dict[str, pd.DataFrame]:
    """``params/published/anyppg.yaml``'s tables 2-4 as long tables (dataset, method, metric, value)."""
    out = {}
    for table in ("table2_retrieval", "table3_regression", "table4_classification"):
        out[table] = load_published(path, table).drop(columns="table").rename(columns={"task": "dataset"})
    return out
