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
