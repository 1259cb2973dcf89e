"""Overhead of the trainer over a bare PyTorch step, measured in the same process on the same model and data.

    python tests/benchmarks/bench_trainer_overhead.py [--steps 200] [--rounds 5] [--device cpu|cuda]

Three figures per step (median over interleaved rounds):
  bare:        forward + backward + AdamW step + zero_grad, hand-written;
  train_step:  ``Trainer.train_step`` (+ lr schedule, batch to device, loss accumulation);
  fit:         ``Trainer.fit`` end to end per step (+ data iteration, logging, tqdm, checkpoint).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from physiofm.training import TrainConfig, Trainer


def make_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv1d(1, 16, 7, stride=2, padding=3),
        nn.BatchNorm1d(16),
        nn.ReLU(),
        nn.Conv1d(16, 32, 7, stride=2, padding=3),
        nn.BatchNorm1d(32),
        nn.ReLU(),
        nn.AdaptiveAvgPool1d(1),
        nn.Flatten(),
        nn.Linear(32, 1),
    )


def objective(model: nn.Module, batch) -> torch.Tensor:
    return nn.functional.mse_loss(model(batch["x"]), batch["y"])


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def bare(model, batches, device) -> float:
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sync(device)
    t = time.perf_counter()
    for b in batches:
        loss = objective(model, b)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
    sync(device)
    return (time.perf_counter() - t) / len(batches)


def trainer_step(model, batches, device, out: Path) -> float:
    cfg = TrainConfig(
        max_steps=len(batches), warmup_steps=10, grad_clip=1.0, progress=False, device=str(device)
    )
    tr = Trainer(model, objective, batches, cfg, out)
    sync(device)
    t = time.perf_counter()
    for b in batches:
        tr.train_step(b)
    sync(device)
    return (time.perf_counter() - t) / len(batches)


def trainer_fit(model, batches, device, out: Path) -> float:
    cfg = TrainConfig(
        max_steps=len(batches),
        warmup_steps=10,
        grad_clip=1.0,
        log_every=50,
        progress=True,
        device=str(device),
    )
    tr = Trainer(model, objective, batches, cfg, out)
    sync(device)
    t = time.perf_counter()
    tr.fit()
    sync(device)
    return (time.perf_counter() - t) / len(batches)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--length", type=int, default=1250)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    g = torch.Generator().manual_seed(0)
    batches = [
        {
            "x": torch.randn(args.batch, 1, args.length, generator=g).to(device),
            "y": torch.randn(args.batch, 1, generator=g).to(device),
        }
        for _ in range(args.steps)
    ]
    times = {"bare": [], "train_step": [], "fit": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds + 1):  # round 0 warms up
            torch.manual_seed(0)
            b = bare(make_model().to(device), batches, device)
            torch.manual_seed(0)
            s = trainer_step(make_model(), batches, device, Path(tmp) / f"s{r}")
            torch.manual_seed(0)
            f = trainer_fit(make_model(), batches, device, Path(tmp) / f"f{r}")
            if r:
                times["bare"].append(b)
                times["train_step"].append(s)
                times["fit"].append(f)
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    print(
        f"device={device} threads={args.threads} batch={args.batch}x1x{args.length} steps={args.steps} "
        f"rounds={args.rounds}"
    )
    for k, v in med.items():
        spread = (min(times[k]) * 1e3, max(times[k]) * 1e3)
        print(
            f"  {k:<10} {v:8.3f} ms/step  (min {spread[0]:.3f}, max {spread[1]:.3f})  "
            f"overhead vs bare {100 * (v / med['bare'] - 1):+.1f} %"
        )


if __name__ == "__main__":
    main()
