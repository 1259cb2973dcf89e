"""AnyPPG's linear-probing protocol: nested five-fold cross-validation on frozen embeddings.

Classification: logistic regression (L2) with ``C in {1e-6, ..., 1e6}`` and ``solver in {lbfgs, saga}``,
chosen in an inner 5-fold CV by macro one-vs-rest AUROC. Regression: ridge with ``alpha in {1e-6, ..., 1e6}``
and ``solver in {auto, cholesky, sparse_cg}``, chosen by MAE. The outer 5 folds give the test scores, reported
as mean and standard deviation over folds. The paper does not say whether features were scaled; we put a
StandardScaler in front of the model (fitted inside each training fold) because saga does not converge on
unscaled embeddings. Folds are stratified for classification, and grouped by subject when ``groups`` is given.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from physiofm.evaluation.metrics import classification_scores, regression_scores

DECADES = [10.0**e for e in range(-6, 7)]
LOGREG_GRID = {"model__C": DECADES, "model__solver": ["lbfgs", "saga"]}
RIDGE_GRID = {"model__alpha": DECADES, "model__solver": ["auto", "cholesky", "sparse_cg"]}


@dataclass
class NestedCVResult:
    folds: pd.DataFrame  # one row per (outer fold, metric): fold, metric, value, best_params
    summary: pd.DataFrame  # one row per metric: mean, std (ddof=1), n_folds


def _splitter(task: str, n: int, seed: int, grouped: bool):
    if task == "classification":
        return (
            StratifiedGroupKFold(n, shuffle=True, random_state=seed)
            if grouped
            else StratifiedKFold(n, shuffle=True, random_state=seed)
        )
    return GroupKFold(n) if grouped else KFold(n, shuffle=True, random_state=seed)


def nested_cv(
    X,
    y,
    *,
    task: str = "classification",
    groups=None,
    outer_folds: int = 5,
    inner_folds: int = 5,
    seed: int = 0,
    max_iter: int = 1000,
    param_grid: dict | None = None,
    n_jobs: int | None = None,
) -> NestedCVResult:
    """Nested CV of a linear probe on embeddings ``X`` (N, D) with targets ``y`` (N,).

    Args:
        task: ``"classification"`` (logistic regression, inner selection by macro AUROC) or ``"regression"``
            (ridge, inner selection by MAE).
        groups: optional subject ids (N,), so no subject is in both a training and a test fold.
        param_grid: overrides the AnyPPG grid (keys ``model__<param>``), e.g. a smaller one in tests.
    """
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"X must be (N, D) with one target per row; got X {X.shape}, y {y.shape}")
    if task == "classification":
        model = LogisticRegression(max_iter=max_iter)  # L2 is the default penalty
        grid = param_grid or LOGREG_GRID
        scoring = "roc_auc_ovr" if len(np.unique(y)) > 2 else "roc_auc"
    elif task == "regression":
        model, grid, scoring = Ridge(max_iter=max_iter), param_grid or RIDGE_GRID, "neg_mean_absolute_error"
    else:
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    pipe = Pipeline([("scale", StandardScaler()), ("model", model)])
    grouped = groups is not None
    groups = np.asarray(groups) if grouped else None
    rows = []
    outer = _splitter(task, outer_folds, seed, grouped)
    for fold, (tr, te) in enumerate(outer.split(X, y, groups)):
        inner = _splitter(task, inner_folds, seed + 1 + fold, grouped)
        inner_splits = list(inner.split(X[tr], y[tr], groups[tr] if grouped else None))
        search = GridSearchCV(pipe, grid, scoring=scoring, cv=inner_splits, n_jobs=n_jobs, refit=True)
        with warnings.catch_warnings():
            # extreme C / alpha values at the grid's ends do not converge; the search scores them as they are
            warnings.simplefilter("ignore", ConvergenceWarning)
            search.fit(X[tr], y[tr])
        if task == "classification":
            proba = search.predict_proba(X[te])
            scores = classification_scores(y[te], proba[:, 1] if proba.shape[1] == 2 else proba)
        else:
            scores = regression_scores(y[te], search.predict(X[te]))
        params = {k.removeprefix("model__"): v for k, v in search.best_params_.items()}
        rows += [{"fold": fold, "metric": m, "value": v, "best_params": params} for m, v in scores.items()]
    folds = pd.DataFrame(rows)
    summary = (
        folds.groupby("metric", sort=False)["value"]
        .agg(mean="mean", std="std", n_folds="count")
        .reset_index()
    )
    return NestedCVResult(folds=folds, summary=summary)
