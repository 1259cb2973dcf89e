"""Training-set subsampling (label fractions, low incidence) and repeats over seeds.

* Label fractions: D-BETA probes with 1 / 10 / 100 % of the training labels, hybrid_ecg fine-tunes with
  50 / 25 / 10 % "while keeping the original case ratio": :func:`label_fraction_indices` draws a stratified
  subset (strata = distinct label rows, so multi-label targets keep their label combinations' proportions);
  :func:`random_fraction_indices` draws MERL's plain random subset, ``train_test_split(train_size=r/100,
  random_state=42)``, which D-BETA follows (spec: "as MERL does").
* Low incidence (hybrid_ecg, appendix A.3): per disease, 7,000 samples with a case ratio of 5 / 2 / 1 %, e.g.
  70 MI-labelled and 6,930 non-MI samples at 1 %: :func:`low_incidence_indices`.
* Repeats: SyneCo uses seeds 0, 42, 1234 and reports the mean; :func:`over_seeds` runs an evaluation per seed
  and :func:`summarise` gives mean and standard deviation (ddof=1) per group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

DEFAULT_SEEDS = (0, 42, 1234)
LABEL_FRACTIONS = {"dbeta": (0.01, 0.10, 1.0), "hybrid_ecg": (0.50, 0.25, 0.10)}
CASE_RATIOS = (0.05, 0.02, 0.01)


def label_fraction_indices(y, fraction: float, seed: int = 0) -> np.ndarray:
    """Sorted indices of a stratified ``fraction`` of the rows of ``y`` ((N,) classes or (N, L) labels).

    The total is ``round(fraction * N)`` (at least 1); each stratum (distinct label row) gets its share by
    largest remainder, so class proportions are kept as closely as the counts allow.
    """
    y = np.asarray(y)
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    n = len(y)
    if fraction == 1:
        return np.arange(n)
    rows = y.reshape(n, -1)
    _, stratum = np.unique(rows, axis=0, return_inverse=True)
    stratum = stratum.ravel()
    sizes = np.bincount(stratum)
    total = max(1, round(fraction * n))
    quota = sizes * total / n
    take = np.floor(quota).astype(int)
    order = np.argsort(-(quota - take), kind="stable")
    take[order[: total - take.sum()]] += 1
    rng = np.random.default_rng(seed)
    picked = [
        rng.choice(np.flatnonzero(stratum == s), size=k, replace=False) for s, k in enumerate(take) if k
    ]
    return np.sort(np.concatenate(picked))


def random_fraction_indices(n: int, fraction: float, seed: int = 42) -> np.ndarray:
    """Sorted indices of MERL's label-fraction subset of ``n`` training rows: scikit-learn's
    ``train_test_split(range(n), train_size=fraction, random_state=seed)`` (not stratified); all rows at 1."""
    from sklearn.model_selection import train_test_split

    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if fraction == 1:
        return np.arange(n)
    if round(fraction * n) < 1:
        raise ValueError(f"a {fraction:.0%} fraction of {n} training rows holds no row")
    kept, _ = train_test_split(np.arange(n), train_size=fraction, random_state=seed)
    return np.sort(kept)


def low_incidence_indices(is_case, case_ratio: float, n_total: int = 7000, seed: int = 0) -> np.ndarray:
    """Sorted indices of ``n_total`` random rows, ``round(case_ratio * n_total)`` of them cases."""
    is_case = np.asarray(is_case).astype(bool)
    if is_case.ndim != 1:
        raise ValueError(f"is_case must be one disease's (N,) 0/1 labels, got shape {is_case.shape}")
    n_case = round(case_ratio * n_total)
    n_ctrl = n_total - n_case
    cases, ctrls = np.flatnonzero(is_case), np.flatnonzero(~is_case)
    if len(cases) < n_case or len(ctrls) < n_ctrl:
        raise ValueError(
            f"need {n_case} cases and {n_ctrl} controls for a {case_ratio:.0%} case ratio of {n_total}, "
            f"have {len(cases)} and {len(ctrls)}"
        )
    rng = np.random.default_rng(seed)
    return np.sort(
        np.concatenate([rng.choice(cases, n_case, replace=False), rng.choice(ctrls, n_ctrl, replace=False)])
    )


def low_incidence_sets(
    labels: pd.DataFrame, case_ratios: Sequence[float] = CASE_RATIOS, n_total: int = 7000, seed: int = 0
) -> dict[tuple[str, float], np.ndarray]:
    """``{(disease, ratio): indices}`` for every 0/1 column of ``labels`` (MI, STTC, CD, HYP) and ratio."""
    return {
        (d, r): low_incidence_indices(labels[d].to_numpy(), r, n_total, seed)
        for d in labels.columns
        for r in case_ratios
    }


def over_seeds(
    evaluate: Callable[[int], Mapping[str, float] | pd.DataFrame], seeds: Iterable[int] = DEFAULT_SEEDS
) -> pd.DataFrame:
    """Run ``evaluate(seed)`` per seed: long rows (seed, metric, value), or its frames plus a seed column."""
    frames = []
    for seed in seeds:
        out = evaluate(seed)
        df = (
            out.copy()
            if isinstance(out, pd.DataFrame)
            else pd.DataFrame({"metric": list(out), "value": [float(v) for v in out.values()]})
        )
        df["seed"] = seed
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def summarise(results: pd.DataFrame, by: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean, standard deviation (ddof=1) and count of ``value`` over seeds, per group.

    ``by`` defaults to every column except ``seed`` and ``value``.
    """
    by = list(by) if by is not None else [c for c in results.columns if c not in ("seed", "value", "fold")]
    return (
        results.groupby(by, sort=False, dropna=False)["value"]
        .agg(mean="mean", std="std", n="count")
        .reset_index()
    )
