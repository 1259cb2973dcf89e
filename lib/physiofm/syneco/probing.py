"""Frozen-embedding evaluation of the SyneCo study (section 3, App. C.3).

1. :func:`embed_store`: every pretrained method encodes every downstream segment once; from the
   per-channel 512-d embeddings it forms the representation the paper probes for each input set
   ("ecg" = ECG-II + ECG-V, "ppg", "all"): the fused embedding for SyneCo / SyneCo 2mod / Stack (absent
   channels enter the fusion as zero tokens, as channel dropout trained them to), the concatenation of the
   present channels for SleepFM / SimCLR / BYOL. Per-channel embeddings are kept too (``ch:<channel>``).
2. :func:`probe_task`: for each seed, a subject-level train / test split (or the dataset's own split), the
   rows of the task (every segment, one per subject, or subject means of up to ``max_segments`` segments),
   and the FC / LR / RF probes of :mod:`physiofm.evaluation.probes` (LR and RF on standardised embeddings,
   scikit-learn defaults; FC a linear head with early stopping). Regression is probed by RF only, as in
   the paper (its FC head is trained with cross-entropy, LR is a classifier).

Interpretation the paper leaves open: seeds 0 / 42 / 1234 re-draw the probe and, on the built-in cohort
(which has no official split), the subjects held out for testing; pretraining runs once per method.
The paper reports SyneCo 2mod and SleepFM 2mod on PPG benchmarks without saying how an ECG-only model reads
PPG; here the PPG segment, linearly resampled to the ECG length, goes through their ECG-II encoder.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm

from physiofm.evaluation import UndefinedMetricWarning, evaluate_probe, results_frame
from physiofm.store import SegmentDataset, SegmentStore
from physiofm.syneco.common import concat_present, evaluating
from physiofm.syneco.methods import Method, build_method
from physiofm.syneco.tasks import INPUTS, Task, task_rows, task_targets
from physiofm.training import load_model_weights

RANDOM_INIT = "random_init"  # an untrained SyneCo model: what the architecture gives without pretraining


def load_method(name: str, config: Mapping, checkpoint: Path | None, seed: int = 0,
                device: str | torch.device = "cpu") -> Method:
    """Build method ``name`` and load its pretrained weights (``checkpoint`` None: random init, seeded)."""
    torch.manual_seed(seed)
    method = build_method("syneco" if name == RANDOM_INIT else name, dict(config))
    if checkpoint is not None:
        load_model_weights(checkpoint, method.model)
    method.model.to(device).eval()
    return method


@torch.no_grad()
def representations(method: Method, batch: Mapping[str, torch.Tensor], inputs: Mapping[str, Sequence[str]],
                    ecg_len: int) -> dict[str, torch.Tensor]:
    """``{"in:<set>": (B, D), "ch:<channel>": (B, 512)}`` for one batch (see the module docstring)."""
    model = method.model
    device = next(model.parameters()).device
    x = {ch: batch[ch].to(device, torch.float32) for ch in model.channels if ch in batch}
    with evaluating(model):
        e = model.encode(x) if x else {}
        out = {f"ch:{ch}": v for ch, v in e.items()}
        for name, chans in inputs.items():
            sub = {ch: e[ch] for ch in chans if ch in e}
            if not sub and tuple(chans) == ("ppg",) and "ppg" in batch and "ecg_ii" in model.channels:
                ppg = F.interpolate(batch["ppg"].to(device, torch.float32), size=ecg_len, mode="linear",
                                    align_corners=False)
                sub = model.encode({"ecg_ii": ppg})
            if not sub:
                continue
            out[f"in:{name}"] = (model.fuse(sub) if method.probe_key == "fused"
                                 else concat_present(sub, model.channels))
    return out


def embed_store(method: Method, store: SegmentStore, *, batch_size: int, ecg_len: int,
                inputs: Mapping[str, Sequence[str]] = INPUTS, desc: str = "embed") -> dict[str, np.ndarray]:
    """Representations of every segment of ``store`` in store order: name -> (N, D) float32."""
    groups = [g for g in ("ecg_ii", "ecg_v", "ppg") if g in store.groups]
    usable = {k: v for k, v in inputs.items() if all(c in groups for c in v)}
    ds = SegmentDataset(store, groups=groups)
    chunks: dict[str, list[np.ndarray]] = {}
    for batch in tqdm(ds.loader(batch_size), desc=desc, leave=False):
        for k, v in representations(method, batch, usable, ecg_len).items():
            chunks.setdefault(k, []).append(v.float().cpu().numpy())
    return {k: np.concatenate(v) for k, v in chunks.items()}


def save_embeddings(path: Path, emb: Mapping[str, np.ndarray]) -> Path:
    """Write ``{name: (N, D)}`` to ``path`` (.npz) atomically."""
    path = Path(path)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, **{k.replace(":", "__"): v for k, v in emb.items()})
    tmp.replace(path)
    return path


def load_embeddings(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k.replace("__", ":"): z[k] for k in z.files}


# ------------------------------------------------------------------------------------------- probing
def pooled(X: np.ndarray, rows: pd.DataFrame, labels: pd.DataFrame,
           max_segments: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Subject means of up to ``max_segments`` segments (first by time) per subject in ``rows``.

    Returns the (S, D) means and one label row per subject (its first segment's row).
    """
    subjects = rows["subject_id"].unique()
    segs = labels[labels["subject_id"].isin(subjects)].sort_values(["subject_id", "record_id", "offset_s"])
    segs = segs.groupby("subject_id", sort=False).head(max_segments)
    codes, uniq = pd.factorize(segs["subject_id"])
    sums = np.zeros((len(uniq), X.shape[1]))
    np.add.at(sums, codes, X[segs["row"].to_numpy()])
    means = (sums / np.bincount(codes)[:, None]).astype(np.float32)
    first = rows.drop_duplicates("subject_id").set_index("subject_id").loc[list(uniq)]
    first = first.rename_axis("subject_id").reset_index()
    return means, first


def _split(rows: pd.DataFrame, y: np.ndarray, task: Task, seed: int, test_fraction: float) -> np.ndarray:
    """Boolean test mask over ``rows``: the dataset's own split if it has one, else a seeded subject split
    (stratified by the label when each subject is one row and every class can be split)."""
    if "split" in rows and rows["split"].notna().all() and (rows["split"] == "test").any():
        return (rows["split"] == "test").to_numpy()
    subjects = rows["subject_id"].to_numpy()
    uniq = pd.unique(subjects)
    strat = None
    if task.rows != "segment" and task.kind in ("binary", "multiclass"):
        _, counts = np.unique(y, return_counts=True)
        strat = y if counts.min() >= 2 else None
    if task.rows != "segment":
        _, test = train_test_split(np.arange(len(rows)), test_size=test_fraction, random_state=seed,
                                   stratify=strat)
        mask = np.zeros(len(rows), bool)
        mask[test] = True
        return mask
    _, test_subjects = train_test_split(uniq, test_size=test_fraction, random_state=seed)
    return np.isin(subjects, test_subjects)


def _label_space(X_tr, y_tr, X_te, y_te, task: Task):
    """Labels the training split can teach: multi-class -> the classes seen in training, renumbered 0..K-1
    (test rows of unseen classes dropped); multi-label -> the labels that vary in training. Returns Nones
    when fewer than two classes (or no varying label) are left."""
    if task.kind == "multilabel":
        varying = y_tr.min(0) != y_tr.max(0)
        if not varying.any():
            return None, None, None, None
        return X_tr, y_tr[:, varying], X_te, y_te[:, varying]
    if task.kind in ("binary", "multiclass"):
        classes = np.unique(y_tr)
        if len(classes) < 2:
            return None, None, None, None
        seen = np.isin(y_te, classes)
        return X_tr, np.searchsorted(classes, y_tr), X_te[seen], np.searchsorted(classes, y_te[seen])
    return X_tr, y_tr, X_te, y_te


def _validation(X: np.ndarray, y: np.ndarray, task: Task, seed: int) -> dict[str, np.ndarray]:
    """10 % of the training rows for the FC head's early stopping (stratified when every class can be)."""
    strat = None
    if task.kind in ("binary", "multiclass"):
        _, counts = np.unique(y, return_counts=True)
        strat = y if counts.min() >= 2 and len(counts) <= max(1, int(0.1 * len(y))) else None
    tr, va = train_test_split(np.arange(len(y)), test_size=0.1, random_state=seed, stratify=strat)
    return {"X_train": X[tr], "y_train": y[tr], "X_val": X[va], "y_val": y[va]}


def probes_for(task: Task, probes: Sequence[str]) -> list[str]:
    """Regression: RF only (the paper's FC uses cross-entropy and LR is a classifier)."""
    return [p for p in probes if p == "rf"] if task.kind == "regression" else list(probes)


def probe_task(X: np.ndarray, labels: pd.DataFrame, task: Task, *, method: str, probes: Sequence[str],
               seeds: Sequence[int], test_fraction: float, max_segments: int,
               probe_kwargs: Mapping[str, dict], segment_rows: int | None = None) -> pd.DataFrame:
    """Tidy results (method, task, probe, metric, seed, value, n_train, n_test) of one representation.

    ``segment_rows``: for "segment" tasks, at most this many segments per subject (the same for every method).
    """
    rows = task_rows(labels, task, segment_rows)
    if task.rows == "subject":
        Xt, rows = pooled(X, rows, labels, max_segments)
    else:
        Xt = X[rows["row"].to_numpy()]
    y = task_targets(rows, task, labels)
    out = []
    for seed in seeds:
        test = _split(rows, y, task, seed, test_fraction)
        X_tr, y_tr, X_te, y_te = _label_space(Xt[~test], y[~test], Xt[test], y[test], task)
        for probe in probes_for(task, probes):
            metrics = ("auroc", "auprc") if task.kind != "regression" else ("mae", "r2")
            if X_tr is None:  # a training split with one class (tiny ci cohorts): NaN, shown as such
                scores = dict.fromkeys(metrics, np.nan)
            else:
                with warnings.catch_warnings():
                    # scikit-learn defaults (lbfgs, max_iter=100) as the paper; on 512-d embeddings lbfgs
                    # often stops at that limit, which is the protocol, not a failure. A test split with
                    # one class gives NaN AUROC.
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    warnings.simplefilter("ignore", UndefinedMetricWarning)
                    # scikit-learn's notes on degenerate tiny splits (a label absent from a fold)
                    warnings.filterwarnings("ignore", category=UserWarning, module="sklearn")
                    fit = ({"X_train": X_tr, "y_train": y_tr} if probe != "fc"
                           else _validation(X_tr, y_tr, task, seed))
                    kind = "rf_regression" if probe == "rf" and task.kind == "regression" else probe
                    scores = evaluate_probe(probe, X_test=X_te, y_test=y_te, task=task.probe_task, seed=seed,
                                            **fit, **probe_kwargs.get(kind, probe_kwargs.get(probe, {})))
            for metric in metrics:
                out.append({"method": method, "task": task.id, "probe": probe, "metric": metric, "seed": seed,
                            "value": scores[metric], "inputs": task.inputs, "rows": task.rows,
                            "n_train": int((~test).sum()), "n_test": int(test.sum())})
    return results_frame(out)


def probe_all(embeddings: Mapping[str, Mapping[str, np.ndarray]], labels: pd.DataFrame,
              jobs: Iterable[tuple[str, Task]], *, probes: Sequence[str], seeds: Sequence[int],
              test_fraction: float, max_segments: int, probe_kwargs: Mapping[str, dict],
              segment_rows: int | None = None) -> pd.DataFrame:
    """:func:`probe_task` for every (method, task) job (``embeddings``: method -> its representations)."""
    jobs = [(m, t) for m, t in jobs if f"in:{t.inputs}" in embeddings[m]]
    parts = []
    for m, t in tqdm(jobs, desc="probe"):
        parts.append(probe_task(embeddings[m][f"in:{t.inputs}"], labels, t, method=m, probes=probes,
                                seeds=seeds, test_fraction=test_fraction, max_segments=max_segments,
                                probe_kwargs=probe_kwargs, segment_rows=segment_rows))
    return results_frame(pd.concat(parts, ignore_index=True))


def probe_options(rf_n_estimators: int, fc_max_epochs: int, fc_patience: int,
                  rf_regression_max_features: str | float = 1.0) -> dict[str, dict]:
    """Constructor options per probe kind (LR: scikit-learn defaults); ``rf_regression`` for regression."""
    return {"rf": {"n_estimators": rf_n_estimators},
            "rf_regression": {"n_estimators": rf_n_estimators, "max_features": rf_regression_max_features},
            "fc": {"max_epochs": fc_max_epochs, "patience": fc_patience}}


def summary(results: pd.DataFrame, index: str = "method", columns: Sequence[str] = ("task",)) -> pd.DataFrame:
    """Mean over seeds, wide (rows ``index``, columns ``columns``)."""
    return results.groupby([index, *columns])["value"].mean().unstack(list(columns))


def table_jobs(source: str, methods: Sequence[str], reference: bool) -> list[tuple[str, str]]:
    """(method, task id) pairs that fill Tables 1-3: each column's task for that table's method rows that
    were trained (plus the untrained reference when ``reference``), without duplicates."""
    from physiofm.syneco.tasks import PAPER_TABLES, THREE_CHANNEL, column_task

    jobs: dict[tuple[str, str], None] = {}
    for table in PAPER_TABLES.values():
        rows = [m for m in table.methods.values() if m in methods] + ([RANDOM_INIT] if reference else [])
        for paper_task in table.columns:
            task = column_task(table, paper_task, source)
            if task is None:
                continue
            for m in rows:
                if paper_task in table.only_three_channel and m not in (*THREE_CHANNEL, RANDOM_INIT):
                    continue
                jobs[(m, task)] = None
    return list(jobs)


def embeddings_for(method: str, config: Mapping, checkpoint: Path | None, store: SegmentStore, cache: Path, *,
                   batch_size: int, ecg_len: int, seed: int,
                   device: str) -> tuple[dict[str, np.ndarray], Path]:
    """:func:`embed_store` of one method, cached in ``cache`` under the checkpoint's content hash.

    Returns the representations and the cache file."""
    from physiofm.training import file_sha256

    key = file_sha256(checkpoint)[:16] if checkpoint is not None else f"init{seed}"
    path = Path(cache) / f"{method}-{key}-{len(store)}.npz"
    if path.is_file():
        return load_embeddings(path), path
    path.parent.mkdir(parents=True, exist_ok=True)
    m = load_method(method, config, checkpoint, seed=seed, device=device)
    emb = embed_store(m, store, batch_size=batch_size, ecg_len=ecg_len, desc=f"embed {method}")
    save_embeddings(path, emb)
    return emb, path


def embed_methods(methods: Sequence[str], config: Mapping, pretrain_dir: Path, store: SegmentStore,
                  cache: Path, **kwargs) -> dict[str, dict[str, np.ndarray]]:
    """:func:`embeddings_for` every method (best checkpoints of ``pretrain_dir``; :data:`RANDOM_INIT`
    untrained). Writes ``cache/manifest.json`` (method -> file); deletes cache files of older checkpoints."""
    from physiofm.syneco.data import write_json
    from physiofm.syneco.pretrain import best_checkpoint

    out, files = {}, {}
    for m in methods:
        ckpt = None if m == RANDOM_INIT else best_checkpoint(pretrain_dir, m)
        out[m], path = embeddings_for(m, config, ckpt, store, cache, **kwargs)
        files[m] = path.name
    for stale in set(p.name for p in Path(cache).glob("*.npz")) - set(files.values()):
        (Path(cache) / stale).unlink()
    write_json(Path(cache) / "manifest.json", files)
    return out


def cached_embeddings(cache: Path) -> dict[str, dict[str, np.ndarray]]:
    """The representations :func:`embed_methods` wrote to ``cache``, by method."""
    from physiofm.syneco.data import read_json

    manifest = Path(cache) / "manifest.json"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest}: no embeddings; run the probe step first")
    return {m: load_embeddings(Path(cache) / f) for m, f in read_json(manifest).items()}
