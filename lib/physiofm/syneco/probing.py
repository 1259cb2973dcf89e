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

from physiofm.evaluation import evaluate_probe, results_frame
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
        load_model_weights(method.model, checkpoint)
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
def pooled(X: np.ndarray, rows: pd.DataFrame, labels: pd.DataFrame, max_segments: int) -> tuple[np.ndarray, pd.DataFrame]:
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
    first = rows.drop_duplicates("subject_id").set_index("subject_id").loc[uniq].reset_index()
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


def probes_for(task: Task, probes: Sequence[str]) -> list[str]:
    """Regression: RF only (the paper's FC uses cross-entropy and LR is a classifier)."""
    return [p for p in probes if p == "rf"] if task.kind == "regression" else list(probes)


def probe_task(X: np.ndarray, labels: pd.DataFrame, task: Task, *, method: str, probes: Sequence[str],
               seeds: Sequence[int], test_fraction: float, max_segments: int, probe_kwargs: Mapping[str, dict],
               ) -> pd.DataFrame:
    """Tidy results (method, task, probe, metric, seed, value, n_train, n_test) of one representation."""
    rows = task_rows(labels, task)
    if task.rows == "subject":
        Xt, rows = pooled(X, rows, labels, max_segments)
    else:
        Xt = X[rows["row"].to_numpy()]
    y = task_targets(rows, task, labels)
    out = []
    for seed in seeds:
        test = _split(rows, y, task, seed, test_fraction)
        for probe in probes_for(task, probes):
            with warnings.catch_warnings():
                # scikit-learn defaults (lbfgs, max_iter=100) as the paper; on 512-d embeddings lbfgs often
                # stops at that limit, which is the protocol, not a failure.
                warnings.simplefilter("ignore", ConvergenceWarning)
                scores = evaluate_probe(probe, Xt[~test], y[~test], Xt[test], y[test], task=task.probe_task,
                                        seed=seed, **probe_kwargs.get(probe, {}))
            for metric in ("auroc", "auprc") if task.kind != "regression" else ("mae", "r2"):
                out.append({"method": method, "task": task.id, "probe": probe, "metric": metric, "seed": seed,
                            "value": scores[metric], "inputs": task.inputs, "rows": task.rows,
                            "n_train": int((~test).sum()), "n_test": int(test.sum())})
    return results_frame(out)


def probe_all(embeddings: Mapping[str, Mapping[str, np.ndarray]], labels: pd.DataFrame, tasks: Iterable[Task],
              *, probes: Sequence[str], seeds: Sequence[int], test_fraction: float, max_segments: int,
              probe_kwargs: Mapping[str, dict], skip: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """:func:`probe_task` for every method (``embeddings``: method -> its saved representations) and task.

    ``skip``: task id -> methods not evaluated on it (e.g. two-channel models on three-channel tasks).
    """
    tasks = list(tasks)
    jobs = [(m, t) for m in embeddings for t in tasks if m not in (skip or {}).get(t.id, ())
            and f"in:{t.inputs}" in embeddings[m]]
    parts = []
    for m, t in tqdm(jobs, desc="probe"):
        parts.append(probe_task(embeddings[m][f"in:{t.inputs}"], labels, t, method=m, probes=probes,
                                seeds=seeds, test_fraction=test_fraction, max_segments=max_segments,
                                probe_kwargs=probe_kwargs))
    return results_frame(pd.concat(parts, ignore_index=True))


def summary(results: pd.DataFrame, index: str = "method", columns: Sequence[str] = ("task",)) -> pd.DataFrame:
    """Mean over seeds, wide (rows ``index``, columns ``columns``)."""
    return results.groupby([index, *columns])["value"].mean().unstack(list(columns))
