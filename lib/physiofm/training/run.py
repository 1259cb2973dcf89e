"""One pretraining run, the same for every paper: a registry method trained on a data step's stores.

``pretrain(name, choice, encoder, train, data, out, seed, device)`` builds the method ``choice`` names
(:mod:`physiofm.methods`) with the paper's shared encoder (``asset:`` names in its config resolved to the
data step's assets), batches the ``train`` split of the data step's segment stores (a method input that is
not a store group is read from the store index, e.g. report texts), and fits it with
:class:`physiofm.training.Trainer`. A run lives in
``<out>/<name>/seed<seed>/``:

* ``state.json``: the run's fingerprint (method, config, training settings, seed, and a hash of the stores
  and the split table it read); a run with another fingerprint starts afresh, the same one resumes from
  ``checkpoints/last.pt`` or, finished, returns at once (:func:`physiofm.io.fresh_dir`);
* ``checkpoints/{last,best}.pt``: ``best.pt`` holds the weights of the lowest validation loss, the
  checkpoint every downstream step reads (:func:`checkpoint`);
* ``curve.csv``: training loss and validation loss per logged step, with the method's own log terms;
* ``run.json``: the run summary (steps, wall time, best step and validation loss, parameters).

Batches: ``train.sampler`` "shuffle" draws a seeded permutation of the training rows per epoch (sharded over
processes under torchrun); "cycle" is SyneCo's cycle-based sampler. Validation reads a fixed subset of the
validation rows (``val_segments`` drawn once with the seed, sorted), the same at every evaluation. A method
that reads ``<group>_pair`` keys (hybrid_ecg's patient-level positive) gets paired batches
(:class:`physiofm.sampler.PairedBatches`): each segment with another segment of the same subject from the same
split, and the subjects' codes under ``subject``.

Under torchrun every process runs this function (``python -m physiofm pretrain``); DDP and the gathered
contrastive losses (:mod:`physiofm.objectives.gather`) make it train on the global batch.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from physiofm import methods
from physiofm.io import STATE, fresh_dir, is_done, mark_done, read_json, write_csv, write_json
from physiofm.parallel import parallel_map
from physiofm.runtime import resolve_device
from physiofm.sampler import CycleBatches, CycleSampler, EpochBatches, PairedBatches
from physiofm.sections import EncoderSection, MethodChoice, TrainSection
from physiofm.splits import read_splits, split_rows
from physiofm.store import (
    PAIR_SUFFIX,
    SUBJECT_KEY,
    PairedDataset,
    SegmentDataset,
    SegmentStore,
    adjacent_rows,
    open_stores,
    window_seconds,
)
from physiofm.training.checkpoint import file_sha256, load_checkpoint, load_model_weights
from physiofm.training.distributed import barrier, epoch_sampler, init_distributed
from physiofm.training.trainer import TrainConfig, Trainer, TrainResult

ASSETS = "assets"  # <data step>/assets/: files a method's config names as "asset:<name>"


@dataclass(frozen=True)
class RunData:
    """What a run trains on: the data step's stores (name -> store), its split table, and its assets (name ->
    path of each entry of ``<data_dir>/assets/``: what the data step fitted or prepared for the methods, e.g.
    D-BETA's report tokenizer and N3S report bank, :meth:`physiofm.sections.MethodChoice.resolved`)."""

    stores: Mapping[str, SegmentStore]
    splits: pd.DataFrame
    assets: Mapping[str, Path] = field(default_factory=dict)

    @classmethod
    def open(cls, data_dir: Path) -> RunData:
        """``<data_dir>/stores/*`` (in name order: the order of a dataset's positions),
        ``<data_dir>/splits.parquet`` and ``<data_dir>/assets/*``; stores without a split row are left out."""
        splits = read_splits(data_dir)
        named = set(splits["store"])
        return cls({n: s for n, s in open_stores(Path(data_dir) / "stores").items() if n in named}, splits,
                   data_assets(data_dir))

    def key(self) -> str:
        """Hash of every store's description (shard checksums included), of the split table and of the
        assets (a file's bytes; a folder's file names and sizes)."""
        h = hashlib.sha256()
        for name, store in self.stores.items():
            h.update(name.encode() + (Path(store.root) / "store.json").read_bytes())
        h.update(pd.util.hash_pandas_object(self.splits[["store", "row", "split"]], index=False).to_numpy())
        for name, path in sorted(self.assets.items()):
            h.update(name.encode() + asset_digest(path).encode())
        return h.hexdigest()


def data_assets(data_dir: Path) -> dict[str, Path]:
    """Name -> path (symbolic links resolved) of every entry of ``<data_dir>/assets/`` (none: empty), but the
    folder's own bookkeeping (``state.json``, hidden temporary files)."""
    folder = Path(data_dir) / ASSETS
    if not folder.is_dir():
        return {}
    return {p.name: p.resolve() for p in sorted(folder.iterdir())
            if p.name != STATE and not p.name.startswith(".")}


def asset_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, or of a folder's relative file names and sizes (a local model directory is
    not read whole)."""
    path = Path(path)
    if path.is_file():
        return file_sha256(path)
    listing = sorted((str(p.relative_to(path)), p.stat().st_size) for p in path.rglob("*") if p.is_file())
    return hashlib.sha256(repr(listing).encode()).hexdigest()


def train_config(train: TrainSection, seed: int, device: str) -> TrainConfig:
    """The :class:`TrainConfig` of a params section."""
    return TrainConfig(optimizer=train.optimizer, lr=train.lr, weight_decay=train.weight_decay,
                       betas=train.betas, eps=train.eps, schedule=train.schedule,
                       warmup_steps=train.warmup_steps,
                       max_steps=train.max_steps, grad_clip=train.grad_clip, val_every=train.val_every,
                       patience=train.patience, ckpt_every=train.ckpt_every, log_every=train.log_every,
                       seed=seed, amp=train.amp, device=device)


def decay_groups(model: nn.Module, lr: float, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW groups in open_clip's way: weight decay on matrices and kernels only; biases, norms and scalar
    parameters (all < 2-D) are not decayed."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)
    return [{"params": decay, "lr": lr, "weight_decay": weight_decay},
            {"params": no_decay, "lr": lr, "weight_decay": 0.0}]


def val_rows(data: RunData, n: int | None, seed: int) -> dict[str, np.ndarray]:
    """The fixed validation subset: ``n`` rows of the validation split drawn with ``seed`` (all when None)."""
    rows = split_rows(data.splits, "val")
    if n is None:
        return rows
    store = np.concatenate([np.full(len(r), i) for i, r in enumerate(rows.values())])
    row = np.concatenate(list(rows.values()))
    pick = np.random.default_rng(seed).permutation(len(row))[:n]
    store, row = store[pick], row[pick]
    return {name: np.sort(row[store == i]) for i, name in enumerate(rows)}


def input_sources(data: RunData, inputs: Sequence[str]) -> tuple[list[str], list[str]]:
    """A method's batch keys split into store groups (signals) and index columns (e.g. D-BETA's ``report``
    texts, which the batches carry as lists of str); a key that is neither is an error naming both sets."""
    store = next(iter(data.stores.values()))
    groups = [k for k in inputs if k in store.groups]
    columns = [k for k in inputs if k not in store.groups]
    missing = [k for k in columns if any(k not in s.index.columns for s in data.stores.values())]
    if missing:
        raise KeyError(f"the method reads {missing}, neither a group of the stores ({sorted(store.groups)}) "
                       f"nor a column of every store's index")
    return groups, columns


def batch_keys(inputs: Sequence[str]) -> tuple[list[str], bool]:
    """(the store groups a method's ``inputs`` read, whether they ask for paired batches): ``<group>_pair``
    and ``subject`` are made by pairing, not read from a group."""
    paired = any(k.endswith(PAIR_SUFFIX) for k in inputs)
    return [k for k in inputs if not k.endswith(PAIR_SUFFIX) and k != SUBJECT_KEY], paired


def adjacent_pairs(data: RunData, rows: Mapping[str, np.ndarray],
                   groups: Sequence[str]) -> PairedDataset:
    """Each of ``rows`` (store -> rows) that has a successor window in ``rows``, batched with it: keys
    ``<group>`` and ``next:<group>`` (the positives of SimCLR-style adjacency, MultiMAE App F.1)."""
    pairs = {n: adjacent_rows(data.stores[n].index, r, window_seconds(data.stores[n]))
             for n, r in rows.items()}
    stores = dict(data.stores)
    return PairedDataset(SegmentDataset(stores, {n: a for n, (a, _) in pairs.items()}, groups=groups),
                         SegmentDataset(stores, {n: b for n, (_, b) in pairs.items()}, groups=groups))


def loaders(data: RunData, inputs: Sequence[str], train: TrainSection, seed: int,
            adjacent: bool = False) -> tuple[torch.utils.data.DataLoader, torch.utils.data.DataLoader]:
    """(train, validation) batch sources over the train / val splits, reading only the method's ``inputs``
    (store groups as tensors, index columns as they are: numbers as tensors, strings as lists; with
    ``<group>_pair`` keys the batches are paired by subject, see :func:`batch_keys`); with ``adjacent``
    every example is a window with its record's next window (:func:`adjacent_pairs`), the windows without
    a successor left out."""
    keys, paired = batch_keys(inputs)
    groups, columns = input_sources(data, keys)
    if adjacent:
        if paired or columns:
            raise ValueError(f"adjacent windows are batched from signal groups only, not {inputs}")
        ds = adjacent_pairs(data, split_rows(data.splits, "train"), groups)
        val = adjacent_pairs(data, split_rows(data.splits, "val"), groups)
        pick = np.random.default_rng(seed).permutation(len(val))[:train.val_segments]
        val = torch.utils.data.Subset(val, np.sort(pick).tolist()) if train.val_segments else val
    else:
        ds = SegmentDataset(dict(data.stores), split_rows(data.splits, "train"), groups=groups,
                            columns=columns)
        val = SegmentDataset(dict(data.stores), val_rows(data, train.val_segments, seed), groups=groups,
                             columns=columns)
    if len(ds) < train.batch_size:
        raise ValueError(f"{len(ds)} training segments, fewer than one batch of {train.batch_size}; make the "
                         "data larger or the batch smaller")
    if len(val) < 2:
        raise ValueError(f"the validation split has {len(val)} segment(s); adjust the split fractions")
    if train.sampler == "cycle":
        if adjacent:
            raise ValueError("the cycle sampler does not batch adjacent windows; use sampler 'shuffle'")
        sources = data.splits.set_index(["store", "row"]).loc[
            [(n, r) for n, rows in zip(ds.names, ds.rows) for r in rows], "source"].to_numpy()
        batches = CycleBatches(CycleSampler(sources, train.cycle_fraction, seed), train.batch_size)
    else:
        batches = EpochBatches(epoch_sampler(ds, shuffle=True, seed=seed), train.batch_size, drop_last=True)
    val_batches = list(EpochBatches(torch.utils.data.SequentialSampler(val), min(train.batch_size, len(val)),
                                    drop_last=True))[:train.val_max_batches]
    if paired:  # validation partners are drawn once: the same at every evaluation
        batches = PairedBatches(batches, ds.subject_codes(), seed)
        val_batches = list(PairedBatches(val_batches, val.subject_codes(), seed))
    return (torch.utils.data.DataLoader(ds, sampler=batches, batch_size=None, num_workers=train.num_workers),
            torch.utils.data.DataLoader(val, sampler=val_batches, batch_size=None))


def run_dir(out: Path, name: str, seed: int) -> Path:
    return Path(out) / name / f"seed{seed}"


def run_fingerprint(name: str, choice: MethodChoice, encoder: EncoderSection | None,
                    train: TrainSection, data: RunData, seed: int) -> dict[str, Any]:
    """What a run's result depends on: its name, method and config (asset paths resolved), training
    settings, seed and data."""
    config = choice.resolved(data.assets).build_config(encoder)
    return {"name": name, "method": choice.method, "config": config,
            "train": train.model_dump(mode="json"), "seed": seed, "data": data.key()}


def finished_run(out: Path, name: str, choice: MethodChoice, encoder: EncoderSection | None,
                 train: TrainSection, data: RunData, seed: int) -> bool:
    """Whether ``run_dir(out, name, seed)`` holds a finished run of exactly this fingerprint (so another step
    may read its checkpoints instead of training the same run again)."""
    return is_done(run_dir(out, name, seed), run_fingerprint(name, choice, encoder, train, data, seed))


def pretrain(name: str, choice: MethodChoice, encoder: EncoderSection | None, train: TrainSection,
             data: RunData, out: Path, seed: int, device: str = "cpu") -> TrainResult:
    """Train run ``name`` (``choice``: method and config) with ``seed``; resume or reuse a run of the same
    fingerprint in ``run_dir(out, name, seed)``. Every process of a torchrun job calls it."""
    dist = init_distributed()  # before the samplers are built, so they shard across ranks
    folder = run_dir(out, name, seed)
    config = choice.resolved(data.assets).build_config(encoder)
    fingerprint = run_fingerprint(name, choice, encoder, train, data, seed)
    if dist.is_main:
        fresh_dir(folder, fingerprint)
    barrier()
    torch.manual_seed(seed)  # initial weights: the same for every run of this seed
    method = methods.build(choice.method, config)
    train_data, val_data = loaders(data, method.inputs, train, seed, method.adjacent)
    groups = decay_groups(method, train.lr, train.weight_decay) if train.decay == "matrices" else None
    info = folder / "run.json"
    earlier = read_json(info)["seconds"] if info.is_file() else 0.0  # a finished run is returned at once
    t0 = time.perf_counter()
    result = Trainer(method, None, train_data, train_config(train, seed, device), folder, val_data=val_data,
                     param_groups=groups).fit()
    if dist.is_main:
        best = load_checkpoint(result.best_checkpoint)
        write_json(info, {"method": name, "seed": seed, "steps": result.steps,
                          "seconds": round(earlier + time.perf_counter() - t0, 1),
                          "best_step": int(best["step"]), "best_val_loss": result.best_val_loss,
                          "stopped_early": result.stopped_early,
                          "parameters": sum(p.numel() for p in method.parameters()),
                          "inputs": list(method.inputs), "best_checkpoint": result.best_checkpoint.name})
        mark_done(folder)
    barrier()
    return result


def checkpoint(out: Path, name: str, seed: int, which: str = "best") -> Path:
    """The checkpoint downstream steps read: ``best.pt`` (lowest validation loss; else ``last.pt``), or
    ``last.pt`` when ``which`` is "last"."""
    folder = run_dir(out, name, seed) / "checkpoints"
    for f in ((which, "last") if which == "best" else (which,)):
        if (folder / f"{f}.pt").is_file():
            return folder / f"{f}.pt"
    raise FileNotFoundError(f"{folder}: no {which} checkpoint of {name!r}; run the pretrain step first")


def load_method(choice: MethodChoice, encoder: EncoderSection | None, checkpoint: Path | None,
                seed: int = 0, device: str | torch.device = "cpu",
                assets: Mapping[str, Path] | None = None) -> methods.Method:
    """The method of ``choice`` with the weights of ``checkpoint`` in eval mode (None: untrained, initialised
    with ``seed`` as a run of that seed starts); ``assets`` resolve the config's ``asset:`` names."""
    torch.manual_seed(seed)
    method = methods.build(choice.method, choice.resolved(assets or {}).build_config(encoder))
    if checkpoint is not None:
        load_model_weights(checkpoint, method)
    return method.to(device).eval()


def run_summary(out: Path, names: Sequence[str]) -> pd.DataFrame:
    """One row per finished run of ``names`` (every seed): steps, wall time, best step and loss, parameters;
    also written to ``out/runs.csv``."""
    rows = [read_json(f) for n in names for f in sorted((Path(out) / n).glob("seed*/run.json"))]
    table = pd.DataFrame(rows)
    write_csv(table, Path(out) / "runs.csv")
    return table


def curves(out: Path, names: Sequence[str]) -> pd.DataFrame:
    """Every run's ``curve.csv`` stacked, with ``method`` and ``seed`` columns."""
    parts = [pd.read_csv(f).assign(method=n, seed=int(f.parent.name.removeprefix("seed")))
             for n in names for f in sorted((Path(out) / n).glob("seed*/curve.csv"))]
    if not parts:
        raise FileNotFoundError(f"{out}: no training curves of {list(names)}; run the pretrain step first")
    return pd.concat(parts, ignore_index=True)


def pretrain_step(ctx, names: Sequence[str] | None = None,
                  seeds: Sequence[int] | None = None) -> dict[str, dict[int, TrainResult]]:
    """Every run of a paper's pretrain step (or only ``names`` / ``seeds``), one after another.

    The convention every paper's params follow: ``shared.methods`` (run name -> :class:`MethodChoice`),
    ``shared.encoder``, ``shared.runtime``, and a pretrain step with ``train`` (:class:`TrainSection`) and
    optionally ``methods`` (the runs it trains; default all) and ``seeds`` (default ``[shared.seed]``);
    the data step wrote ``stores/`` and ``splits.parquet``.
    """
    step, shared = ctx.params, ctx.shared
    names = list(names or getattr(step, "methods", None) or shared.methods)
    seeds = list(seeds or getattr(step, "seeds", None) or [shared.seed])
    runs = [(n, shared.methods[n], shared.encoder) for n in names]
    return pretrain_runs(ctx, runs, step.train, seeds, ctx.input("data"), ctx.out)


def pretrain_runs(ctx, runs: Sequence[tuple[str, MethodChoice, EncoderSection | None]], train: TrainSection,
                  seeds: Sequence[int], data_dir: Path, out: Path) -> dict[str, dict[int, TrainResult]]:
    """Every ``(name, method choice, encoder)`` run with every seed on the data step at ``data_dir``, into
    ``out`` (runs whose encoders differ: hybrid_ecg's architecture grid); independent runs train at once in
    ``ctx.workers`` processes on a CPU without torchrun."""
    data = RunData.open(data_dir)
    device = str(resolve_device(ctx.shared.runtime.device))
    items = [(n, choice, encoder, train, data, out, s, device) for n, choice, encoder in runs for s in seeds]
    workers = 1 if init_distributed().enabled or device != "cpu" else ctx.workers
    done = iter(parallel_map(pretrain, items, workers, ctx.worker_threads))
    return {n: {s: next(done) for s in seeds} for n, _, _ in runs}
