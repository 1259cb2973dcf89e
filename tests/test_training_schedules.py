"""Schedules' values at key steps, and the checkpoint helpers."""

from __future__ import annotations

import math

import pytest
import torch

from physiofm.training import TrainConfig, cosine_with_warmup, tristage, tristage_steps
from physiofm.training.checkpoint import file_sha256, save_checkpoint, state_dict_sha256
from physiofm.training.schedules import build_scheduler, constant_with_warmup


def test_cosine_with_warmup_key_steps():
    f = lambda s: cosine_with_warmup(s, max_steps=200_000, warmup_steps=40_000)  # noqa: E731 - AnyPPG
    assert f(0) == 0.0
    assert f(20_000) == 0.5
    assert f(40_000) == 1.0
    assert math.isclose(f(120_000), 0.5)  # half-way through the cosine
    assert math.isclose(f(200_000), 0.0, abs_tol=1e-12)
    assert math.isclose(cosine_with_warmup(100, max_steps=100, min_lr_ratio=0.1), 0.1)
    assert (
        constant_with_warmup(5, warmup_steps=10) == 0.5 and constant_with_warmup(50, warmup_steps=10) == 1.0
    )


def test_tristage_matches_fairseq_definition():
    # D-BETA: 300k steps, phase ratios 0.1 / 0.4 / 0.5 -> 30k warm-up, 120k hold, 150k decay
    assert tristage_steps(300_000) == (30_000, 120_000, 150_000)
    f = lambda s: tristage(s, max_steps=300_000)  # noqa: E731
    assert math.isclose(f(0), 0.01)  # fairseq init_lr_scale default
    assert math.isclose(f(15_000), 0.01 + 0.99 * 0.5)
    assert f(30_000) == 1.0 and f(149_999) == 1.0
    assert math.isclose(f(150_000 + 75_000), math.sqrt(0.01))  # exponential decay: geometric mid-point
    assert math.isclose(f(300_000), 0.01) and f(400_000) == 0.01
    assert math.isclose(tristage(0, max_steps=10, init_lr_scale=0.1, final_lr_scale=0.05), 0.1)
    with pytest.raises(ValueError, match="adding up to 1"):
        tristage_steps(100, (0.1, 0.4, 0.6))


def test_scheduler_drives_optimizer_lr():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=5e-5)
    cfg = TrainConfig(lr=5e-5, schedule="tristage", max_steps=100)
    sched = build_scheduler(opt, cfg)
    seen = []
    for _ in range(100):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert math.isclose(seen[0], 5e-7) and math.isclose(seen[10], 5e-5) and math.isclose(seen[49], 5e-5)
    assert seen[50] == 5e-5 and seen[99] < seen[60] < seen[50]


def test_checkpoint_atomic_and_hashes(tmp_path):
    sd = {"w": torch.arange(6.0).reshape(2, 3), "b": torch.tensor(1.0)}
    path = save_checkpoint(tmp_path / "c.pt", {"model": sd})
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary file left behind
    assert len(file_sha256(path)) == 64
    h = state_dict_sha256(sd)
    assert h == state_dict_sha256(dict(reversed(list(sd.items()))))
    sd["w"][0, 0] = 0.5
    assert h != state_dict_sha256(sd)


@pytest.mark.parametrize("opt_cls", [torch.optim.AdamW, torch.optim.Adam])
def test_multi_tensor_update_gives_the_per_tensor_values(opt_cls):
    """The trainer asks for ``foreach=True`` (faster on CPU); its values must equal the per-tensor loop's
    bit for bit, under a changing learning rate and weight decay, so results computed before stand."""
    gen = torch.Generator().manual_seed(0)
    shapes = [(64, 32), (32,), (16, 1, 7), (5,), ()]
    start = [torch.randn(s, generator=gen) for s in shapes]
    runs = {}
    for foreach in (False, True):
        params = [torch.nn.Parameter(t.clone()) for t in start]
        opt = opt_cls(params, lr=2e-3, weight_decay=1e-4, foreach=foreach)
        sched = build_scheduler(opt, TrainConfig(lr=2e-3, max_steps=60, warmup_steps=5))
        grads = torch.Generator().manual_seed(1)
        for _ in range(60):
            for p in params:
                p.grad = torch.randn(p.shape, generator=grads)
            opt.step()
            sched.step()
        runs[foreach] = params
    assert all(torch.equal(a, b) for a, b in zip(runs[False], runs[True], strict=True))
