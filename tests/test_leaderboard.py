"""The leaderboard engine (physiofm.evaluation.leaderboard): which runs a board plans and why others cannot
run, the reference rows, and the analyses on a hand-made results table."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from physiofm.evaluation import leaderboard
from physiofm.evaluation.results import results_frame
from physiofm.sections import LeaderboardSection

NET = {"kind": "net1d", "in_channels": 1, "base_filters": 8, "filters": [8], "blocks": [1], "kernel_size": 5,
       "stride": 1, "groups_width": 8, "stem_stride": 20, "stem_kernel": 40, "dropout": 0.0, "embed_dim": 16}


def board_section(**changes) -> LeaderboardSection:
    spec = {
        "encoder": NET, "channel_encoders": {"ppg": {"stem_stride": 5, "stem_kernel": 10}},
        "channels": ["ecg_ii", "ecg_v", "ppg"], "seeds": [0],
        "train": {"batch_size": 4, "max_steps": 1, "lr": 1e-3, "weight_decay": 0.0},
        "methods": {"syneco": {"method": "syneco"},
                    "simclr_vit": {"method": "simclr", "config": {"encoder": {"kind": "not_a_kind"}}},
                    "clip_ecg": {"method": "clip", "config": {"towers": ["ppg", "ecg"]}},
                    "later": {"method": "byol", "reason": "its batching lands with another issue"}},
        "reference": {"method": "stack"},
        "tasks": [{"name": "af", "target": "af", "kind": "binary", "info": "redundant"},
                  {"name": "stage", "target": "stage_code", "kind": "multiclass", "info": "other"}],
        "probe": {"test_fraction": 0.3, "max_segments_per_subject": 5, "embed_batch_size": 8,
                  "bootstrap": 50},
    }
    spec.update(changes)
    return LeaderboardSection.model_validate(spec)


def fake_data() -> SimpleNamespace:
    index = pd.DataFrame({"af": [0, 1, 0, 1], "stage_code": [0, 1, 2, 4], "subject_id": list("abcd")})
    store = SimpleNamespace(groups={"ecg_ii": {}, "ecg_v": {}, "ppg": {}}, index=index)
    return SimpleNamespace(stores={"pretrain": store})


def test_plan_lists_methods_that_cannot_run_with_the_reason() -> None:
    runs, unavailable = leaderboard.plan(board_section(), fake_data())
    assert list(runs) == ["syneco", "random_init", "supervised"]
    reasons = unavailable.set_index("method")["reason"]
    assert reasons["later"] == "its batching lands with another issue"
    assert "unknown backbone kind 'not_a_kind'" in reasons["simclr_vit"]
    assert "reads ['ecg']" in reasons["clip_ecg"]
    # the shared encoder went into the config, with the PPG channel's own stem
    cfg = runs["syneco"].config
    assert cfg["encoder"] == NET and cfg["encoders"]["ppg"]["stem_stride"] == 5
    sup = runs["supervised"].config
    assert sup["base"] == "stack" and sup["targets"] == ["af", "stage_code"]
    assert sup["kinds"] == ["binary", "multiclass"] and sup["classes"] == {"stage_code": 5}


def test_per_task_references_and_their_rows() -> None:
    section = board_section(reference={"method": "stack", "mode": "per_task"})
    runs, _ = leaderboard.plan(section, fake_data())
    assert {"supervised_af", "supervised_stage"} <= set(runs) and "supervised" not in runs
    frame = pd.DataFrame({"method": ["supervised_af", "supervised_af", "syneco"],
                          "task": ["af", "stage", "af"]})
    out = leaderboard.as_supervised(frame, section.reference.group_tasks(["af", "stage"]))
    assert out.to_dict("list") == {"method": ["supervised", "syneco"], "task": ["af", "af"]}


def test_grouped_references_train_one_network_per_group_with_its_budget() -> None:
    longer = {"batch_size": 4, "max_steps": 7, "lr": 1e-3, "weight_decay": 0.0}
    short = {**longer, "max_steps": 3}
    ref = {"method": "stack", "mode": "groups", "train": longer,
           "groups": {"rhythm": {"tasks": ["af", "hypertensive"]},
                      "sleep": {"tasks": ["stage"], "train": short}}}
    section = board_section(reference=ref)
    runs, _ = leaderboard.plan(section, fake_data())
    assert [n for n in runs if n.startswith("supervised")] == ["supervised_rhythm", "supervised_sleep"]
    # a group's tasks the board does not probe (hypertensive) are left out of its targets
    assert runs["supervised_rhythm"].config["targets"] == ["af"]
    assert runs["supervised_sleep"].config["targets"] == ["stage_code"]
    assert leaderboard.budget(section, "supervised_rhythm").max_steps == 7  # the reference's budget
    assert leaderboard.budget(section, "supervised_sleep").max_steps == 3  # its group's own
    assert leaderboard.budget(section, "syneco").max_steps == 1
    frame = pd.DataFrame({"method": ["supervised_rhythm", "supervised_rhythm", "supervised_sleep",
                                     "supervised_sleep", "random_init"],
                          "task": ["af", "stage", "af", "stage", "af"]})
    out = leaderboard.as_supervised(frame, section.reference.group_tasks(["af", "stage"]))
    assert out.to_dict("list") == {"method": ["supervised", "supervised", "random_init"],
                                   "task": ["af", "stage", "af"]}


@pytest.mark.parametrize(("groups", "message"), [
    ({"a": {"tasks": ["af"]}}, "stage is in 0"),
    ({"a": {"tasks": ["af", "stage"]}, "b": {"tasks": ["stage"]}}, "stage is in 2"),
])
def test_every_task_is_in_exactly_one_reference_group(groups: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        board_section(reference={"method": "stack", "mode": "groups", "groups": groups})
    with pytest.raises(ValueError, match="exactly when mode is 'groups'"):
        board_section(reference={"method": "stack", "groups": groups})


def test_the_supervised_reference_may_have_its_own_budget() -> None:
    plain = board_section()
    assert leaderboard.budget(plain, "supervised") == plain.train
    longer = {"batch_size": 4, "max_steps": 7, "lr": 1e-3, "weight_decay": 0.0}
    joint = board_section(reference={"method": "stack", "train": longer})
    assert leaderboard.budget(joint, "supervised").max_steps == 7
    assert leaderboard.budget(joint, "syneco") == joint.train and joint.train.max_steps == 1
    per_task = board_section(reference={"method": "stack", "mode": "per_task", "train": longer})
    assert leaderboard.budget(per_task, "supervised_af").max_steps == 7


def test_calibration_table_at_the_chosen_setting_says_which_targets_hold() -> None:
    from physiofm.evaluation.calibration import at_setting

    rows = [(e, t, k, ref, v) for t, k, vals in (("af", "af", {0.1: (0.6, 0.9), 0.3: (0.7, 0.97)}),
                                               ("stiff", "stiff", {0.1: (0.8, 0.99), 0.3: (0.9, 1.0)}))
            for e, (u, sup) in vals.items() for ref, v in (("random_init", u), ("supervised", sup))]
    table = pd.DataFrame(rows, columns=["effect", "task", "knob", "reference", "auroc"])
    out = at_setting(table, {"af": 0.28, "stiff": 0.11}).set_index("task")
    assert out.loc["af", "nearest effect"] == 0.3 and out.loc["stiff", "nearest effect"] == 0.1
    assert out.loc["af", "untrained <= 0.75"] and out.loc["af", "supervised >= 0.95"]
    assert not out.loc["stiff", "untrained <= 0.75"] and out.loc["stiff", "supervised >= 0.95"]


def test_a_board_needs_methods_or_a_reference_and_keeps_reference_names() -> None:
    with pytest.raises(ValueError, match="needs methods, a reference, or both"):
        board_section(methods={}, reference=None)
    with pytest.raises(ValueError, match="kept for the reference rows"):
        board_section(methods={"supervised": {"method": "syneco"}})


def test_weighted_auroc_is_the_auroc_of_the_resampled_rows() -> None:
    rng = np.random.default_rng(0)
    y, s = rng.integers(0, 2, 60), np.round(rng.normal(size=60), 1)  # rounded: ties
    assert leaderboard.weighted_auroc(y, s, np.ones((1, 60)))[0] == pytest.approx(roc_auc_score(y, s))
    counts = rng.multinomial(60, np.full(60, 1 / 60), size=3)
    got = leaderboard.weighted_auroc(y, s, counts)
    for c, g in zip(counts, got, strict=True):
        idx = np.repeat(np.arange(60), c)
        assert g == pytest.approx(roc_auc_score(y[idx], s[idx]))


def hand_board() -> leaderboard.Board:
    values = {("a", "t1"): [0.8, 0.7], ("b", "t1"): [0.6, 0.6], ("random_init", "t1"): [0.5, 0.5],
              ("supervised", "t1"): [1.0, 0.9], ("a", "t2"): [0.7, 0.7], ("b", "t2"): [0.9, 0.8],
              ("random_init", "t2"): [0.6, 0.6], ("supervised", "t2"): [0.6, 0.61]}
    rows = [{"method": m, "task": t, "probe": "lr", "metric": "auroc", "seed": s, "value": v,
             "info": "x" if t == "t1" else "y"} for (m, t), vs in values.items() for s, v in zip((0, 1), vs)]
    tasks = [SimpleNamespace(name="t1", info="x"), SimpleNamespace(name="t2", info="y")]
    y = np.array([0, 1, 0, 1, 1, 0])
    scores = {"a": [0.1, 0.9, 0.2, 0.8, 0.7, 0.3], "b": [0.5, 0.4, 0.6, 0.7, 0.2, 0.1]}
    pred = pd.concat([pd.DataFrame({"method": m, "task": "t1", "subject_id": list("abcdef"), "y": y,
                                    "score": sc}) for m, sc in scores.items()])
    runs = dict.fromkeys(["a", "b", "random_init", "supervised"])
    return leaderboard.Board(runs, pd.DataFrame(), results_frame(rows), pred, tasks, pd.DataFrame())


def test_scores_between_the_references_ranks_and_structure() -> None:
    board = hand_board()
    n = leaderboard.normalised(board).set_index(["method", "task", "seed"])["value"]
    assert n["a", "t1", 0] == pytest.approx((0.8 - 0.5) / (1.0 - 0.5))
    assert n["random_init", "t1", 1] == 0 and n["supervised", "t1", 1] == pytest.approx(1)
    assert np.isnan(n["a", "t2", 0])  # references 0.0 apart: nothing to place between them
    ranks = leaderboard.rank_table(board)
    assert list(ranks.index) == ["a", "b"] and ranks.loc["a", "mean rank"] == pytest.approx(1.5)
    assert ranks.loc["a", "seed spread (rank)"] == 0
    s = leaderboard.structure_matrix(board)
    assert list(s.columns) == ["x: t1", "y: t2"] and s.loc["a", "x: t1"] == pytest.approx(0.75)
    assert list(leaderboard.information_by_kind(board).columns) == ["x", "y"]


def test_bootstrap_against_the_best_method() -> None:
    out = leaderboard.bootstrap_vs_best(hand_board(), n=200, seed=0).set_index("method")
    assert (out["best"] == "a").all() and out.loc["a", "delta"] == 0
    expected = roc_auc_score([0, 1, 0, 1, 1, 0], [0.5, 0.4, 0.6, 0.7, 0.2, 0.1])
    assert out.loc["b", "auroc"] == pytest.approx(expected)
    assert out.loc["b", "low"] <= out.loc["b", "delta"] <= out.loc["b", "high"]
    table = leaderboard.bootstrap_table(out.reset_index())
    assert table.loc["a", "t1"] == "best" and table.loc["b", "t1"].startswith("-")
