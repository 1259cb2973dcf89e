"""One probe protocol: tasks + frozen embeddings -> tidy probe results, for every paper.

Three designs, chosen by a paper's params:

* :func:`holdout_probe` (SyneCo, App. C.3): for each seed, a held-out test split of subjects (or the
  dataset's own split), FC / LR / RF probes of :mod:`physiofm.evaluation.probes` on the training rows,
  scored on the test rows; optionally on a stratified ``label_fraction`` of the training rows, or on a
  low-incidence training set (``case_ratio``: a fixed number of rows, a given share of them cases);
* :func:`nested_cv_probe` (AnyPPG, Methods): nested cross-validation of a linear model with an inner
  hyper-parameter search (:func:`physiofm.evaluation.nested_cv`), folds grouped by subject;
* :func:`split_probe` (D-BETA Table 2, MERL's protocol): a linear head on the dataset's own train /
  validation / test split, trained on 1 / 10 / 100 % of the training rows, the epoch chosen by validation
  AUROC, scored on the test rows.

They read the samples a task defines (:func:`samples`): every segment, one segment per subject, or the
mean of a subject's segment embeddings ("subject": up to ``max_segments`` segments, first by time, as
SyneCo pools PTB-XL patients, PPG-BP subjects and VitalDB cases). Rows are ``method, task, probe, metric,
seed, value`` plus extras (:mod:`physiofm.evaluation.results`).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from physiofm.embeddings import subject_means
from physiofm.evaluation.metrics import UndefinedMetricWarning
from physiofm.evaluation.nested_cv import nested_cv
from physiofm.evaluation.probes import LinearHeadProbe, evaluate_probe, make_probe, probe_scores
from physiofm.evaluation.results import results_frame
from physiofm.evaluation.subsample import (
    label_fraction_indices,
    low_incidence_indices,
    random_fraction_indices,
)
from physiofm.evaluation.tasks import Task, task_rows, task_targets
from physiofm.parallel import parallel_map


# ---------------------------------------------------------------------------------------------- samples
def pooled(X: np.ndarray, rows: pd.DataFrame, labels: pd.DataFrame,
           max_segments: int | None) -> tuple[np.ndarray, pd.DataFrame]:
    """Subject means of up to ``max_segments`` segments (first by time) of each subject in ``rows``.

    Returns the (S, D) means and one label row per subject (its first row in ``rows``).
    """
    subjects = rows["subject_id"].unique()
    segs = labels[labels["subject_id"].isin(subjects)].sort_values(["subject_id", "record_id", "offset_s"])
    if max_segments is not None:
        segs = segs.groupby("subject_id", sort=False).head(max_segments)
    codes, uniq = pd.factorize(segs["subject_id"])
    means = subject_means(X[segs["row"].to_numpy()], codes, len(uniq))
    first = rows.drop_duplicates("subject_id").set_index("subject_id").loc[list(uniq)]
    return means, first.rename_axis("subject_id").reset_index()


def samples(X: np.ndarray, labels: pd.DataFrame, task: Task, *, max_segments: int | None = None,
            segment_rows: int | None = None) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """``(X_task, y, rows)``: the probe samples of ``task`` from segment embeddings ``X`` (rows aligned
    with the label table's ``row``); ``segment_rows`` caps "segment" rows per subject."""
    rows = task_rows(labels, task, segment_rows)
    if task.rows == "subject":
        Xt, rows = pooled(X, rows, labels, max_segments)
    else:
        Xt = X[rows["row"].to_numpy()]
    return Xt, task_targets(rows, task, labels)[0], rows


# ------------------------------------------------------------------------------------------- hold-out
# Why a probe was not fitted (the ``note`` of its NaN rows); fitted rows have an empty note.
ONE_CLASS = "not fitted: every sample of the task has the same label"
TOO_FEW_SUBJECTS = "not fitted: fewer than two subjects, so no held-out split"
ONE_CLASS_IN_TRAINING = "not fitted: the training split has one class (or no varying label)"


def unfittable(y: np.ndarray, rows: pd.DataFrame, task: Task) -> str:
    """Why no held-out probe can be fitted on these samples at all (``""`` when one can): a classification
    task whose labels have one value, or fewer than two subjects to split (without the dataset's own)."""
    if task.kind in ("binary", "multiclass") and len(np.unique(y)) < 2:
        return ONE_CLASS
    if task.kind == "multilabel" and not (y.min(0) != y.max(0)).any():
        return ONE_CLASS
    own = "split" in rows and rows["split"].notna().all() and (rows["split"] == "test").any() \
        and (rows["split"] != "test").any()
    if not own and rows["subject_id"].nunique() < 2:
        return TOO_FEW_SUBJECTS
    return ""


def split_roles(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, val, test) masks over ``rows`` from their ``split`` column (``train`` / ``val`` / ``test``):
    the dataset's own three-way split, validation rows kept out of training."""
    if "split" not in rows or not rows["split"].isin(["train", "val", "test"]).all():
        got = sorted(map(str, rows["split"].unique())) if "split" in rows else "no such column"
        raise ValueError(f"a three-way split needs a 'split' column of train / val / test on every row; "
                         f"got {got}")
    split = rows["split"].to_numpy()
    if not (split == "train").any() or not (split == "test").any():
        raise ValueError("a three-way split needs training and test rows; the split column holds "
                         f"{sorted(map(str, pd.unique(split)))}")
    return split == "train", split == "val", split == "test"


def subject_subset(subjects: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Boolean mask keeping the rows of ``n`` subjects drawn at random (seeded) from ``subjects`` (all when
    there are no more than ``n``)."""
    unique = np.sort(pd.unique(np.asarray(subjects).astype(str)))
    if n >= len(unique):
        return np.ones(len(subjects), bool)
    chosen = np.random.default_rng([seed, n]).choice(unique, size=n, replace=False)
    return np.isin(np.asarray(subjects).astype(str), chosen)


def holdout_split(rows: pd.DataFrame, y: np.ndarray, task: Task, seed: int,
                  test_fraction: float) -> np.ndarray:
    """Boolean test mask over ``rows``: the dataset's own split if it has one, else a seeded subject split
    (stratified by the label when each subject is one row and every class can be split). Needs two
    subjects at least (:func:`unfittable`)."""
    if "split" in rows and rows["split"].notna().all() and (rows["split"] == "test").any():
        return (rows["split"] == "test").to_numpy()
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
    subjects = rows["subject_id"].to_numpy()
    _, test_subjects = train_test_split(pd.unique(subjects), test_size=test_fraction, random_state=seed)
    return np.isin(subjects, test_subjects)


def label_space(X_tr, y_tr, X_te, y_te, task: Task):
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


def fc_validation(X: np.ndarray, y: np.ndarray, task: Task, seed: int) -> dict[str, np.ndarray]:
    """10 % of the training rows for the FC head's early stopping (stratified when every class can be)."""
    strat = None
    if task.kind in ("binary", "multiclass"):
        _, counts = np.unique(y, return_counts=True)
        strat = y if counts.min() >= 2 and len(counts) <= max(1, int(0.1 * len(y))) else None
    tr, va = train_test_split(np.arange(len(y)), test_size=0.1, random_state=seed, stratify=strat)
    return {"X_train": X[tr], "y_train": y[tr], "X_val": X[va], "y_val": y[va]}


def probes_for(task: Task, probes: Sequence[str]) -> list[str]:
    """Regression: RF only (an FC head trained with cross-entropy and LR are classifiers)."""
    return [p for p in probes if p == "rf"] if task.kind == "regression" else list(probes)


def train_subset(y: np.ndarray, seed: int, label_fraction: float | None,
                 case_ratio: float | None, n_total: int | None) -> np.ndarray | None:
    """Positions of the training rows kept: a stratified ``label_fraction``, or ``n_total`` rows with a
    ``case_ratio`` share of cases (binary tasks); None keeps them all."""
    if case_ratio is not None:
        return low_incidence_indices(y, case_ratio, n_total or len(y), seed)
    if label_fraction is not None and label_fraction < 1:
        return label_fraction_indices(y, label_fraction, seed)
    return None


def _scores(probe: str, task: Task, X_tr, y_tr, X_te, y_te, seed: int, probe_kwargs,
            val: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, float]:
    with warnings.catch_warnings():
        # scikit-learn defaults (lbfgs, max_iter=100) as SyneCo states; on 512-d embeddings lbfgs often stops
        # at that limit, which is the protocol, not a failure. A test split with one class gives NaN AUROC.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module="sklearn")
        fit = {"X_train": X_tr, "y_train": y_tr}
        if probe == "fc":
            fit = (fc_validation(X_tr, y_tr, task, seed) if val is None
                   else {**fit, "X_val": val[0], "y_val": val[1]})
        kind = "rf_regression" if probe == "rf" and task.kind == "regression" else probe
        return evaluate_probe(probe, X_test=X_te, y_test=y_te, task=task.probe_task, seed=seed, **fit,
                              **probe_kwargs.get(kind, probe_kwargs.get(probe, {})))


def _roles(rows: pd.DataFrame, y: np.ndarray, task: Task, seed: int, test_fraction: float,
           validation: str, train_subjects: int | None) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """(train, val or None, test) masks of one seed: the held-out split, the FC head's validation rows when
    they come from the dataset's split (``validation="split"``), and ``train_subjects`` subjects of the
    training rows."""
    if validation == "split":
        train, val, test = split_roles(rows)
    else:
        test = holdout_split(rows, y, task, seed, test_fraction)
        train, val = ~test, None
    if train_subjects is not None:
        subjects = rows["subject_id"].to_numpy()
        chosen = np.zeros(len(rows), bool)
        chosen[train] = subject_subset(subjects[train], train_subjects, seed)
        train = chosen
    return train, val, test


def holdout_probe(X: np.ndarray | Mapping[int, np.ndarray], labels: pd.DataFrame, task: Task, *, method: str,
                  probes: Sequence[str], seeds: Sequence[int], test_fraction: float, max_segments: int | None,
                  probe_kwargs: Mapping[str, dict], segment_rows: int | None = None,
                  label_fraction: float | None = None, case_ratio: float | None = None,
                  n_total: int | None = None, metrics: Sequence[str] | None = None,
                  validation: str = "train", train_subjects: int | None = None) -> pd.DataFrame:
    """Tidy results (method, task, probe, metric, seed, value, inputs, rows, n_train, n_test, note) of one
    representation ``X`` (N, D) of the label table's segments, for every seed; ``X`` may map each seed to
    its own representation (the model pretrained with that seed). A probe that cannot be fitted (one
    class, one subject: :func:`unfittable`, or one class in the training split) gives NaN values and says
    why in ``note``; a fitted one has an empty note.

    ``metrics``: which scores to report (default AUROC and AUPRC; MAE and R² for regression; any key of
    :func:`physiofm.evaluation.metrics.classification_scores`, e.g. balanced accuracy, kappa, F1).
    ``validation``: "train" (the held-out split is drawn per seed, or the dataset's ``split == "test"``; the
    FC head stops early on 10 % of the training rows) or "split" (the label table's ``split`` column is the
    dataset's three-way split: train on ``train``, stop the FC head on ``val``, score on ``test``;
    hybrid_ecg's validation share of the PTB-XL pool, MultiMAE's validation patients).
    ``train_subjects``: train on that many subjects of the training rows, drawn per seed (MultiMAE's 500 or
    25 patients).
    """
    if validation not in ("train", "split"):
        raise ValueError(f"validation must be 'train' or 'split', got {validation!r}")
    out, made = [], {}
    default = ("auroc", "auprc") if task.kind != "regression" else ("mae", "r2")
    names = tuple(metrics) if metrics else default
    for seed in seeds:
        Xs = X[seed] if isinstance(X, Mapping) else X
        if id(Xs) not in made:
            made[id(Xs)] = samples(Xs, labels, task, max_segments=max_segments, segment_rows=segment_rows)
        Xt, y, rows = made[id(Xs)]
        note = unfittable(y, rows, task)
        X_tr = y_tr = X_te = y_te = val = None
        train = test = np.zeros(len(rows), bool)
        if not note:
            train, val, test = _roles(rows, y, task, seed, test_fraction, validation, train_subjects)
            X_tr, y_tr, X_te, y_te = label_space(Xt[train], y[train], Xt[test], y[test], task)
            if X_tr is None:  # a training split with one class (tiny ci cohorts)
                note = ONE_CLASS_IN_TRAINING
        val_set = None
        if X_tr is not None and val is not None and val.any():
            _, _, X_va, y_va = label_space(Xt[train], y[train], Xt[val], y[val], task)
            val_set = (X_va, y_va) if len(y_va) else None
        keep = None if X_tr is None else train_subset(y_tr, seed, label_fraction, case_ratio, n_total)
        if keep is not None:
            X_tr, y_tr = X_tr[keep], y_tr[keep]
        for probe in probes_for(task, probes):
            scores = (dict.fromkeys(names, np.nan) if X_tr is None
                      else _scores(probe, task, X_tr, y_tr, X_te, y_te, seed, probe_kwargs, val_set))
            n_train = int(train.sum()) if keep is None else len(keep)
            extra = ({} if train_subjects is None
                     else {"train_subjects": int(rows.loc[train, "subject_id"].nunique())})
            out += [{"method": method, "task": task.id, "probe": probe, "metric": m, "seed": seed,
                     "value": scores[m], "inputs": task.inputs, "rows": task.rows, "n_train": n_train,
                     "n_test": int(test.sum()), "note": note, **extra} for m in names]
    return results_frame(out)


def holdout_predictions(X: np.ndarray, labels: pd.DataFrame, task: Task, *, seed: int, probe: str,
                        test_fraction: float, max_segments: int | None, probe_kwargs: Mapping[str, dict],
                        segment_rows: int | None = None) -> pd.DataFrame:
    """The test rows of :func:`holdout_probe`'s split for ``seed`` with the probe's score of each: one row
    per test sample with ``subject_id``, ``y`` and ``score`` (binary: the positive class's probability; the
    rows used for paired comparisons of methods on the same subjects). Binary tasks only."""
    if task.kind != "binary":
        raise ValueError(f"task {task.id}: test-row scores are for binary tasks, not {task.kind}")
    Xt, y, rows = samples(X, labels, task, max_segments=max_segments, segment_rows=segment_rows)
    test = holdout_split(rows, y, task, seed, test_fraction)
    X_tr, y_tr, X_te, y_te = label_space(Xt[~test], y[~test], Xt[test], y[test], task)
    if X_tr is None:
        return pd.DataFrame(columns=["subject_id", "y", "score"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make_probe(probe, "classification", seed, **probe_kwargs.get(probe, {}))
        if probe == "fc":
            fit = fc_validation(X_tr, y_tr, task, seed)
            model.fit(fit["X_train"], fit["y_train"], fit["X_val"], fit["y_val"])
        else:
            model.fit(X_tr, y_tr)
        score = np.asarray(model.predict_proba(np.asarray(X_te, np.float32)))[:, 1]
    seen = np.isin(y[test], np.unique(y[~test]))  # label_space drops test rows of unseen classes
    return pd.DataFrame({"subject_id": rows["subject_id"].to_numpy()[test][seen].astype(str), "y": y_te,
                         "score": score})


def holdout_probes(embeddings: Mapping[str, Mapping], labels: pd.DataFrame, jobs: Iterable[tuple[str, Task]],
                   *, seeds: Sequence[int], workers: int = 1, **kwargs) -> pd.DataFrame:
    """:func:`holdout_probe` for every (method, task) job the method has a representation for
    (``in:<task inputs>``), over ``workers`` processes. ``embeddings``: method -> {name: (N, D)}, or
    method -> {seed: {name: (N, D)}} with one entry per probe seed."""
    def view(method: str, name: str):
        emb = embeddings[method]
        if all(isinstance(k, int | np.integer) for k in emb):
            return {s: e[name] for s, e in emb.items()} if all(name in e for e in emb.values()) else None
        return emb.get(name)

    items = [(view(m, f"in:{t.inputs}"), labels, t, m, seeds, kwargs) for m, t in jobs]
    items = [it for it in items if it[0] is not None]
    parts = parallel_map(_probe_job, items, workers, desc="probe")
    return results_frame(pd.concat(parts, ignore_index=True))


def _probe_job(X, labels: pd.DataFrame, task: Task, method: str, seeds: Sequence[int],
               kwargs: Mapping) -> pd.DataFrame:
    return holdout_probe(X, labels, task, method=method, seeds=seeds, **kwargs)


# ----------------------------------------------------------------------------------- dataset splits
def split_rows_of(rows: pd.DataFrame, task: Task) -> dict[str, np.ndarray]:
    """Positions of the train / val / test rows of a task's rows by their ``split`` column (the dataset's own
    split, e.g. PTB-XL's folds, or the data step's)."""
    if "split" not in rows or rows["split"].isna().any():
        raise KeyError(f"task {task.id}: every row needs a 'split' (train / val / test) for a split probe")
    out = {s: np.flatnonzero(rows["split"].to_numpy() == s) for s in ("train", "val", "test")}
    empty = [s for s, idx in out.items() if not len(idx)]
    if empty:
        raise ValueError(f"task {task.id}: no {empty} rows in the split")
    return out


def fit_split_probe(X: np.ndarray, labels: pd.DataFrame, task: Task, *, seed: int, label_fraction: float,
                    probe_kwargs: Mapping[str, Any], subsample_seed: int = 42):
    """The linear head of :func:`split_probe` fitted on a task's training rows (a ``label_fraction`` of them,
    MERL's random subset) with model selection on its validation rows.

    Returns ``(probe or None, rows, y, split, keep)``: the fitted :class:`LinearHeadProbe` (None when the
    training subset cannot teach two classes), the task's label rows and targets, the split positions and the
    mask of labels the probe predicts (multi-label: those that vary in the training subset).
    """
    rows = task_rows(labels, task)
    y = task_targets(rows, task, labels)[0]
    split = split_rows_of(rows, task)
    train = split["train"][random_fraction_indices(len(split["train"]), label_fraction, subsample_seed)]
    y_tr = y[train]
    keep = (y_tr.min(0) != y_tr.max(0)) if task.kind == "multilabel" else np.ones(1, bool)
    if (task.kind == "multilabel" and not keep.any()) or (task.kind != "multilabel" and
                                                           len(np.unique(y_tr)) < 2):
        return None, rows, y, split, keep
    Xr = X[rows["row"].to_numpy()]
    y_fit = y if task.kind != "multilabel" else y[:, keep]
    probe = LinearHeadProbe(task.probe_task, seed=seed, **dict(probe_kwargs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        probe.fit(Xr[train], y_fit[train], Xr[split["val"]], y_fit[split["val"]])
    return probe, rows, y, split, keep


def split_probe(X: np.ndarray | Mapping[int, np.ndarray], labels: pd.DataFrame, task: Task, *, method: str,
                seeds: Sequence[int], label_fractions: Sequence[float],
                probe_kwargs: Mapping[str, Any], subsample_seed: int = 42) -> pd.DataFrame:
    """Linear probing on a dataset's own train / validation / test split (D-BETA Table 2, MERL's protocol).

    For each label fraction (1 / 10 / 100 %: MERL's ``train_test_split(train_size=r/100, random_state=42)``
    subset of the training rows, the same for every seed) and seed (the head's initialisation and batch
    order), a :class:`LinearHeadProbe` (``probe_kwargs``: epochs, lr, batch size, ``select="auroc"``) is
    trained on the subset, the epoch with the best validation macro AUROC is kept, and the test macro AUROC
    (over the labels the subset could teach and the test rows hold both classes of) is reported.
    Rows: method, task, probe "linear", metric "auroc", seed, value, label_fraction, n_train, n_val, n_test.
    """
    out = []
    for fraction in label_fractions:
        for seed in seeds:
            Xs = X[seed] if isinstance(X, Mapping) else X
            probe, rows, y, split, keep = fit_split_probe(
                Xs, labels, task, seed=seed, label_fraction=fraction, probe_kwargs=probe_kwargs,
                subsample_seed=subsample_seed)
            n_train = len(random_fraction_indices(len(split["train"]), fraction, subsample_seed))
            value = np.nan
            if probe is not None:
                test = split["test"]
                y_te = y[test] if task.kind != "multilabel" else y[test][:, keep]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UndefinedMetricWarning)
                    X_te = Xs[rows["row"].to_numpy()][test]
                    value = probe_scores(probe, X_te, y_te, task.probe_task)["auroc"]
            out.append({"method": method, "task": task.id, "probe": "linear", "metric": "auroc", "seed": seed,
                        "value": value, "label_fraction": fraction,
                        "n_train": n_train,
                        "n_val": len(split["val"]), "n_test": len(split["test"])})
    return results_frame(out)


def split_probes(embeddings: Mapping[str, np.ndarray | Mapping[int, np.ndarray]],
                 labels: Mapping[str, pd.DataFrame], jobs: Iterable[tuple[str, Task]], *, workers: int = 1,
                 **kwargs) -> pd.DataFrame:
    """:func:`split_probe` for every (method, task) job over ``workers`` processes; ``embeddings``: method ->
    (N, D) of the task's store (or seed -> (N, D)); ``labels``: store -> its label table (with ``split``)."""
    items = [(embeddings[m][t.store] if isinstance(embeddings[m], Mapping) and t.store in embeddings[m]
              else embeddings[m], labels[t.store], t, m, kwargs) for m, t in jobs]
    parts = parallel_map(_split_job, items, workers, desc="linear probe")
    return results_frame(pd.concat(parts, ignore_index=True))


def _split_job(X, labels: pd.DataFrame, task: Task, method: str, kwargs: Mapping) -> pd.DataFrame:
    return split_probe(X, labels, task, method=method, **kwargs)


# ------------------------------------------------------------------------------------------ nested CV
METRIC_NAMES = {"mae": "MAE", "r2": "R2", "auroc": "AUC", "f1": "F1", "accuracy": "accuracy"}


def nested_cv_probe(X: np.ndarray, labels: pd.DataFrame, task: Task, *, grid: Mapping[str, list],
                    outer_folds: int, inner_folds: int, group_by_subject: bool, max_iter: int, seed: int,
                    n_jobs: int = 1, max_segments: int | None = None) -> pd.DataFrame:
    """Nested CV of one task on segment embeddings ``X``: one row per (outer fold, metric) with the fold's
    chosen hyper-parameters (``best_params``) and the number of samples ``n``."""
    Xt, y, rows = samples(X, labels, task, max_segments=max_segments)
    groups = rows["subject_id"].astype(str).to_numpy() if group_by_subject else None
    res = nested_cv(Xt, y, task="regression" if task.kind == "regression" else "classification",
                    groups=groups, outer_folds=outer_folds, inner_folds=inner_folds, seed=seed,
                    max_iter=max_iter, param_grid=dict(grid), n_jobs=n_jobs)
    folds = res.folds[res.folds["metric"].isin(METRIC_NAMES)].copy()
    folds["metric"] = folds["metric"].map(METRIC_NAMES)
    folds["best_params"] = folds["best_params"].map(lambda p: json.dumps(p, sort_keys=True, default=str))
    folds["n"] = len(rows)
    return folds
