"""Probes, AnyPPG's nested CV, subsampling and repeats over seeds, on small synthetic problems."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from physiofm.evaluation.nested_cv import LOGREG_GRID, RIDGE_GRID, nested_cv
from physiofm.evaluation.probes import LinearHeadProbe, evaluate_probe, make_probe
from physiofm.evaluation.subsample import (
    DEFAULT_SEEDS,
    label_fraction_indices,
    low_incidence_indices,
    low_incidence_sets,
    over_seeds,
    summarise,
)

torch.set_num_threads(1)


def _blobs(n=240, d=6, k=3, seed=0, sep=2.0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    centres = rng.normal(size=(k, d)) * sep
    return (centres[y] + rng.normal(size=(n, d))).astype(np.float32), y


@pytest.mark.parametrize("kind", ["lr", "rf", "fc"])
def test_classification_probes_learn_separable_blobs(kind):
    X, y = _blobs()
    s = evaluate_probe(kind, X[:180], y[:180], X[180:], y[180:], seed=0)
    assert s["auroc"] > 0.9 and s["balanced_accuracy"] > 0.7
    Xr, yr = _blobs(seed=1)
    shuffled = evaluate_probe(
        kind, Xr[:180], np.random.default_rng(5).permutation(yr[:180]), Xr[180:], yr[180:]
    )
    assert shuffled["auroc"] < 0.75  # a probe cannot learn from shuffled labels


def test_multilabel_regression_and_class_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5)).astype(np.float32)
    Y = np.stack([X[:, 0] > 0, X[:, 1] > 0.5], 1).astype(int)
    for kind in ("lr", "rf", "fc"):
        s = evaluate_probe(kind, X[:200], Y[:200], X[200:], Y[200:], task="multilabel")
        assert s["auroc"] > 0.85 and {"auroc/0", "auroc/1"} <= set(s)
    t = X @ np.array([1.0, -2.0, 0, 0, 0.5]) + 3
    for kind in ("rf", "fc"):
        assert evaluate_probe(kind, X[:200], t[:200], X[200:], t[200:], task="regression")["r2"] > 0.6
    with pytest.raises(ValueError, match="classification"):
        make_probe("lr", "regression")
    # rare positive class: class weighting raises recall of the minority class (balanced accuracy)
    y = (X[:, 0] + 0.3 * rng.normal(size=300) > 1.6).astype(int)
    plain = LinearHeadProbe(seed=0).fit(X[:200], y[:200]).predict(X[200:])
    weighted = LinearHeadProbe(seed=0, class_weighted=True).fit(X[:200], y[:200]).predict(X[200:])
    assert weighted[y[200:] == 1].mean() >= plain[y[200:] == 1].mean()
    probe = LinearHeadProbe(seed=0, max_epochs=100, patience=3).fit(X[:200], y[:200])
    assert len(probe.history_) <= 100


def test_nested_cv_classification_and_regression():
    assert len(LOGREG_GRID["model__C"]) == 13 and LOGREG_GRID["model__C"][0] == 1e-6
    assert RIDGE_GRID["model__solver"] == ["auto", "cholesky", "sparse_cg"]
    X, y = _blobs(n=150, d=4, k=3)
    small = {"model__C": [1e-6, 1e-2, 1.0], "model__solver": ["lbfgs", "saga"]}
    res = nested_cv(X, y, param_grid=small, seed=0)
    auc = res.summary.set_index("metric").loc["auroc"]
    assert auc["n_folds"] == 5 and auc["mean"] > 0.9 and auc["std"] >= 0
    assert set(res.folds["fold"]) == set(range(5))
    chosen = res.folds.drop_duplicates("fold")["best_params"]
    assert all(p["C"] in small["model__C"] and p["solver"] in ("lbfgs", "saga") for p in chosen)

    rng = np.random.default_rng(1)
    Xr = rng.normal(size=(120, 4))
    t = Xr @ np.array([2.0, -1, 0, 0.5]) + 0.1 * rng.normal(size=120)
    groups = np.repeat(np.arange(30), 4)
    res = nested_cv(
        Xr,
        t,
        task="regression",
        groups=groups,
        param_grid={"model__alpha": [1e-6, 1.0, 1e6], "model__solver": ["auto", "cholesky"]},
    )
    s = res.summary.set_index("metric")
    assert s.loc["mae", "mean"] < 0.3 and s.loc["r2", "mean"] > 0.9
    assert all(p["alpha"] != 1e6 for p in res.folds["best_params"])


def test_label_fractions_keep_case_ratio():
    rng = np.random.default_rng(0)
    y = (rng.random(5000) < 0.2).astype(int)
    for frac in (0.5, 0.25, 0.1, 0.01):
        idx = label_fraction_indices(y, frac, seed=0)
        assert len(idx) == round(frac * 5000) and len(np.unique(idx)) == len(idx)
        assert abs(y[idx].mean() - y.mean()) < 0.01
    assert not np.array_equal(label_fraction_indices(y, 0.1, seed=0), label_fraction_indices(y, 0.1, seed=1))
    assert np.array_equal(label_fraction_indices(y, 1.0), np.arange(5000))
    ym = rng.integers(0, 2, (1000, 3))
    assert len(label_fraction_indices(ym, 0.1)) == 100


def test_low_incidence_sets():
    rng = np.random.default_rng(0)
    labels = pd.DataFrame(
        {
            d: (rng.random(12000) < p).astype(int)
            for d, p in {"MI": 0.25, "STTC": 0.24, "CD": 0.22, "HYP": 0.12}.items()
        }
    )
    sets = low_incidence_sets(labels, seed=0)
    assert len(sets) == 12
    for (disease, ratio), idx in sets.items():
        assert len(idx) == 7000 and len(np.unique(idx)) == 7000
        assert labels[disease].to_numpy()[idx].sum() == round(ratio * 7000)  # 350 / 140 / 70 cases
    with pytest.raises(ValueError, match="need 700 cases"):
        low_incidence_indices(np.r_[np.ones(10), np.zeros(9000)], 0.1)


def test_over_seeds_mean_and_std():
    df = over_seeds(lambda s: {"auroc": 0.8 + s / 10000, "f1": 0.5})
    assert list(df["seed"].unique()) == list(DEFAULT_SEEDS)
    summ = summarise(df).set_index("metric")
    vals = np.array([0.8, 0.8042, 0.9234])
    assert summ.loc["auroc", "mean"] == pytest.approx(vals.mean())
    assert summ.loc["auroc", "std"] == pytest.approx(vals.std(ddof=1)) and summ.loc["f1", "std"] == 0
