"""The benchmark part: every registry method takes one training step on each built-in cohort it fits (the
ci leaderboards), or the leaderboard lists it with a reason; the params of every profile agree."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from physiofm import methods
from physiofm.config import load_params, params_path
from physiofm.evaluation import leaderboard
from physiofm.methods.simclr import NEXT
from physiofm.store import PAIR_SUFFIX, SUBJECT_KEY

B = 4
SHAPES = {"icu": {"ecg_ii": (1, 5000), "ecg_v": (1, 5000), "ppg": (1, 1250)},
          "synergy": {"ecg_ii": (1, 5000), "ecg_v": (1, 5000), "ppg": (1, 1250)},
          "ecg12": {"ecg": (12, 2500)},
          "psg": {"eeg": (1, 3000), "eog": (1, 3000), "emg": (1, 3000), "ecg": (1, 3000)}}


def cohort(step: str, board) -> tuple[SimpleNamespace, dict]:
    """A store stand-in (groups, an index with every task column) and a batch of the cohort's shapes."""
    g = torch.Generator().manual_seed(0)
    batch = {k: torch.randn(B, *shape, generator=g) for k, shape in SHAPES[step].items()}
    cols = {t.target if isinstance(t.target, str) else t.target[0]: t.kind for t in board.tasks}
    index = pd.DataFrame({c: np.arange(B) % (5 if kind == "multiclass" else 2) for c, kind in cols.items()})
    batch.update({c: torch.tensor(index[c].to_numpy(), dtype=torch.float32) for c in cols})
    # What the run loop's batching adds: paired partners with subject codes (hybrid's patient-level term) and
    # each window's successor (adjacent SimCLR).
    for k, shape in SHAPES[step].items():
        batch[f"{k}{PAIR_SUFFIX}"] = torch.randn(B, *shape, generator=g)
        batch[f"{NEXT}{k}"] = torch.randn(B, *shape, generator=g)
    batch[SUBJECT_KEY] = torch.arange(B)
    store = SimpleNamespace(groups=dict.fromkeys(SHAPES[step]), index=index)
    return SimpleNamespace(stores={"pretrain": store}), batch


CI = load_params(params_path("ci", "benchmark"))
STEPS = ["icu", "synergy", "ecg12", "psg"]


@pytest.mark.parametrize("step", STEPS)
def test_every_method_runs_one_step_or_is_listed_with_a_reason(step: str) -> None:
    board = CI.step(step).board
    data, batch = cohort(step, board)
    runs, unavailable = leaderboard.plan(board, data)
    assert set(runs) | set(unavailable["method"]) >= set(board.methods)
    assert unavailable["reason"].str.len().gt(0).all()
    torch.set_num_threads(1)
    for name, choice in runs.items():
        torch.manual_seed(0)
        method = methods.build(choice.method, choice.config)
        opt = torch.optim.AdamW([p for p in method.parameters() if p.requires_grad], lr=1e-3)
        method.train()
        loss = method.loss(batch)
        assert loss.ndim == 0 and math.isfinite(loss.item()), name
        loss.backward()
        opt.step()
        method.after_step(1, 10)
        reps = method.embed_inputs(batch, {"all": tuple(board.channels)})
        assert reps["all"].shape[0] == B and torch.isfinite(reps["all"]).all(), name


def test_every_registry_method_has_a_row_on_some_leaderboard() -> None:
    listed = {e.method for s in STEPS for e in CI.step(s).board.methods.values()} | {"supervised"}
    missing = sorted(set(methods.names()) - listed)
    assert not missing, f"registry methods on no leaderboard (add them, or a reason, to params): {missing}"


def test_only_dbeta_waits_and_says_why() -> None:
    """Every method of the 12-lead and PSG boards runs on its cohort (ViT1D and the MultiMAE encoder are
    encoder kinds, CL / HL get paired batches, SimCLR adjacent windows); D-BETA is listed with its reason."""
    for step in ("ecg12", "psg"):
        board = CI.step(step).board
        runs, unavailable = leaderboard.plan(board, cohort(step, board)[0])
        assert list(unavailable["method"]) == (["dbeta"] if step == "ecg12" else []), unavailable
        assert {"random_init", "supervised"} <= set(runs)
    reasons = leaderboard.plan(CI.step("ecg12").board, cohort("ecg12", CI.step("ecg12").board)[0])[1]
    assert "tokenizer" in reasons.set_index("method")["reason"]["dbeta"]


@pytest.mark.parametrize("profile", ["ci", "demo", "paper"])
def test_profiles_load_and_agree(profile: str) -> None:
    bench = load_params(params_path(profile, "benchmark"))
    cal = load_params(params_path(profile, "cohorts")).steps.calibration
    for name in ("icu", "ecg12", "psg"):
        data = getattr(bench.steps, name).data
        assert data.pretrain.effects == data.probe.effects
        chosen = getattr(cal, name).chosen
        assert chosen == data.pretrain.effects, name  # every knob the benchmark sets is a calibrated one
        if profile == "paper":  # the paper profile checks the cohorts at the demo size
            continue
        # The curves are measured on the benchmark's own cohorts and reference networks.
        board, cal_board = getattr(bench.steps, name).board, getattr(cal, name).board
        for field in ("encoder", "channel_encoders", "channels", "seeds", "train", "reference", "probe"):
            assert getattr(cal_board, field) == getattr(board, field), (name, field)
        for part in ("pretrain", "probe"):
            got = getattr(getattr(cal, name).data, part).model_dump()
            assert got == {**getattr(data, part).model_dump(), "effects": {}}, (name, part)
        assert {t.name for t in cal_board.tasks} <= {t.name for t in board.tasks}
    syn, icu_board = bench.steps.synergy, bench.steps.icu.board
    assert syn.board.encoder == icu_board.encoder and syn.board.train == icu_board.train
    for run in (syn.design.pooled_ssl, syn.design.tokens_ssl):  # the ICU step's runs are reused
        assert syn.board.methods[run] == bench.steps.icu.board.methods[run]


def test_the_paper_demos_use_the_calibrated_cohorts() -> None:
    effects = load_params(params_path("demo", "benchmark")).steps.icu.data.pretrain.effects
    syneco = load_params(params_path("demo", "syneco")).steps.data
    assert syneco.pretrain_cohort.effects == syneco.downstream_cohort.effects == effects
    anyppg = load_params(params_path("demo", "anyppg")).steps.data
    assert all(s.effects == effects for s in [*anyppg.sources, *anyppg.probe_sets])
