"""Pretraining one SyneCo-study method on the segment store with :class:`physiofm.training.Trainer`.

Every method gets the same data, batch size, number of steps, optimiser and schedule (App. C.2: AdamW,
cosine annealing, validation on a fixed subset every ``val_every`` steps, early stopping after
``patience`` validations without improvement), and the same encoders (``shared.model``). Training batches
come from SyneCo's cycle-based sampler over the pretraining split: each cycle (one trainer "epoch") draws
``cycle_fraction`` of every source's segments afresh, with the cycle number in the seed.

Each method writes ``<out>/<method>/``: ``checkpoints/{last,best}.pt``, ``curve.csv`` and ``state.json``
(the config it was trained with; a run with another config starts afresh, an identical one resumes).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits

from physiofm.sampler import CycleSampler
from physiofm.store import SegmentDataset, SegmentStore
from physiofm.syneco.data import fresh_dir, mark_done, read_json, write_json
from physiofm.syneco.methods import build_method
from physiofm.syneco.params import PretrainStep, Shared
from physiofm.training import TrainConfig, Trainer, TrainResult


def setup_torch(shared: Shared) -> str:
    """Apply the thread count to torch and to the BLAS / OpenMP pools scikit-learn uses; return the device.

    On a small shared machine more threads than free cores make every BLAS call stall (a 512-d logistic
    regression runs ~5x slower with two contended threads than with one), hence one knob for both."""
    if shared.torch_threads is not None:
        torch.set_num_threads(shared.torch_threads)
        threadpool_limits(shared.torch_threads)
    if shared.device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return shared.device


def train_config(p: PretrainStep, seed: int, device: str) -> TrainConfig:
    return TrainConfig(optimizer=p.optimizer, lr=p.lr, weight_decay=p.weight_decay, schedule=p.schedule,
                       warmup_steps=p.warmup_steps, max_steps=p.max_steps, grad_clip=p.grad_clip,
                       val_every=p.val_every, patience=p.patience, ckpt_every=p.ckpt_every, seed=seed,
                       log_every=p.log_every, device=device)


class CycleBatches(torch.utils.data.Sampler[list[int]]):
    """Batches of a :class:`CycleSampler`, one cycle per epoch, each batch sorted for forward memmap reads.

    ``set_epoch(e)`` moves the sampler to the start of cycle ``e``, which is what lets the Trainer resume
    mid-run on the exact batch sequence.
    """

    def __init__(self, sampler: CycleSampler, batch_size: int) -> None:
        if len(sampler) < batch_size:
            raise ValueError(f"a cycle holds {len(sampler)} segments, fewer than one batch of {batch_size}; "
                             "lower batch_size or raise cycle_fraction / the cohort size")
        self.sampler, self.batch_size = sampler, batch_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.sampler.position = epoch * len(self.sampler)

    def __len__(self) -> int:
        return len(self.sampler) // self.batch_size  # drop_last

    def __iter__(self) -> Iterator[list[int]]:
        self.set_epoch(self.epoch)
        order = list(self.sampler)
        for i in range(len(self)):
            yield sorted(order[i * self.batch_size:(i + 1) * self.batch_size])


def loaders(store: SegmentStore, splits: pd.DataFrame, channels: Sequence[str], p: PretrainStep,
            seed: int) -> tuple[torch.utils.data.DataLoader, torch.utils.data.DataLoader]:
    """(train, validation) batch sources over the pretrain / val splits, reading only ``channels``."""
    train_rows = splits.loc[splits["split"] == "pretrain", "row"].to_numpy()
    val_rows = splits.loc[splits["split"] == "val", "row"].to_numpy()
    if len(val_rows) < 2:
        raise ValueError(f"the validation split has {len(val_rows)} segment(s); adjust the split fractions")
    # The fixed validation subset: the same rows for every method and every validation (App. C.2).
    val_rows = np.sort(np.random.default_rng(seed).permutation(val_rows)[:p.val_segments])
    train = SegmentDataset(store, indices=train_rows, groups=list(channels))
    val = SegmentDataset(store, indices=val_rows, groups=list(channels))
    sampler = CycleSampler(store.index["source"].to_numpy()[train_rows], p.cycle_fraction, seed)
    train_loader = torch.utils.data.DataLoader(train, sampler=CycleBatches(sampler, p.batch_size),
                                               batch_size=None, num_workers=p.num_workers,
                                               persistent_workers=False)
    return train_loader, val.loader(p.batch_size)


def pretrain_method(name: str, store: SegmentStore, splits: pd.DataFrame, shared: Shared, p: PretrainStep,
                    out: Path, device: str) -> TrainResult:
    """Train ``name`` (resuming a run of the same config in ``out/<name>``); record its wall time."""
    run_dir = Path(out) / name
    # The store's own description (shard checksums included) and the split: new data never resumes old runs.
    data_key = hashlib.sha256((Path(store.root) / "store.json").read_bytes()
                              + splits["split"].astype(str).str.cat().encode()).hexdigest()
    config = {"method": name, "model": shared.model.model_dump(), "pretrain": p.model_dump(),
              "seed": shared.seed, "data": data_key}
    fresh_dir(run_dir, config)
    torch.manual_seed(shared.seed)  # model initialisation: the same seed for every method
    method = build_method(name, shared.model.method_config())
    train, val = loaders(store, splits, method.channels, p, shared.seed)
    info_path = run_dir / "run.json"
    earlier = read_json(info_path)["seconds"] if info_path.is_file() else 0.0  # a finished run: reused
    t0 = time.perf_counter()
    result = Trainer(method.model, method.objective, train, train_config(p, shared.seed, device), run_dir,
                     val_data=val).fit()
    seconds = earlier + time.perf_counter() - t0
    n_params = sum(q.numel() for q in method.model.parameters())
    write_json(info_path, {"method": name, "steps": result.steps, "seconds": round(seconds, 1),
                           "best_val_loss": result.best_val_loss, "stopped_early": result.stopped_early,
                           "parameters": n_params, "channels": list(method.channels),
                           "best_checkpoint": result.best_checkpoint.name})
    mark_done(run_dir)
    return result


def run_summary(out: Path, methods: Sequence[str]) -> pd.DataFrame:
    """One row per trained method: steps, wall time, best validation loss, parameters."""
    rows = [read_json(Path(out) / m / "run.json") for m in methods if (Path(out) / m / "run.json").is_file()]
    return pd.DataFrame(rows)


def curves(out: Path, methods: Sequence[str]) -> pd.DataFrame:
    """Every method's ``curve.csv`` stacked with a ``method`` column."""
    parts = [pd.read_csv(Path(out) / m / "curve.csv").assign(method=m) for m in methods
             if (Path(out) / m / "curve.csv").is_file()]
    return pd.concat(parts, ignore_index=True)


def best_checkpoint(out: Path, name: str) -> Path:
    """The checkpoint probed downstream: lowest validation loss (``best.pt``), else the last one."""
    d = Path(out) / name / "checkpoints"
    for f in ("best.pt", "last.pt"):
        if (d / f).is_file():
            return d / f
    raise FileNotFoundError(f"{d}: no checkpoint of method {name!r}; run the pretrain step first")
