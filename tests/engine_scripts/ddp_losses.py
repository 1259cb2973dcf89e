"""Contrastive losses over the global batch: ``torchrun --standalone --nproc_per_node 2 ddp_losses.py OUT``
(or
plain python for the one-process reference on the whole batch).

1. Each rank takes its half of a fixed batch of features and computes info_nce, clip_loss and the SleepFM
   losses inside ``global_batch()``; it saves the losses and the gradients of its own rows.
2. A registry method (SimCLR, deterministic views, no BatchNorm) is trained with the Trainer; each rank saves
   its final weights. Rank r's samples are positions r, r + W, ... of each shuffled global batch."""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from physiofm import methods
from physiofm.objectives import clip_loss, global_batch, info_nce, sleepfm_loo_loss, sleepfm_pairwise_loss
from physiofm.training import TrainConfig, Trainer, epoch_sampler, init_distributed
from physiofm.training.distributed import cleanup

N, D = 8, 5


def losses(out: Path, rank: int, world: int) -> None:
    g = torch.Generator().manual_seed(0)
    full = [torch.randn(N, D, generator=g) for _ in range(3)]
    mine = [x[rank * N // world:(rank + 1) * N // world].clone().requires_grad_(True) for x in full]
    a, b, c = mine
    with global_batch():
        values = {"info_nce": info_nce(a, b, 0.1), "clip": clip_loss(a, b, torch.tensor(10.0)),
                  "sleepfm_pair": sleepfm_pairwise_loss([a, b, c],
                                                        3.0), "sleepfm_loo": sleepfm_loo_loss([a, b, c], 3.0)}
    grads = {}
    for name, v in values.items():
        gs = torch.autograd.grad(v, mine, allow_unused=True)
        grads[name] = [torch.zeros_like(x) if gr is None else gr for x, gr in zip(mine, gs)]
    torch.save({"loss": {k: v.item() for k, v in values.items()}, "grad": grads}, out / f"losses{rank}.pt")


class Pairs(Dataset):
    def __init__(self) -> None:
        g = torch.Generator().manual_seed(1)
        self.x = torch.randn(32, 1, 64, generator=g)
        self.y = self.x + 0.3 * torch.randn(32, 1, 64, generator=g)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i):
        return {"ecg_ii": self.x[i], "ecg_v": self.y[i]}


def train(out: Path, rank: int, world: int) -> None:
    torch.manual_seed(0)
    enc = {"kind": "net1d", "base_filters": 4, "filters": [8], "blocks": [1], "kernel_size": 3, "stride": 2,
           "groups_width": 4, "stem_stride": 2, "use_bn": False, "dropout": 0.0, "embed_dim": 8}
    method = methods.build("simclr", {"encoder": enc, "noise_sigma": 0.0, "amplitude_scale": 1.0})
    data = Pairs()
    loader = DataLoader(data, batch_size=8 // world, sampler=epoch_sampler(data, shuffle=True, seed=5))
    cfg = TrainConfig(lr=1e-2, max_steps=6, log_every=2, seed=1, progress=False, device="cpu")
    Trainer(method, None, loader, cfg, out / "run").fit()
    torch.save(method.state_dict(), out / f"method{rank}.pt")


def main(out: Path) -> None:
    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    info = init_distributed()
    losses(out, info.rank, info.world_size)
    train(out, info.rank, info.world_size)
    cleanup()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
