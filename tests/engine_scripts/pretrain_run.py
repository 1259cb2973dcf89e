"""One run of the engine's run loop: ``python pretrain_run.py DATA_DIR OUT_DIR [KILL_AT] [LR]``.

Trains a tiny SimCLR (registered here as ``killer_simclr``, which SIGKILLs its own process inside training
step KILL_AT) on the data step DATA_DIR with :func:`physiofm.training.run.pretrain`, then saves the final
weights to OUT_DIR/final.pt."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import torch

from physiofm.methods import register
from physiofm.methods.simclr import SimCLR, SimCLRConfig
from physiofm.sections import MethodChoice, TrainSection
from physiofm.training.run import RunData, load_method, pretrain

KILL_AT = int(sys.argv[3]) if len(sys.argv) > 3 else 0


class Killer(SimCLR):
    calls = 0

    def loss(self, batch):
        if self.training:
            Killer.calls += 1
            if Killer.calls == KILL_AT:
                os.kill(os.getpid(), signal.SIGKILL)
        return super().loss(batch)


register("killer_simclr", SimCLRConfig)(Killer)

ENCODER = {"kind": "net1d", "base_filters": 4, "filters": [8], "blocks": [1], "kernel_size": 3, "stride": 4,
           "groups_width": 4, "stem_stride": 4, "dropout": 0.1, "embed_dim": 8}
CHOICE = MethodChoice(method="killer_simclr", config={"encoder": ENCODER, "pair": ["ppg", "ecg"],
                                                      "max_mask_fraction": 0.1})


def train_section(lr: float) -> TrainSection:
    return TrainSection(batch_size=8, max_steps=12, lr=lr, weight_decay=0.01, warmup_steps=2, grad_clip=1.0,
                        val_every=4, ckpt_every=3, log_every=2)


if __name__ == "__main__":
    torch.set_num_threads(1)
    data, out = RunData.open(Path(sys.argv[1])), Path(sys.argv[2])
    lr = float(sys.argv[4]) if len(sys.argv) > 4 else 1e-2
    result = pretrain("tiny", CHOICE, None, train_section(lr), data, out, seed=3)
    method = load_method(CHOICE, None, result.last_checkpoint, seed=3)
    torch.save(method.state_dict(), out / "final.pt")
