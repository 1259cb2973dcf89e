"""torchrun with two CPU processes and gloo: gradients are averaged, weights stay identical across ranks and
match one process seeing both ranks' samples."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from physiofm.training import load_checkpoint

SCRIPT = Path(__file__).resolve().parent / "engine_scripts" / "ddp_run.py"


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="no gloo backend")
def test_two_process_gloo_matches_one_process(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("WORLD_SIZE", None)
    two = tmp_path / "ddp"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            str(SCRIPT),
            str(two),
        ],
        env=env,
        capture_output=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr.decode()[-3000:]
    one = tmp_path / "single"
    run = subprocess.run([sys.executable, str(SCRIPT), str(one)], env=env, capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr.decode()[-3000:]

    r0, r1 = torch.load(two / "rank0.pt"), torch.load(two / "rank1.pt")
    ref = torch.load(one / "rank0.pt")
    for name in r0:
        assert torch.equal(r0[name], r1[name]), f"{name} differs between ranks"
        torch.testing.assert_close(r0[name], ref[name], rtol=1e-5, atol=1e-6)
    ckpt = load_checkpoint(two / "checkpoints" / "last.pt")
    assert ckpt["world_size"] == 2 and len(ckpt["per_rank"]) == 2 and ckpt["step"] == 10


LOSSES = Path(__file__).resolve().parent / "engine_scripts" / "ddp_losses.py"


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="no gloo backend")
def test_contrastive_losses_see_the_global_batch(tmp_path):
    """With 2 gloo processes each holding half the batch, every rank's loss (so their mean) is the one-process
    loss on the whole batch; each rank's rows get W times the one-process gradient, which DDP's averaging
    turns into exactly it; and a method trained with DDP ends with the one-process weights."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("WORLD_SIZE", None)
    two, one = tmp_path / "ddp", tmp_path / "single"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    run = subprocess.run([*torchrun, str(LOSSES), str(two)], env=env, capture_output=True, timeout=240)
    assert run.returncode == 0, run.stderr.decode()[-3000:]
    run = subprocess.run([sys.executable, str(LOSSES), str(one)], env=env, capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr.decode()[-3000:]

    ranks = [torch.load(two / f"losses{r}.pt") for r in (0, 1)]
    ref = torch.load(one / "losses0.pt")
    for name, value in ref["loss"].items():
        mean = sum(r["loss"][name] for r in ranks) / 2
        assert mean == pytest.approx(value, rel=1e-6), name
        for r, rank in enumerate(ranks):
            for mine, full in zip(rank["grad"][name], ref["grad"][name]):
                torch.testing.assert_close(mine / 2, full[r * 4:(r + 1) * 4], rtol=1e-5, atol=1e-7)
    w0, w1, w = (torch.load(p) for p in (two / "method0.pt", two / "method1.pt", one / "method0.pt"))
    for k in w:
        assert torch.equal(w0[k], w1[k]), f"{k} differs between ranks"
        torch.testing.assert_close(w0[k], w[k], rtol=1e-4, atol=1e-6)
