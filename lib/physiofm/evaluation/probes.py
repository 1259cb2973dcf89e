"""Probes on frozen embeddings: logistic regression, random forest, a linear head trained with cross-entropy.

SyneCo's protocol: LR and RF use scikit-learn defaults (LR with its default L2 penalty) on standardised
embeddings; the fully connected head (FC) is trained with cross-entropy for up to 100 epochs with early
stopping on validation. MultiMAE trains its linear heads with class-weighted cross-entropy
(``class_weighted=True``: weights ``N / (K * N_k)``, scikit-learn's "balanced"). Multi-label targets are
fitted one-vs-rest.

Tasks: ``"classification"`` (binary or multi-class, ``y`` of class indices), ``"multilabel"`` (``y`` of shape
(N, L) in {0, 1}) and ``"regression"`` (``y`` real, (N,)).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from physiofm.evaluation.metrics import (
    UndefinedMetricWarning,
    auroc,
    classification_scores,
    multilabel_scores,
    regression_scores,
)

TASKS = ("classification", "multilabel", "regression")
PROBES = ("lr", "rf", "fc")


def _check(task: str, X, y) -> tuple[np.ndarray, np.ndarray]:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")
    X, y = np.asarray(X, dtype=np.float32), np.asarray(y)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"embeddings must be (N, D) with one target per row; got X {X.shape}, y {y.shape}")
    if not np.isfinite(X).all():
        raise ValueError("embeddings contain NaN or infinite values; drop or pool invalid segments first")
    if task == "multilabel" and y.ndim != 2:
        raise ValueError(f"multilabel targets must be (N, L) indicators, got shape {y.shape}")
    if task == "classification" and len(np.unique(y)) < 2:
        raise ValueError(f"classification probe needs at least two classes in y_train, got {np.unique(y)}")
    return X, y


def logistic_probe(
    task: str = "classification", seed: int = 0, class_weighted: bool = False, **kwargs
) -> Pipeline:
    """StandardScaler + scikit-learn's default LogisticRegression (L2, C=1, lbfgs); OvR for multi-label."""
    lr = LogisticRegression(random_state=seed, class_weight="balanced" if class_weighted else None, **kwargs)
    return make_pipeline(StandardScaler(), OneVsRestClassifier(lr) if task == "multilabel" else lr)


def random_forest_probe(
    task: str = "classification", seed: int = 0, class_weighted: bool = False, **kwargs
) -> Pipeline:
    """StandardScaler + scikit-learn's default random forest (100 trees), classifier or regressor."""
    if task == "regression":
        return make_pipeline(StandardScaler(), RandomForestRegressor(random_state=seed, **kwargs))
    rf = RandomForestClassifier(
        random_state=seed, class_weight="balanced" if class_weighted else None, **kwargs
    )
    return make_pipeline(StandardScaler(), OneVsRestClassifier(rf) if task == "multilabel" else rf)


class LinearHeadProbe:
    """One ``nn.Linear`` on frozen embeddings, trained with (optionally class-weighted) cross-entropy.

    Adam (lr 1e-2 and mini-batches of 64 by default: SyneCo gives no values), at most ``max_epochs`` epochs;
    every ``eval_every`` epochs the head is scored on the validation data and the best-scoring weights are
    kept; training stops after ``patience`` evaluations without improvement (None: never early). The score is
    the validation loss (``select="loss"``) or, for classification and multi-label, the macro AUROC
    (``select="auroc"``: D-BETA's model selection on validation AUROC).
    Without explicit validation data, 10 % of the training set (stratified for classification) is held out.
    Multi-label uses binary cross-entropy per label (``pos_weight = N_neg / N_pos`` when class-weighted);
    regression uses the mean squared error.
    """

    def __init__(
        self,
        task: str = "classification",
        *,
        max_epochs: int = 100,
        patience: int | None = 10,
        lr: float = 1e-2,
        weight_decay: float = 0.0,
        batch_size: int = 64,
        class_weighted: bool = False,
        standardise: bool = False,
        seed: int = 0,
        select: str = "loss",
        eval_every: int = 1,
    ):
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")
        if select not in ("loss", "auroc") or (select == "auroc" and task == "regression"):
            raise ValueError(f"select must be 'loss' or (not for regression) 'auroc', got {select!r}")
        if eval_every < 1:
            raise ValueError(f"eval_every must be >= 1, got {eval_every}")
        self.task, self.max_epochs, self.patience, self.lr = task, max_epochs, patience, lr
        self.weight_decay, self.batch_size, self.class_weighted = weight_decay, batch_size, class_weighted
        self.standardise, self.seed, self.select, self.eval_every = standardise, seed, select, eval_every

    def _val_score(self, head: nn.Module, loss_fn: nn.Module, xv: torch.Tensor, yv: torch.Tensor,
                   y_val: np.ndarray) -> tuple[float, float]:
        """(validation loss, score to maximise: -loss or the macro AUROC, -inf when undefined)."""
        with torch.no_grad():
            z = head(xv)
            val = float(loss_fn(z, yv))
            if self.select == "loss":
                return val, -val
            p = (torch.sigmoid(z) if self.task == "multilabel" else torch.softmax(z, 1)).numpy()
        if self.task == "classification" and p.shape[1] == 2:
            p = p[:, 1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            score = auroc(y_val, p)
        return val, (score if np.isfinite(score) else -np.inf)

    def _loss(self, y: np.ndarray) -> nn.Module:
        if self.task == "regression":
            return nn.MSELoss()
        if self.task == "multilabel":
            pos = y.sum(0).clip(min=1)
            pw = torch.tensor((len(y) - y.sum(0)) / pos, dtype=torch.float32) if self.class_weighted else None
            return nn.BCEWithLogitsLoss(pos_weight=pw)
        weight = None
        if self.class_weighted:
            counts = np.bincount(y, minlength=self.n_out_).astype(float)
            weight = torch.tensor(len(y) / (self.n_out_ * counts.clip(min=1)), dtype=torch.float32)
        return nn.CrossEntropyLoss(weight=weight)

    def _target(self, y: np.ndarray) -> torch.Tensor:
        if self.task == "classification":
            return torch.as_tensor(y, dtype=torch.long)
        t = torch.as_tensor(y, dtype=torch.float32)
        return t if t.ndim == 2 else t[:, None]

    def fit(self, X, y, X_val=None, y_val=None) -> LinearHeadProbe:
        X, y = _check(self.task, X, y)
        if X_val is None:
            strat = y if self.task == "classification" else None
            X, X_val, y, y_val = train_test_split(X, y, test_size=0.1, random_state=self.seed, stratify=strat)
        X_val, y_val = np.asarray(X_val, dtype=np.float32), np.asarray(y_val)
        self.scaler_ = StandardScaler().fit(X) if self.standardise else None
        if self.scaler_ is not None:
            X, X_val = self.scaler_.transform(X), self.scaler_.transform(X_val)
        self.n_out_ = {"classification": int(y.max()) + 1, "multilabel": y.shape[-1], "regression": 1}[
            self.task
        ]
        if self.task == "regression":
            self.y_mean_, self.y_std_ = float(y.mean()), float(y.std() or 1.0)
            y, y_val = (y - self.y_mean_) / self.y_std_, (y_val - self.y_mean_) / self.y_std_
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            head = nn.Linear(X.shape[1], self.n_out_)
            gen = torch.Generator().manual_seed(self.seed)
            loss_fn = self._loss(y)
            opt = torch.optim.Adam(head.parameters(), lr=self.lr, weight_decay=self.weight_decay)
            xt, yt = torch.as_tensor(X), self._target(y)
            xv, yv = torch.as_tensor(X_val), self._target(y_val)
            best, best_state, bad = -float("inf"), None, 0
            self.history_, self.scores_ = [], []
            for epoch in range(1, self.max_epochs + 1):
                for idx in torch.randperm(len(xt), generator=gen).split(self.batch_size):
                    opt.zero_grad(set_to_none=True)
                    loss_fn(head(xt[idx]), yt[idx]).backward()
                    opt.step()
                if epoch % self.eval_every and epoch != self.max_epochs:
                    continue
                val, score = self._val_score(head, loss_fn, xv, yv, y_val)
                self.history_.append(val)
                self.scores_.append(score)
                if best_state is None or score > best + 1e-7:
                    best, best_state, bad = score, {k: v.clone() for k, v in head.state_dict().items()}, 0
                    self.best_epoch_ = epoch
                else:
                    bad += 1
                    if self.patience is not None and bad >= self.patience:
                        break
            head.load_state_dict(best_state)
        self.head_ = head.eval()
        return self

    def _logits(self, X) -> torch.Tensor:
        X = np.asarray(X, dtype=np.float32)
        if self.scaler_ is not None:
            X = self.scaler_.transform(X).astype(np.float32)
        with torch.no_grad():
            return self.head_(torch.as_tensor(X))

    def predict_proba(self, X) -> np.ndarray:
        z = self._logits(X)
        return (torch.sigmoid(z) if self.task == "multilabel" else torch.softmax(z, 1)).numpy()

    def predict(self, X) -> np.ndarray:
        z = self._logits(X)
        if self.task == "regression":
            return z[:, 0].numpy() * self.y_std_ + self.y_mean_
        if self.task == "multilabel":
            return (z > 0).int().numpy()
        return z.argmax(1).numpy()


def make_probe(
    kind: str, task: str = "classification", seed: int = 0, class_weighted: bool = False, **kwargs
):
    """An unfitted probe: ``"lr"`` (logistic regression), ``"rf"`` (random forest), ``"fc"`` (linear head)."""
    if kind == "lr":
        if task == "regression":
            raise ValueError(
                "the logistic-regression probe is for classification; use 'rf' or 'fc' to regress"
            )
        return logistic_probe(task, seed, class_weighted, **kwargs)
    if kind == "rf":
        return random_forest_probe(task, seed, class_weighted, **kwargs)
    if kind == "fc":
        return LinearHeadProbe(task, seed=seed, class_weighted=class_weighted, **kwargs)
    raise ValueError(f"unknown probe {kind!r}; choose one of {PROBES}")


def probe_scores(probe, X, y, task: str) -> dict[str, float]:
    """Scores of a fitted probe on (X, y): classification, multi-label or regression metrics."""
    if task == "regression":
        return regression_scores(y, probe.predict(np.asarray(X, dtype=np.float32)))
    proba = np.asarray(probe.predict_proba(np.asarray(X, dtype=np.float32)))
    if task == "multilabel":
        return multilabel_scores(y, proba)
    n_classes = proba.shape[1]
    return classification_scores(y, proba[:, 1] if n_classes == 2 else proba)


def evaluate_probe(
    kind: str,
    X_train,
    y_train,
    X_test,
    y_test,
    *,
    task: str = "classification",
    seed: int = 0,
    X_val=None,
    y_val=None,
    class_weighted: bool = False,
    **kwargs: Any,
) -> dict[str, float]:
    """Fit probe ``kind`` on the training embeddings and score it on the test embeddings.

    Validation data is used by the FC head for early stopping; LR and RF (no early stopping) ignore it.
    """
    X_train, y_train = _check(task, X_train, y_train)
    probe = make_probe(kind, task, seed, class_weighted, **kwargs)
    if kind == "fc":
        probe.fit(X_train, y_train, X_val, y_val)
    else:
        probe.fit(X_train, y_train)
    return probe_scores(probe, X_test, y_test, task)
