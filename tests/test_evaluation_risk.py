"""Risk decomposition (Dubois et al. 2023) and the driver that measures its four errors with probes."""

from __future__ import annotations

import numpy as np
import pytest

from physiofm.evaluation import prediction_errors, risk_decomposition, risk_errors
from physiofm.evaluation.risk import COMPONENTS, heldout_split


def test_hand_computed_decomposition() -> None:
    d = risk_decomposition(
        sup_train_err=0.10, probe_train_err=0.25, probe_heldout_err=0.30, probe_test_err=0.28
    )
    assert list(d) == list(COMPONENTS)
    expected = {"approximation": 0.10, "usability": 0.15, "probe_generalization": 0.05,
                "encoder_generalization": -0.02, "total": 0.28}
    assert d == pytest.approx(expected)


def test_components_telescope_to_the_total() -> None:
    rng = np.random.default_rng(0)
    for errs in rng.uniform(0, 0.5, (50, 4)):
        d = risk_decomposition(*errs)
        parts = d["approximation"] + d["usability"] + d["probe_generalization"] + d["encoder_generalization"]
        assert parts == pytest.approx(d["total"]) and d["total"] == errs[3]


def test_paper_table2_rows_telescope_to_their_printed_totals() -> None:
    # hybrid_ecg Table 2, HL MI: 0.0960 + 0.1509 + 0.0530 - 0.0430 = 0.2569 (printed total)
    sup, train, heldout, test = 0.0960, 0.0960 + 0.1509, 0.0960 + 0.1509 + 0.0530, 0.2569
    assert risk_decomposition(sup, train, heldout, test) == pytest.approx(
        {"approximation": 0.0960, "usability": 0.1509, "probe_generalization": 0.0530,
         "encoder_generalization": -0.0430, "total": 0.2569}
    )


def test_prediction_errors() -> None:
    y = np.array([0, 0, 1, 1, 1])
    s = np.array([0.1, 0.6, 0.4, 0.9, 0.5])  # wrong: 0.6 (neg), 0.4 and 0.5 (pos; 0.5 is not > 0.5)
    e = prediction_errors(y, s)
    assert e["zero_one"] == pytest.approx(3 / 5)
    # AUROC: pairs (neg, pos) with pos ranked higher: 0.1 < all 3; 0.6 < 0.9 only -> 4 / 6
    assert e["one_minus_auroc"] == pytest.approx(1 - 4 / 6)
    with pytest.raises(ValueError, match="binary"):
        prediction_errors([0, 2], [0.1, 0.2])


class ThresholdProbe:
    """A 'probe' that ignores training: P(y = 1) = 1 if feature 0 > 0 else 0 (to hand-check the driver)."""

    def fit(self, X, y):
        self.fitted_rows_ = len(X)
        return self

    def predict_proba(self, X):
        p = (np.asarray(X)[:, 0] > 0).astype(float)
        return np.stack([1 - p, p], axis=1)


def test_driver_measures_each_error_on_its_set() -> None:
    y_tr = np.array([0] * 30 + [1] * 10)
    x_tr = np.where(y_tr == 1, 1.0, -1.0)[:, None] * np.ones((40, 2))
    x_tr[[0, 1, 35]] *= -1  # three training rows on the wrong side
    y_te = np.array([0] * 6 + [1] * 4)
    x_te = np.where(y_te == 1, 1.0, -1.0)[:, None] * np.ones((10, 2))
    x_te[9] *= -1  # one test row on the wrong side
    sup = {"zero_one": 0.05, "one_minus_auroc": 0.01}
    out = risk_errors(x_tr, y_tr, x_te, y_te, sup, probe=ThresholdProbe, seed=3)
    _, heldout = heldout_split(y_tr, 10, seed=3)
    wrong_heldout = len({0, 1, 35} & set(heldout.tolist()))
    z = out["zero_one"]
    assert z == {
        "sup_train_err": 0.05,
        "probe_train_err": pytest.approx(3 / 40),
        "probe_heldout_err": pytest.approx(wrong_heldout / 10),
        "probe_test_err": pytest.approx(1 / 10),
    }
    assert out["one_minus_auroc"]["sup_train_err"] == 0.01
    d = risk_decomposition(**z)
    assert d["total"] == pytest.approx(0.1) and d["usability"] == pytest.approx(3 / 40 - 0.05)


def test_heldout_subset_is_stratified_and_disjoint() -> None:
    y = np.array([0] * 80 + [1] * 20)
    rest, held = heldout_split(y, 25, seed=0)
    assert len(held) == 25 and len(rest) == 75 and not set(rest) & set(held)
    assert y[held].sum() == 5  # 20 % positives kept in the subset
    with pytest.raises(ValueError, match="held-out subset"):
        heldout_split(y, 100)


def test_logistic_probe_end_to_end() -> None:
    rng = np.random.default_rng(0)
    n_tr, n_te = 400, 100
    y_tr, y_te = rng.integers(0, 2, n_tr), rng.integers(0, 2, n_te)
    shift = np.array([1.5, 0, 0, 0])
    x_tr = rng.normal(size=(n_tr, 4)) + y_tr[:, None] * shift
    x_te = rng.normal(size=(n_te, 4)) + y_te[:, None] * shift
    sup = prediction_errors(y_tr, 1 / (1 + np.exp(-(x_tr[:, 0] - 0.75) * 3)))
    out = risk_errors(x_tr, y_tr, x_te, y_te, sup, seed=0)
    for kind in ("zero_one", "one_minus_auroc"):
        e = out[kind]
        assert all(0 <= v <= 1 for v in e.values())
        d = risk_decomposition(**e)
        assert sum(d[c] for c in COMPONENTS[:4]) == pytest.approx(d["total"])
    assert 0.15 < out["zero_one"]["probe_test_err"] < 0.45  # overlap of two unit Gaussians 1.5 apart: ~0.23
    with pytest.raises(ValueError, match="sup_train_err lacks"):
        risk_errors(x_tr, y_tr, x_te, y_te, {"zero_one": 0.1})
