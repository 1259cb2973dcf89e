"""The trainer's promise: a run killed part way and resumed ends with the weights of an uninterrupted run."""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn

from physiofm.training import TrainConfig, Trainer, load_checkpoint

SCRIPT = Path(__file__).resolve().parent / "engine_scripts" / "tiny_run.py"


def _tiny_run():
    spec = importlib.util.spec_from_file_location("tiny_run", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sigkilled_run_resumes_to_identical_weights(tmp_path):
    # the interrupted run: killed by SIGKILL inside step 17 (after checkpoints at 7 and 14, mid-epoch 2),
    # then started again from scratch with the same command
    cut = tmp_path / "cut"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    killed = subprocess.run([sys.executable, str(SCRIPT), str(cut), "17"], env=env, capture_output=True)
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    assert load_checkpoint(cut / "checkpoints" / "last.pt")["step"] == 14
    assert not list((cut / "checkpoints").glob("*.tmp"))
    done = subprocess.run([sys.executable, str(SCRIPT), str(cut)], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]

    # the uninterrupted run, in this process
    result = _tiny_run().build(tmp_path / "whole").fit()
    assert result.steps == 30

    a = load_checkpoint(cut / "checkpoints" / "last.pt")
    b = load_checkpoint(result.last_checkpoint)
    for name in b["model"]:
        assert torch.equal(a["model"][name], b["model"][name]), name
    assert a["epoch"] == b["epoch"] == 3 and a["batch_in_epoch"] == b["batch_in_epoch"] == 6
    pd.testing.assert_frame_equal(
        pd.read_csv(cut / "curve.csv"), pd.read_csv(tmp_path / "whole" / "curve.csv")
    )
    curve = result.curve
    assert list(curve["step"]) == sorted(curve["step"]) and curve["step"].iloc[-1] == 30
    assert (
        curve["val_loss"].notna().sum() == 6 and curve["loss"].notna().sum() == 10
    )  # val every 5, log every 3


def test_resume_is_exact_when_not_resumed_changes_weights(tmp_path):
    # guard against a vacuous identity: a different seed must give different weights
    tr = _tiny_run().build(tmp_path / "a")
    tr.config.seed = 4
    a = tr.fit()
    b = _tiny_run().build(tmp_path / "b").fit()
    wa, wb = load_checkpoint(a.last_checkpoint)["model"], load_checkpoint(b.last_checkpoint)["model"]
    assert not all(torch.equal(wa[k], wb[k]) for k in wa)


class _ScriptedVal:
    """Training loss = mean square of the weight; validation returns a scripted sequence of losses."""

    def __init__(self, val_losses):
        self.val_losses, self.i = list(val_losses), 0

    def __call__(self, model, batch):
        if model.training:
            return (model.weight**2).mean() + 0 * batch["x"].sum()
        v = self.val_losses[self.i]
        self.i += 1
        return torch.tensor(v, dtype=torch.float64)


def test_early_stopping_and_best_checkpoint(tmp_path):
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    data = [{"x": torch.ones(2, 2)}]
    cfg = TrainConfig(
        lr=0.1, schedule="constant", max_steps=50, val_every=2, patience=3, log_every=1, progress=False
    )
    res = Trainer(
        model,
        _ScriptedVal([3.0, 2.0, 2.5, 2.1, 2.2, 1.0]),
        data,
        cfg,
        tmp_path,
        val_data=[{"x": torch.ones(1)}],
    ).fit()
    assert res.stopped_early and res.steps == 10  # validations at 2,4,6,8,10; no improvement after step 4
    assert res.best_val_loss == 2.0
    best = load_checkpoint(res.best_checkpoint)
    assert best["step"] == 4 and best["val_loss"] == 2.0
    assert load_checkpoint(res.last_checkpoint)["stopped_early"]
    curve = pd.read_csv(tmp_path / "curve.csv")
    assert curve["val_loss"].dropna().tolist() == [3.0, 2.0, 2.5, 2.1, 2.2]
    # fitting again resumes a finished run without training further
    again = Trainer(model, _ScriptedVal([]), data, cfg, tmp_path, val_data=[{"x": torch.ones(1)}]).fit()
    assert again.steps == 10 and again.stopped_early


def test_after_step_hook_lr_and_param_groups(tmp_path):
    class Obj:
        def __init__(self):
            self.calls = []

        def __call__(self, model, batch):
            return ((model[0](batch["x"]) - 1) ** 2).mean() + model[1].weight.sum() * 0

        def after_step(self, model, step, max_steps):
            self.calls.append((step, max_steps))

    model = nn.Sequential(nn.Linear(3, 1), nn.Linear(1, 1))
    groups = [{"params": model[0].parameters(), "lr": 1e-3}, {"params": model[1].parameters(), "lr": 1e-1}]
    obj = Obj()
    cfg = TrainConfig(schedule="cosine", warmup_steps=2, max_steps=6, log_every=1, progress=False)
    res = Trainer(model, obj, [{"x": torch.ones(4, 3)}], cfg, tmp_path, param_groups=groups).fit()
    assert obj.calls == [(s, 6) for s in range(1, 7)]
    lrs = res.curve["lr"].tolist()  # lr of group 0 used at each update: 0, 0.5, then cosine from the peak
    assert lrs[0] == 0.0 and math.isclose(lrs[1], 0.5e-3) and math.isclose(lrs[2], 1e-3)
    assert res.best_checkpoint == res.last_checkpoint


def test_bad_config_and_bf16_on_cpu(tmp_path):
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="linear")
    with pytest.raises(ValueError, match="unknown TrainConfig key"):
        TrainConfig.from_dict({"lr": 1e-3, "lrr": 1})
    with pytest.raises(ValueError, match="CUDA"):
        Trainer(
            nn.Linear(1, 1),
            lambda m, b: m(b).sum(),
            [torch.ones(1, 1)],
            TrainConfig(amp="bf16", device="cpu"),
            tmp_path,
        )
