"""Risk decomposition of a frozen representation (Dubois, Hashimoto & Liang 2023; hybrid_ecg §4.2, Table 2).

With Tr the probe-training pool, Te the test set, S_h a stratified subset of Tr of size |Te|,
S_c = Tr \\ S_h, and err(h; S) the error of predictor h on S:

    approximation          = err(supervised model of the same architecture trained on Tr; Tr)
    usability              = err(probe on Tr; Tr)   - approximation
    probe_generalization   = err(probe on S_c; S_h) - err(probe on Tr; Tr)
    encoder_generalization = err(probe on Tr; Te)   - err(probe on S_c; S_h)
    total                  = err(probe on Tr; Te)

The four components telescope to the total. This is the reference code's ``make_risk_decomposition``
(YannDubs/SSL-Risk-Decomposition, ``utils/collect_results.py``, read for faithfulness) with its default
traversal down -> right -> down of the table [[sup train/train, -], [probe train/train,
probe complement/subset], [-, probe train/test]]; its subset is ``train_test_split(stratify=Y,
test_size=len(test))`` as here. The reference tunes each probe with Optuna (30 trials); :func:`risk_errors`
fits one fixed probe (scikit-learn's default logistic regression on standardised features) [D].

hybrid_ecg does not say which error it decomposes (its totals are not 1 - AUROC), so both are computed:
``zero_one`` = 0-1 error with a positive call when P(y = 1) > 0.5 (scikit-learn's ``predict``), and
``one_minus_auroc`` = 1 - AUROC. Tasks are binary, one at a time (MI, STTC, CD, HYP).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from physiofm.evaluation.metrics import auroc
from physiofm.evaluation.probes import make_probe

COMPONENTS = ("approximation", "usability", "probe_generalization", "encoder_generalization", "total")
ERRORS = ("zero_one", "one_minus_auroc")


def risk_decomposition(
    sup_train_err: float, probe_train_err: float, probe_heldout_err: float, probe_test_err: float
) -> dict[str, float]:
    """The four components and the total from the four measured errors (see the module docstring)."""
    return {
        "approximation": float(sup_train_err),
        "usability": float(probe_train_err - sup_train_err),
        "probe_generalization": float(probe_heldout_err - probe_train_err),
        "encoder_generalization": float(probe_test_err - probe_heldout_err),
        "total": float(probe_test_err),
    }


def prediction_errors(y_true, score) -> dict[str, float]:
    """``{"zero_one", "one_minus_auroc"}`` of binary predictions: y_true (N,) 0/1, score (N,) P(y = 1)."""
    y, s = np.asarray(y_true).astype(int).reshape(-1), np.asarray(score, dtype=float).reshape(-1)
    if len(y) != len(s):
        raise ValueError(f"y_true has {len(y)} rows but score has {len(s)}")
    if not set(np.unique(y)) <= {0, 1}:
        raise ValueError(f"risk decomposition is for binary tasks; y_true holds {np.unique(y)}")
    zero_one = float(np.mean((s > 0.5).astype(int) != y))
    return {"zero_one": zero_one, "one_minus_auroc": 1.0 - float(auroc(y, s))}


def heldout_split(y_train, n_heldout: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(S_c, S_h) row indices of Tr: S_h a stratified random subset of ``n_heldout`` rows, S_c the rest."""
    y = np.asarray(y_train).reshape(-1)
    if not 0 < n_heldout < len(y):
        raise ValueError(f"the held-out subset needs 0 < |S_h| = {n_heldout} < |Tr| = {len(y)}")
    complement, subset = train_test_split(
        np.arange(len(y)), test_size=n_heldout, stratify=y, random_state=seed
    )
    return np.sort(complement), np.sort(subset)


def _scores(probe, X) -> np.ndarray:
    return np.asarray(probe.predict_proba(np.asarray(X, dtype=np.float32)))[:, 1]


def risk_errors(
    features_train,
    y_train,
    features_test,
    y_test,
    sup_train_err: Mapping[str, float],
    *,
    probe: str | Callable[[], Any] = "lr",
    seed: int = 0,
    **probe_kwargs: Any,
) -> dict[str, dict[str, float]]:
    """Fit the probes of the decomposition on frozen features and measure the four errors.

    Args:
        features_train, y_train: Tr, (N_tr, D) features and (N_tr,) 0/1 labels.
        features_test, y_test: Te, (N_te, D) and (N_te,).
        sup_train_err: the supervised model's error on Tr per error kind, e.g.
            ``prediction_errors(y_train, supervised_scores_on_train)``.
        probe: a probe kind of :func:`physiofm.evaluation.make_probe` (``"lr"``, ``"rf"``, ``"fc"``) or a
            factory returning an unfitted estimator with ``fit`` / ``predict_proba``.
        seed: seed of the probes and of the stratified choice of S_h (|S_h| = |Te|).

    Returns:
        ``{error kind: {"sup_train_err", "probe_train_err", "probe_heldout_err", "probe_test_err"}}`` for
        ``zero_one`` and ``one_minus_auroc``; ``risk_decomposition(**out[kind])`` gives the components.
    """
    X_tr, X_te = np.asarray(features_train, dtype=np.float32), np.asarray(features_test, dtype=np.float32)
    y_tr, y_te = np.asarray(y_train).astype(int), np.asarray(y_test).astype(int)
    if X_tr.ndim != 2 or X_te.ndim != 2 or X_tr.shape[1] != X_te.shape[1]:
        raise ValueError(f"features must be (N, D) with one D, got {X_tr.shape} and {X_te.shape}")
    if len(X_tr) != len(y_tr) or len(X_te) != len(y_te):
        raise ValueError("one label per feature row is needed in both Tr and Te")
    missing = set(ERRORS) - set(sup_train_err)
    if missing:
        raise ValueError(
            f"sup_train_err lacks {sorted(missing)}; pass prediction_errors(...) of the supervised model"
        )

    def new_probe():
        return probe() if callable(probe) else make_probe(probe, "classification", seed, **probe_kwargs)

    on_train = new_probe().fit(X_tr, y_tr)
    complement, heldout = heldout_split(y_tr, len(y_te), seed)
    on_complement = new_probe().fit(X_tr[complement], y_tr[complement])
    measured = {
        "probe_train_err": prediction_errors(y_tr, _scores(on_train, X_tr)),
        "probe_heldout_err": prediction_errors(y_tr[heldout], _scores(on_complement, X_tr[heldout])),
        "probe_test_err": prediction_errors(y_te, _scores(on_train, X_te)),
    }
    return {
        kind: {"sup_train_err": float(sup_train_err[kind]), **{k: v[kind] for k, v in measured.items()}}
        for kind in ERRORS
    }
