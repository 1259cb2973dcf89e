"""AnyPPG's evaluation steps: PPG-to-ECG retrieval (Table 2) and nested-CV linear probing (Tables 3 and 4).

Both write tidy results (``method, task, probe, metric, seed, value`` + extras) with
:mod:`physiofm.evaluation.results`, and lay them out next to the paper's published numbers
(``params/published/anyppg.yaml``).

Retrieval reference ("chance"): a model that ranks the gallery at random puts the match at a uniformly
random rank of a batch of ``b`` pairs, so R@k = min(k, b) / b, MRR = H_b / b and mAP@10 = H_min(10, b) / b
(H_n the n-th harmonic number), averaged over the batches like the scores.

Probing reference ("chance"): the same nested CV on a constant feature, i.e. the training-fold mean for
regression and the training-fold class prior for classification (AUC 0.5, accuracy = majority rate).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from tqdm.auto import tqdm

from physiofm.anyppg.data import PairDataset, iter_batches, split_rows
from physiofm.anyppg.params import ModelSpec, ProbeTaskSpec, ProbingParams, RetrievalParams
from physiofm.anyppg.pretrain import METHOD_LABELS, load_pretrained
from physiofm.anyppg.tasks import PRETRAIN_SOURCES, probe_task
from physiofm.embeddings import compute_embeddings
from physiofm.evaluation import nested_cv, read_results, results_frame, retrieval_metrics, write_results
from physiofm.store import SegmentStore

RETRIEVAL_METRICS = ("R@1", "R@5", "R@10", "mAP@10", "MRR")
METRIC_NAMES = {"mae": "MAE", "r2": "R2", "auroc": "AUC", "f1": "F1", "accuracy": "accuracy"}
CHANCE = "Chance"
PAPER_SOURCE_NAMES = {s.dataset: s.paper_name for s in PRETRAIN_SOURCES}


def _encode_ppg_shared(model, batch):
    return model.embed_ppg(batch["ppg"])


def _encode_ecg_shared(model, batch):
    return model.embed_ecg(batch["ecg"])


def _encode_ppg_features(model, batch):
    return model.encode_ppg(batch["ppg"])


def _store_key(store: SegmentStore) -> str:
    """Identity of a store's content for embedding caches: its config and shard checksums."""
    shards = [(s["shard"], s["count"], {g: v["checksum"] for g, v in s["groups"].items()})
              for s in store.meta["shards"]]
    payload = json.dumps({"config": store.meta.get("config"), "shards": shards}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


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


def test_embeddings(model, stores: Mapping[str, SegmentStore], splits: pd.DataFrame, params: RetrievalParams,
                    cache_dir: Path, checkpoint: Path | None, source: str,
                    progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(PPG queries, ECG gallery) of one source's ``params.split`` pairs in the shared space, row i of
    both from the same window, in store order; cached under ``cache_dir`` by checkpoint and data."""
    store = stores[source]
    ds = PairDataset({source: store}, split_rows(splits, params.split, [source]))
    if len(ds) < 2:
        raise ValueError(f"anyppg retrieval: source {source!r} has {len(ds)} {params.split} pairs; need >= 2")
    key = f"{source}|{params.split}|{_store_key(store)}|{len(ds)}"
    out = []
    for what, fn in (("ppg", _encode_ppg_shared), ("ecg", _encode_ecg_shared)):
        out.append(compute_embeddings(model, iter_batches(ds, params.embed_batch_size), encode=fn,
                                      cache_dir=cache_dir, dataset_key=f"{key}|{what}", checkpoint=checkpoint,
                                      progress=progress).X)
    return out[0], out[1]


def retrieval_results(model, stores: Mapping[str, SegmentStore], splits: pd.DataFrame,
                      params: RetrievalParams, cache_dir: Path, checkpoint: Path | None,
                      method: str = "anyppg", seed: int = 0, progress: bool = True) -> pd.DataFrame:
    """PPG->ECG retrieval per source on the held-out ``params.split``, plus the chance reference.

    Returns tidy rows (method, task = source, probe = "retrieval", metric, seed, value) with extra columns
    ``n_samples`` and ``batch_pairs`` (the batch actually used: ``min(params.batch_pairs, n_samples)``),
    then the weighted and macro aggregates over sources (``batch_pairs`` -1: several batch sizes).
    """
    rows: list[dict[str, Any]] = []
    for name in stores:
        query, gallery = test_embeddings(model, stores, splits, params, cache_dir, checkpoint, name, progress)
        n = len(query)
        batch = min(params.batch_pairs, n)
        ours = retrieval_metrics(query, gallery, ks=params.ks, batch_size=batch)
        for label, scores in ((METHOD_LABELS[method], ours), (CHANCE, chance_retrieval(n, batch, params.ks))):
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
def task_labels(index: pd.DataFrame, task: ProbeTaskSpec) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(y, usable-row mask, class names) of one probing task from a segment index.

    Regression targets are floats; binary targets 0/1 (from ``positive`` values when given); multiclass
    targets integer codes of the sorted category names.
    """
    if task.target not in index.columns:
        raise KeyError(f"probe task {task.name!r}: the segment index has no column {task.target!r} "
                       f"(columns: {sorted(index.columns)})")
    col = index[task.target]
    ok = col.notna().to_numpy()
    if task.kind == "regression":
        y = pd.to_numeric(col, errors="raise").to_numpy(float)
        return y, ok & np.isfinite(y), []
    if task.positive is not None:
        return col.astype(str).isin(task.positive).to_numpy(int), ok, ["other", "+".join(task.positive)]
    if task.kind == "binary":
        y = pd.to_numeric(col, errors="raise").fillna(-1).to_numpy()
        bad = set(np.unique(y[ok])) - {0, 1}
        if bad:
            raise ValueError(f"probe task {task.name!r}: binary column {task.target!r} holds {sorted(bad)}")
        return y.astype(int), ok, ["0", "1"]
    classes = sorted(col[ok].astype(str).unique())
    codes = pd.Categorical(col.astype(str), categories=classes).codes
    return np.asarray(codes, int), ok & (codes >= 0), classes


def _grid(kind: str, params: ProbingParams) -> dict[str, list]:
    if kind == "regression":
        return {"model__alpha": list(params.ridge_alpha), "model__solver": list(params.ridge_solvers)}
    return {"model__C": list(params.logreg_C), "model__solver": list(params.logreg_solvers)}


def probe_one(X: np.ndarray, index: pd.DataFrame, task: ProbeTaskSpec, params: ProbingParams,
              seed: int) -> pd.DataFrame:
    """Nested CV of one task on features ``X`` (N, D): one row per (outer fold, metric)."""
    y, ok, _ = task_labels(index, task)
    groups = index["subject_id"].astype(str).to_numpy()[ok] if params.group_by_subject else None
    res = nested_cv(X[ok], y[ok], task="regression" if task.kind == "regression" else "classification",
                    groups=groups, outer_folds=params.outer_folds, inner_folds=params.inner_folds, seed=seed,
                    max_iter=params.max_iter, param_grid=_grid(task.kind, params), n_jobs=params.n_jobs)
    folds = res.folds[res.folds["metric"].isin(METRIC_NAMES)].copy()
    folds["metric"] = folds["metric"].map(METRIC_NAMES)
    folds["best_params"] = folds["best_params"].map(lambda p: json.dumps(p, sort_keys=True, default=str))
    folds["n"] = int(ok.sum())
    return folds


def probe_features(model, store: SegmentStore, cache_dir: Path, checkpoint: Path | None,
                   batch_size: int, progress: bool = True) -> np.ndarray:
    """(N, feature_dim) frozen PPG-encoder features of every segment of a probe store (cached)."""
    ds = PairDataset({"probe": store}, {"probe": np.arange(len(store))}, ("ppg",))
    return compute_embeddings(model, iter_batches(ds, batch_size), encode=_encode_ppg_features,
                              cache_dir=cache_dir, dataset_key=f"probe|{_store_key(store)}",
                              checkpoint=checkpoint, progress=progress).X


def run_probing(methods: Sequence[str], probe_stores: Mapping[str, SegmentStore],
                tasks: Mapping[str, Sequence[ProbeTaskSpec]], params: ProbingParams, model_spec: ModelSpec,
                pretrain_dir: Path, out: Path, seed: int, progress: bool = True) -> pd.DataFrame:
    """Every (method, probe set, task) nested CV plus the chance reference; tidy results.

    Each (method, set, task) result is kept in ``out/probes/`` with a hash of everything it depends on
    (features, labels, params), so a rerun only computes what changed.
    """
    out = Path(out)
    frames = []
    jobs = [(m, s, t) for m in [*methods, "chance"] for s in probe_stores for t in tasks[s]]
    bar = tqdm(jobs, desc="probes", disable=not progress)
    feats: dict[tuple[str, str], tuple[np.ndarray, str]] = {}
    for method, set_name, task in bar:
        bar.set_postfix_str(f"{method} {set_name}/{task.name}")
        store = probe_stores[set_name]
        if (method, set_name) not in feats:
            if method == "chance":
                X, fkey = np.zeros((len(store), 1), np.float32), "constant"
            else:
                model, ckpt = load_pretrained(method, model_spec, pretrain_dir, params.checkpoint, seed)
                X = probe_features(model, store, out / "features", ckpt, params.embed_batch_size, progress)
                fkey = hashlib.sha256(X.tobytes()).hexdigest()[:16]
            feats = {k: v for k, v in feats.items() if k[0] == method}  # keep one method's features
            feats[(method, set_name)] = (X, fkey)
        X, fkey = feats[(method, set_name)]
        config = hashlib.sha256(json.dumps(
            [fkey, _store_key(store), task.model_dump(mode="json"), params.model_dump(mode="json"), seed],
            sort_keys=True).encode()).hexdigest()[:16]
        path = out / "probes" / method / set_name / f"{task.name}.parquet"
        if path.is_file():
            cached = read_results(path)
            if (cached["config"] == config).all():
                frames.append(cached)
                continue
        folds = probe_one(X, store.index, task, params, seed)
        label = CHANCE if method == "chance" else METHOD_LABELS[method]
        df = results_frame(folds.assign(method=label, task=task.name, probe="linear", seed=seed,
                                        probe_set=set_name, kind=task.kind, config=config))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_results(df, path)
        frames.append(df)
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
    """``params/published/anyppg.yaml`` as long tables (dataset, method, metric, value) per table name.

    The file nests ``table -> dataset/task -> method -> metric -> value`` (sds as ``<metric>_sd``);
    :func:`physiofm.evaluation.load_published` expects another layout, so it is read here.
    """
    raw = yaml.safe_load(Path(path).read_text())
    out = {}
    for table in ("table2_retrieval", "table3_regression", "table4_classification"):
        if table not in raw:
            raise KeyError(f"{path}: no {table!r} section")
        rows = [{"dataset": d, "method": m, "metric": k, "value": float(v)}
                for d, methods in raw[table].items()
                for m, metrics in methods.items()
                for k, v in metrics.items()]
        out[table] = pd.DataFrame(rows)
    return out


def published_path() -> Path:
    from physiofm.paths import repo_root

    return repo_root() / "params" / "published" / "anyppg.yaml"
