"""The MultiMAE paper package: the aggregate score, the tables in the paper's layout, the claims (every claim
1-5 holds on the paper's own numbers), the arousal columns of the built-in cohort, the sweep points and the
numbers put on the rollout maps and the RSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from physiofm.analysis import SourceVariance
from physiofm.config import load_params
from physiofm.datasets.physionet2018 import arousal_labels, epoch_arousal
from physiofm.evaluation.published import published_path
from physiofm.multimae import analysis, claims, data, evaluate, tables
from physiofm.multimae.tasks import CHANCE, MODALITIES, TASKS
from physiofm.paths import repo_root
from physiofm.synthetic import psg_cohort

PUBLISHED = published_path("multimae")


def fake_results(values: dict[tuple[str, str], float], probe: str = "lr", patients: int = 20,
                 seeds=(0, 1)) -> pd.DataFrame:
    rows = [{"method": m, "task": t, "probe": probe, "metric": "balanced_accuracy", "seed": s,
             "value": v + 0.01 * s, "patients": patients} for (m, t), v in values.items() for s in seeds]
    return pd.DataFrame(rows)


def test_aggregate_is_the_papers_mean_relative_gain() -> None:
    res = fake_results({("m", "sleep"): 0.744, ("m", "age"): 0.719, ("m", "arousal"): 0.637,
                        ("x", "sleep"): 0.5}, seeds=(0,))
    out = evaluate.with_aggregate(res)
    agg = out[out["task"] == "aggregate"]
    assert list(agg["method"]) == ["m"]  # x lacks two tasks: no aggregate
    assert agg["value"].iloc[0] == pytest.approx((2.72 + 0.438 + 0.274) / 3, abs=1e-3)  # Table 1: 1.144
    assert set(CHANCE) == set(TASKS)


def test_paper_table_puts_published_beside_ours() -> None:
    res = evaluate.with_aggregate(fake_results({("multimae_drop", t): 0.7 for t in CHANCE}))
    table = tables.paper_table(res, "table_1", PUBLISHED, 20, 4, 20)
    row = table.loc["MultiMAE + input modality drop"]
    assert row[("sleep", "balanced_accuracy", "published")] == "0.744 ± 0.001"
    assert row[("sleep", "balanced_accuracy", "this study")] == "0.705 ± 0.007"
    assert table.loc["Scratch EEG"][("age", "balanced_accuracy", "this study")] == "not run"
    assert list(table.columns.get_level_values("task")[:2]) == ["sleep", "sleep"]
    assert len(table) == 10  # the paper's ten rows of Table 1
    few = tables.paper_table(res, "table_3", PUBLISHED, 20, 4, 20)  # no rows with 4 patients
    assert (few.loc["MultiMAE + input modality drop"].xs("this study", level="source") == "not run").all()


def test_every_claim_holds_on_the_papers_own_numbers() -> None:
    rows = claims.claims_1_to_5(claims.paper_cells(PUBLISHED))
    assert [r["verdict"] for r in rows] == ["holds"] * 5
    assert "1.144" in rows[0]["numbers"] and "EEG" in rows[0]["numbers"]


def test_claims_on_our_numbers_and_partial_verdicts() -> None:
    values = {("mae_eeg", "sleep"): 0.7, ("mae_ecg", "age"): 0.7, ("mae_eog", "arousal"): 0.7}
    for m in MODALITIES:
        for t in CHANCE:
            values.setdefault((f"mae_{m}", t), 0.55)
    values.update({("multimae_drop", t): 0.6 for t in CHANCE})
    res = evaluate.with_aggregate(fake_results(values))
    ours = claims.claims_1_to_5(claims.our_cells(res, 20, 4, 20))
    assert ours[1]["verdict"] == "holds"  # EEG sleep, ECG age, EOG arousal
    assert ours[0]["verdict"] == "not testable"  # no scratch row
    rollout = pd.DataFrame({"vertical bands": [0.8, 0.1, 0.1], "cross-modal mass": [0.2, 0.5, 0.6],
                            "temporal alignment": [1.0, 2.0, 2.5],
                            "most attended modality": ["EEG", "EEG", "EMG"]},
                           index=[analysis.MODEL_LABELS[k] for k in ("scratch", "multimae", "multimae_drop")])
    assert claims.claim_6(rollout)["verdict"] == "holds"
    assert claims.claim_6(rollout.assign(**{"temporal alignment": [3.0, 2.0, 2.5]}))["verdict"] == "partly"


def test_cohort_arousal_columns_follow_its_events() -> None:
    p = load_params(repo_root() / "params" / "ci" / "multimae.yaml").steps.data
    cohort = psg_cohort(p.source.n_subjects, p.source.seed, hours=p.source.hours,
                        arousal_fraction=p.source.arousal_fraction)
    labels = cohort.labels.assign(record_id=lambda d: f"{p.source.name}/" + d["record_id"],
                                  offset_s=lambda d: d["onset"], stage_code=0.0)
    cols = data.cohort_arousal_columns(p, labels)
    # the cohort labels an epoch 1 when an arousal lies in it: the "any" rule on these columns
    np.testing.assert_array_equal(arousal_labels(labels.join(cols), "any").to_numpy(), labels["arousal"])
    assert (cols["arousal_s"][labels["arousal"] == 1] >= 3 - 1e-9).all()  # arousals last 3-15 s
    rates = data.arousal_rates(p, labels.join(cols))
    assert rates["closest"].sum() == 1
    assert rates.loc[rates["used"]].index[0] == rates.loc[rates["closest"]].index[0]
    assert epoch_arousal(np.zeros(300), 10.0, "centre").shape == (1,)


def test_sweep_points_and_validation_labels() -> None:
    class Ctx:
        shared = load_params(repo_root() / "params" / "demo" / "multimae.yaml").shared
        params = load_params(repo_root() / "params" / "demo" / "multimae.yaml").steps.sweep

    runs = evaluate.sweep_runs(Ctx)
    ratios = {n: c.config["mask_ratio"] for n, (c, _, _) in runs.items()}
    assert ratios["sweep_multimae_drop_0.6"] == pytest.approx(0.7)  # 1/4 + 3/4 x 0.6
    assert ratios["sweep_multimae_0.5"] == 0.5
    assert runs["sweep_multimae_drop_0.6"][0] == Ctx.shared.methods["multimae_drop"]  # the main run
    labels = pd.DataFrame({"split": ["train", "val", "test"], "row": [0, 1, 2]})
    assert evaluate.validation_labels(labels)["split"].tolist() == ["train", "test"]


def test_rollout_summary_reads_bands_cross_modality_and_alignment() -> None:
    n, t = 24, 6
    bands = np.full((n, n), 0.02)
    bands[:, 0] = bands[:, 1] = 0.43  # every query on the first EEG tokens
    bands /= bands.sum(1, keepdims=True)
    aligned = np.zeros((n, n))
    for q in range(n):
        for k in range(n):
            aligned[q, k] = 1.0 if k % t == q % t else 0.05
    aligned /= aligned.sum(1, keepdims=True)
    s = analysis.rollout_summary({"scratch": bands, "multimae": aligned})
    scratch, mae = s.loc[analysis.MODEL_LABELS["scratch"]], s.loc[analysis.MODEL_LABELS["multimae"]]
    assert scratch["vertical bands"] > 0.9 and scratch["most attended modality"] == "EEG"
    assert mae["temporal alignment"] > 1.5 > scratch["temporal alignment"]
    mass = analysis.modality_mass({"scratch": bands})
    assert mass.loc[analysis.MODEL_LABELS["scratch"], "EEG"] == mass.max(axis=1).iloc[0] > 0.5


def test_rsv_summary_both_measures() -> None:
    sv = np.zeros((2, 4, 5))
    sv[:, 0] = 1.0  # every unit moved by the first modality only
    table = analysis.rsv_table({"scratch": SourceVariance(sv, MODALITIES)})
    s = analysis.rsv_summary(table).loc[analysis.MODEL_LABELS["scratch"]]
    assert s.loc["share", "last layer: dominant modality"] == "EEG"
    assert s.loc["share", "last layer: its mean"] == pytest.approx(1.0)
    assert s.loc["rsv", "last layer: its mean"] == pytest.approx(np.e / (np.e + 3))
