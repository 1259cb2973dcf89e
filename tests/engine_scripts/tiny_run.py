"""A tiny training run used by the engine tests: ``python tiny_run.py OUT_DIR [KILL_AT_STEP]``.

Its data order (shuffled DataLoader), the dataset's augmentation (torch RNG), the model's dropout and the
objective's NumPy/Python noise all draw random numbers, so an exact resume has to restore every one of them.
With KILL_AT_STEP the process SIGKILLs itself inside that training step, after the checkpoints before it.
"""

from __future__ import annotations

import os
import random
import signal
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from physiofm.training import TrainConfig, Trainer


class NoisyPairs(Dataset):
    def __init__(self, n: int = 64, d: int = 6):
        g = torch.Generator().manual_seed(1)
        self.x = torch.randn(n, d, generator=g)
        self.y = self.x @ torch.randn(d, 1, generator=g)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i):
        return {"x": self.x[i] + 0.1 * torch.randn(self.x.shape[1]), "y": self.y[i]}


class Objective:
    def __init__(self, kill_at: int = 0):
        self.kill_at, self.calls = kill_at, 0

    def __call__(self, model, batch):
        if model.training:
            self.calls += 1
            if self.calls == self.kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        w = 1.0 + 0.01 * float(np.random.rand()) + 0.01 * random.random()
        loss = w * nn.functional.mse_loss(model(batch["x"]), batch["y"])
        return loss, {"w": w}


def build(out_dir: Path, kill_at: int = 0) -> Trainer:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 1))
    train = DataLoader(NoisyPairs(), batch_size=8, shuffle=True)  # 8 batches per epoch
    val = DataLoader(NoisyPairs(16), batch_size=8)
    cfg = TrainConfig(
        lr=1e-2,
        weight_decay=0.01,
        warmup_steps=4,
        max_steps=30,
        grad_clip=1.0,
        val_every=5,
        ckpt_every=7,
        log_every=3,
        seed=3,
        progress=False,
    )
    return Trainer(model, Objective(kill_at), train, cfg, out_dir, val_data=val)


if __name__ == "__main__":
    build(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 0).fit()
