"""Scores of predictions, each a thin wrapper over scikit-learn with the undefined cases made explicit.

Shapes: ``y_true`` is ``(N,)`` class indices (binary or multi-class) or ``(N, L)`` 0/1 indicators
(multi-label); ``y_score`` is ``(N,)`` positive-class scores (binary), or ``(N, K)`` class / label scores.

Undefined cases never crash deep in a notebook: a ranking metric (AUROC, AUPRC) of a label with only one class
present in ``y_true`` is NaN with an :class:`UndefinedMetricWarning` naming the label; a macro average is the
mean over the labels where it is defined (NaN if none is). Likewise R² with a constant target and Cohen's
kappa with no expected disagreement are NaN with a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping

import numpy as np
from sklearn import metrics as skm


class UndefinedMetricWarning(UserWarning):
    """A metric is undefined for the given labels (e.g. AUROC with one class present); NaN was returned."""


def _indicator(y_true: np.ndarray, y_score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, L) 0/1 truth and (N, L) scores for one-vs-rest scoring of any of the three label layouts."""
    y_true, y_score = np.asarray(y_true), np.asarray(y_score, dtype=float)
    if len(y_true) != len(y_score):
        raise ValueError(f"y_true has {len(y_true)} rows but y_score has {len(y_score)}")
    if y_true.ndim == 2:  # multi-label indicators
        if y_score.shape != y_true.shape:
            raise ValueError(
                f"multi-label y_true {y_true.shape} needs y_score of the same shape, got {y_score.shape}"
            )
        return y_true.astype(int), y_score
    if y_score.ndim == 1:  # binary with positive-class scores
        return y_true.astype(int)[:, None], y_score[:, None]
    if y_score.shape[1] == 2 and set(np.unique(y_true)) <= {0, 1}:  # binary with (N, 2) probabilities
        return y_true.astype(int)[:, None], y_score[:, 1:]
    k = y_score.shape[1]
    if y_true.min() < 0 or y_true.max() >= k:
        raise ValueError(f"class indices must lie in [0, {k}) for y_score with {k} columns")
    return np.eye(k, dtype=int)[y_true.astype(int)], y_score


def _per_label(fn, name: str, y_true, y_score) -> np.ndarray:
    t, s = _indicator(y_true, y_score)
    out = np.full(t.shape[1], np.nan)
    undefined = []
    for j in range(t.shape[1]):
        if 0 < t[:, j].sum() < len(t):
            out[j] = fn(t[:, j], s[:, j])
        else:
            undefined.append(j)
    if undefined:
        warnings.warn(
            f"{name} undefined for label(s) {undefined}: only one class present in y_true; NaN used",
            UndefinedMetricWarning,
            stacklevel=3,
        )
    return out


def _average(values: np.ndarray, average: str | None, name: str):
    if average is None:
        return values
    if average != "macro":
        raise ValueError(f"average must be 'macro' or None, got {average!r}")
    if np.all(np.isnan(values)):
        if len(values) > 1:  # a single label already warned in _per_label
            warnings.warn(
                f"macro {name} undefined: no label has both classes", UndefinedMetricWarning, stacklevel=3
            )
        return float("nan")
    return float(np.nanmean(values))


def auroc(y_true, y_score, average: str | None = "macro") -> float | np.ndarray:
    """Area under the ROC curve: binary, or one-vs-rest per class/label, macro mean (``None``: per label)."""
    return _average(_per_label(skm.roc_auc_score, "AUROC", y_true, y_score), average, "AUROC")


def auprc(y_true, y_score, average: str | None = "macro") -> float | np.ndarray:
    """Area under the precision-recall curve (average precision, step-wise); binary or one-vs-rest macro."""
    return _average(_per_label(skm.average_precision_score, "AUPRC", y_true, y_score), average, "AUPRC")


def mae(y_true, y_pred) -> float:
    """Mean absolute error, in the target's units."""
    return float(skm.mean_absolute_error(y_true, y_pred))


def r2(y_true, y_pred) -> float:
    """Coefficient of determination; NaN with a warning when ``y_true`` is constant (R² undefined)."""
    y_true = np.asarray(y_true, dtype=float)
    if len(y_true) < 2 or np.all(y_true == y_true.flat[0]):
        warnings.warn("R² undefined: y_true is constant; NaN used", UndefinedMetricWarning, stacklevel=2)
        return float("nan")
    return float(skm.r2_score(y_true, y_pred))


def accuracy(y_true, y_pred) -> float:
    return float(skm.accuracy_score(y_true, y_pred))


def balanced_accuracy(y_true, y_pred) -> float:
    """Mean recall over the classes present in ``y_true`` (chance level 1 / n_classes)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        return float(skm.balanced_accuracy_score(y_true, y_pred))


def cohen_kappa(y_true, y_pred) -> float:
    """Cohen's kappa; NaN with a warning when chance agreement is 1 (both label sets constant and equal)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = np.union1d(y_true, y_pred)
    if len(labels) < 2:
        warnings.warn(
            "Cohen's kappa undefined: a single label in y_true and y_pred; NaN used",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return float("nan")
    return float(skm.cohen_kappa_score(y_true, y_pred))


def f1(y_true, y_pred, average: str = "auto") -> float:
    """F1 score; ``average="auto"`` is the positive-class F1 for 0/1 labels and the macro F1 otherwise."""
    if average == "auto":
        average = (
            "binary"
            if set(np.unique(np.concatenate([np.ravel(y_true), np.ravel(y_pred)]))) <= {0, 1}
            else "macro"
        )
    return float(skm.f1_score(y_true, y_pred, average=average, zero_division=0.0))


def hybrid_ecg_criteria(aurocs: Iterable[float], auprcs: Iterable[float]) -> float:
    """hybrid_ecg's "criteria": the sum of the AUROCs and AUPRCs of all tasks (MI, STTC, CD, HYP: max 8)."""
    values = [*aurocs, *auprcs]
    if any(np.isnan(values)):
        warnings.warn(
            "criteria includes an undefined (NaN) AUROC/AUPRC; result is NaN",
            UndefinedMetricWarning,
            stacklevel=2,
        )
    return float(np.sum(values))


def multimae_aggregate(scores: Mapping[str, float], chance: Mapping[str, float]) -> float:
    """MultiMAE's aggregate: ``mean_i (s_i - r_i) / r_i`` over tasks (0 = no better than chance)."""
    missing = set(scores) ^ set(chance)
    if missing:
        raise ValueError(f"scores and chance levels must name the same tasks; mismatched: {sorted(missing)}")
    return float(np.mean([(scores[t] - chance[t]) / chance[t] for t in scores]))


def chance_level(metric: str, n_classes: int = 2) -> float:
    """Score of a random guess: 1/K for (balanced) accuracy, 0.5 for AUROC, 0 for Cohen's kappa."""
    table = {"balanced_accuracy": 1.0 / n_classes, "accuracy": 1.0 / n_classes, "auroc": 0.5, "kappa": 0.0}
    if metric not in table:
        raise ValueError(f"no chance level defined for {metric!r}; known: {sorted(table)}")
    return table[metric]


def classification_scores(y_true, y_score) -> dict[str, float]:
    """AUROC, AUPRC (macro one-vs-rest), accuracy, balanced accuracy, F1 and Cohen's kappa of scores.

    ``y_score`` is ``(N,)`` positive-class or ``(N, K)`` class probabilities; predictions are the
    arg-max (threshold 0.5 for binary).
    """
    y_true, y_score = np.asarray(y_true), np.asarray(y_score, dtype=float)
    pred = (y_score >= 0.5).astype(int) if y_score.ndim == 1 else y_score.argmax(1)
    return {
        "auroc": auroc(y_true, y_score),
        "auprc": auprc(y_true, y_score),
        "accuracy": accuracy(y_true, pred),
        "balanced_accuracy": balanced_accuracy(y_true, pred),
        "f1": f1(y_true, pred),
        "kappa": cohen_kappa(y_true, pred),
    }


def multilabel_scores(y_true, y_score) -> dict[str, float]:
    """Macro AUROC and AUPRC over labels, plus per-label values as ``auroc/<j>``, ``auprc/<j>``."""
    per_roc, per_prc = auroc(y_true, y_score, None), auprc(y_true, y_score, None)
    out = {"auroc": _average(per_roc, "macro", "AUROC"), "auprc": _average(per_prc, "macro", "AUPRC")}
    out.update({f"auroc/{j}": float(v) for j, v in enumerate(per_roc)})
    out.update({f"auprc/{j}": float(v) for j, v in enumerate(per_prc)})
    return out


def regression_scores(y_true, y_pred) -> dict[str, float]:
    return {"mae": mae(y_true, y_pred), "r2": r2(y_true, y_pred)}
