"""Two-process DDP check: ``torchrun --standalone --nproc_per_node 2 ddp_run.py OUT_DIR`` (or plain python for
the one-process reference). Each rank sees 4 of every 8 shuffled samples; one process sees all 8 per batch,
so both runs take the same gradient steps. Each rank saves its final weights to OUT_DIR/rank{r}.pt."""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from physiofm.training import TrainConfig, Trainer, epoch_sampler, init_distributed
from physiofm.training.distributed import cleanup


def objective(model, batch):
    x, y = batch
    hidden = model[0](x)  # sub-modules called directly: the DDP wrapper must still see these parameters
    return nn.functional.mse_loss(model[2](model[1](hidden)), y)


def main(out_dir: Path) -> None:
    torch.set_num_threads(1)
    info = init_distributed()
    torch.manual_seed(0)
    x = torch.randn(32, 5)
    y = x.sum(1, keepdim=True)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 1))
    if info.rank == 1:  # DDP broadcasts rank 0's initial weights; make sure that is what happens
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0)
    data = TensorDataset(x, y)
    loader = DataLoader(
        data, batch_size=8 // info.world_size, sampler=epoch_sampler(data, shuffle=True, seed=5)
    )
    cfg = TrainConfig(
        lr=1e-2,
        max_steps=10,
        warmup_steps=2,
        grad_clip=0.5,
        log_every=2,
        ckpt_every=5,
        seed=1,
        progress=False,
    )
    Trainer(model, objective, loader, cfg, out_dir).fit()
    torch.save(model.state_dict(), out_dir / f"rank{info.rank}.pt")
    cleanup()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
