"""Each metric against scikit-learn or a hand-worked example, including the undefined cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.preprocessing import label_binarize

from physiofm.evaluation import (
    UndefinedMetricWarning,
    accuracy,
    auprc,
    auroc,
    balanced_accuracy,
    classification_scores,
    cohen_kappa,
    f1,
    hybrid_ecg_criteria,
    mae,
    multimae_aggregate,
    r2,
    retrieval_metrics,
)

rng = np.random.default_rng(0)


def test_auroc_auprc_match_sklearn():
    y = rng.integers(0, 2, 200)
    s = y * 0.5 + rng.random(200)
    assert math.isclose(auroc(y, s), skm.roc_auc_score(y, s))
    assert math.isclose(auprc(y, s), skm.average_precision_score(y, s))
    assert math.isclose(auroc(y, np.stack([1 - s, s], 1)), skm.roc_auc_score(y, s))

    yk = rng.integers(0, 4, 300)
    p = rng.random((300, 4)) + np.eye(4)[yk] * 0.7
    p /= p.sum(1, keepdims=True)
    assert math.isclose(auroc(yk, p), skm.roc_auc_score(yk, p, multi_class="ovr", average="macro"))
    assert math.isclose(auprc(yk, p), skm.average_precision_score(label_binarize(yk, classes=range(4)), p))

    ym = rng.integers(0, 2, (150, 3))
    sm = ym * 0.3 + rng.random((150, 3))
    assert math.isclose(auroc(ym, sm), skm.roc_auc_score(ym, sm, average="macro"))
    assert math.isclose(auprc(ym, sm), skm.average_precision_score(ym, sm, average="macro"))
    np.testing.assert_allclose(auroc(ym, sm, average=None), skm.roc_auc_score(ym, sm, average=None))


def test_one_class_present_is_nan_with_warning():
    with pytest.warns(UndefinedMetricWarning, match="only one class"):
        assert math.isnan(auroc(np.ones(5), rng.random(5)))
    ym = np.array([[1, 0], [0, 0], [1, 0], [0, 0]])
    sm = np.array([[0.9, 0.1], [0.2, 0.3], [0.8, 0.2], [0.1, 0.9]])
    with pytest.warns(UndefinedMetricWarning, match=r"label\(s\) \[1\]"):
        assert auroc(ym, sm) == 1.0  # macro over the defined label only
    with pytest.warns(UndefinedMetricWarning):
        assert math.isnan(r2([2.0, 2.0, 2.0], [1.0, 2.0, 3.0]))
    with pytest.warns(UndefinedMetricWarning):
        assert math.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))
    with pytest.raises(ValueError, match="rows"):
        auroc([0, 1], [0.1, 0.2, 0.3])


def test_point_metrics_match_sklearn():
    y, p = rng.integers(0, 3, 100), rng.integers(0, 3, 100)
    assert accuracy(y, p) == skm.accuracy_score(y, p)
    assert balanced_accuracy(y, p) == skm.balanced_accuracy_score(y, p)
    assert cohen_kappa(y, p) == skm.cohen_kappa_score(y, p)
    assert f1(y, p) == skm.f1_score(y, p, average="macro")
    yb, pb = y % 2, p % 2
    assert f1(yb, pb) == skm.f1_score(yb, pb)  # positive-class F1 for 0/1 labels
    t, q = rng.normal(size=50), rng.normal(size=50)
    assert mae(t, q) == skm.mean_absolute_error(t, q) and r2(t, q) == skm.r2_score(t, q)
    scores = classification_scores([0, 1, 1, 0], [0.2, 0.7, 0.4, 0.1])
    assert scores["auroc"] == 1.0 and scores["accuracy"] == 0.75 and scores["balanced_accuracy"] == 0.75


def test_hybrid_ecg_criteria_reproduces_paper_table_4():
    # Table 4, supervised baseline at a 1 % case ratio: AUROC, AUPRC (MI, STTC, CD, HYP) -> 6.407
    aurocs, auprcs = [0.8797, 0.8969, 0.8576, 0.8928], [0.7684, 0.7462, 0.7373, 0.6281]
    assert math.isclose(hybrid_ecg_criteria(aurocs, auprcs), 6.407, abs_tol=1e-9)


def test_multimae_aggregate_reproduces_paper_table_1():
    # Table 1, "Pretrained, All": balanced accuracies 0.744 / 0.719 / 0.637, chance 0.2 / 0.5 / 0.5 -> 1.144
    agg = multimae_aggregate(
        {"sleep": 0.744, "age": 0.719, "arousal": 0.637}, {"sleep": 0.2, "age": 0.5, "arousal": 0.5}
    )
    assert math.isclose(agg, 1.144, abs_tol=1e-9)
    with pytest.raises(ValueError, match="same tasks"):
        multimae_aggregate({"sleep": 0.7}, {"age": 0.5})


def _unit(deg):
    r = np.deg2rad(np.asarray(deg, dtype=float))
    return np.stack([np.cos(r), np.sin(r)], 1)


def test_retrieval_metrics_hand_worked():
    gallery = _unit([0, 90, 180, 270])
    query = _unit([10, 170, 260, 100])
    # one batch of 4: match ranks are 1, 2 (g2 is closer to 170 deg), 2 (g3 closer to 260 deg), 4
    m = retrieval_metrics(query, gallery, batch_size=4)
    assert m == pytest.approx({"R@1": 0.25, "R@5": 1.0, "R@10": 1.0, "mAP@10": 0.5625, "MRR": 0.5625})
    # batches of 2: (q0, q1 | g0, g1) ranks 1, 1 and (q2, q3 | g2, g3) ranks 2, 2
    m = retrieval_metrics(query, gallery, batch_size=2)
    assert m["R@1"] == 0.5 and m["MRR"] == 0.75
    # batches of 3 and 1: ranks 1, 2, 1 | 1, averaged over queries (batches weighted by size)
    m = retrieval_metrics(query, gallery, ks=(1,), batch_size=3)
    assert set(m) == {"R@1", "mAP@10", "MRR"} and m["R@1"] == 0.75
    # scale does not matter (cosine); ties count against the query
    assert retrieval_metrics(3 * query, gallery, batch_size=4)["R@1"] == 0.25
    same = np.ones((4, 2))
    assert retrieval_metrics(same, same, batch_size=4)["R@1"] == 0.0


def test_retrieval_metrics_match_brute_force():
    n, d, bs = 700, 8, 256
    g = rng.normal(size=(n, d))
    q = g + 1.5 * rng.normal(size=(n, d))
    ranks = []
    for i in range(0, n, bs):
        qb = q[i : i + bs] / np.linalg.norm(q[i : i + bs], axis=1, keepdims=True)
        gb = g[i : i + bs] / np.linalg.norm(g[i : i + bs], axis=1, keepdims=True)
        sim = qb @ gb.T
        ranks += [int((sim[j] >= sim[j, j]).sum()) for j in range(len(qb))]
    ranks = np.array(ranks)
    m = retrieval_metrics(q, g, batch_size=bs)
    assert m["R@5"] == pytest.approx((ranks <= 5).mean())
    assert m["mAP@10"] == pytest.approx(np.where(ranks <= 10, 1 / ranks, 0).mean())
    assert m["MRR"] == pytest.approx((1 / ranks).mean())
    assert 0 < m["R@1"] < m["R@5"] < m["R@10"] < 1 and m["mAP@10"] <= m["MRR"]
    with pytest.raises(ValueError, match="same shape"):
        retrieval_metrics(q, g[:10])
