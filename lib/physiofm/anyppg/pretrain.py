"""AnyPPG's pretraining step: AnyPPG (CLIP PPG-ECG) and the PPG-only SimCLR / BYOL baselines, each one
:class:`physiofm.training.Trainer` run on the same train split, batch size, optimiser, schedule and number
of steps, keeping the checkpoint with the lowest validation loss of its own objective (paper: "the final
checkpoint corresponding to the best validation contrastive loss was selected").

A run lives in ``<out>/<method>/`` (``checkpoints/{best,last}.pt``, ``curve.csv``, ``run.json``); a rerun
with the same settings resumes or returns at once, a rerun with other settings starts afresh.

The notebook runs one process. For the paper profile's four GPUs, run each method under torchrun after the
data step (the Trainer then trains with DDP, each GPU taking ``batch_size_per_gpu``); the notebook then
finds the finished runs::

    torchrun --nproc_per_node 4 -m physiofm.anyppg.pretrain --profile paper --method anyppg
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from physiofm.anyppg.baselines import BYOL, BYOLObjective, SimCLR, SimCLRObjective
from physiofm.anyppg.data import PairDataset, loader, read_splits, split_rows
from physiofm.anyppg.model import AnyPPG, ClipObjective, param_groups
from physiofm.anyppg.params import ModelSpec, PretrainParams
from physiofm.training import TrainConfig, Trainer, TrainResult, load_checkpoint, load_model_weights
from physiofm.training.checkpoint import file_sha256
from physiofm.training.distributed import barrier, init_distributed

METHOD_LABELS = {"anyppg": "AnyPPG", "simclr": "SimCLR", "byol": "BYOL", "random_init": "Random init"}


def build_model(method: str, spec: ModelSpec) -> nn.Module:
    """A freshly initialised model of ``method`` with the study's encoder and projector sizes."""
    enc = spec.encoder.model_dump()
    if method in ("anyppg", "random_init"):
        return AnyPPG(enc, spec.proj_hidden, spec.embed_dim, spec.init_temperature, spec.max_logit_scale)
    if method == "simclr":
        return SimCLR(enc, spec.proj_hidden, spec.embed_dim)
    if method == "byol":
        return BYOL(enc, spec.proj_hidden, spec.embed_dim)
    raise ValueError(f"unknown AnyPPG-study method {method!r}; expected anyppg, simclr, byol or random_init")


def build_objective(method: str, params: PretrainParams):
    if method == "anyppg":
        return ClipObjective("ppg", "ecg")
    if method == "simclr":
        return SimCLRObjective("ppg", params.simclr_temperature, params.max_mask_fraction)
    if method == "byol":
        return BYOLObjective("ppg", params.byol_base_momentum, params.max_mask_fraction)
    raise ValueError(f"no pretraining objective for method {method!r}")


def train_config(params: PretrainParams, seed: int) -> TrainConfig:
    """The Trainer settings of every method (single process: batch = ``batch_size_per_gpu``)."""
    return TrainConfig(
        optimizer=params.optimizer, lr=params.lr, weight_decay=params.weight_decay, betas=params.betas,
        schedule=params.schedule, warmup_steps=params.warmup_steps, max_steps=params.max_steps,
        grad_clip=params.grad_clip, val_every=params.val_every, ckpt_every=params.ckpt_every,
        log_every=params.log_every, seed=seed, amp="auto")


def _fingerprint(method: str, params: PretrainParams, model: ModelSpec, seed: int, data: Path) -> dict:
    """What a run depends on: its settings and the data step's split table (which names every segment)."""
    splits = Path(data) / "splits.parquet"
    return {"method": method, "params": params.model_dump(mode="json"),
            "model": model.model_dump(mode="json"), "seed": seed,
            "splits": file_sha256(splits) if splits.is_file() else None}


def pretrain(method: str, params: PretrainParams, model_spec: ModelSpec, seed: int, data_dir: Path,
             out: Path) -> TrainResult:
    """Train one method on the data step's train split; validate on its val split."""
    from physiofm.anyppg.data import open_stores

    dist = init_distributed()  # before the samplers are built, so they shard across ranks
    run_dir = Path(out) / method
    stamp = _fingerprint(method, params, model_spec, seed, data_dir)
    run_json = run_dir / "run.json"
    if dist.is_main:
        if run_dir.exists() and (not run_json.is_file() or json.loads(run_json.read_text()) != stamp):
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        run_json.write_text(json.dumps(stamp, indent=1))
    barrier()

    stores, splits = open_stores(data_dir), read_splits(data_dir)
    groups = ("ppg", "ecg") if method == "anyppg" else ("ppg",)
    train = PairDataset(stores, split_rows(splits, "train", stores), groups)
    val = PairDataset(stores, split_rows(splits, "val", stores), groups)
    if len(train) < params.batch_size_per_gpu:
        raise ValueError(f"anyppg pretrain: {len(train)} training segments, fewer than one batch of "
                         f"{params.batch_size_per_gpu}; make the cohort larger or the batch smaller")
    if len(val) < 2:
        raise ValueError(f"anyppg pretrain: only {len(val)} validation segments; need at least 2 per batch")
    torch.manual_seed(seed)  # the same initial weights whenever this method is built with this seed
    model = build_model(method, model_spec)
    objective = build_objective(method, params)
    groups_ = (param_groups(model, params.lr, params.weight_decay)
               if params.decay_groups == "matrices" else None)
    trainer = Trainer(
        model, objective,
        loader(train, params.batch_size_per_gpu, shuffle=True, drop_last=True, seed=seed,
               num_workers=params.num_workers),
        train_config(params, seed), run_dir,
        val_data=loader(val, params.batch_size_per_gpu, shuffle=False, drop_last=True,
                        max_batches=params.val_max_batches),
        param_groups=groups_,
    )
    return trainer.fit()


def load_pretrained(method: str, model_spec: ModelSpec, pretrain_dir: Path, checkpoint: str = "best",
                    seed: int = 0) -> tuple[nn.Module, Path | None]:
    """A method's model with its ``best``/``last`` weights; ``random_init`` is the untrained AnyPPG model
    (seeded) and has no checkpoint. Returns the model in eval mode and the checkpoint path."""
    if method == "random_init":
        torch.manual_seed(seed)
        return build_model(method, model_spec).eval(), None
    path = Path(pretrain_dir) / method / "checkpoints" / f"{checkpoint}.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no {checkpoint} checkpoint of {method}; "
                                "run the pretrain step first")
    model = build_model(method, model_spec)
    load_model_weights(path, model)
    return model.eval(), path


def curves(pretrain_dir: Path, methods: list[str]) -> pd.DataFrame:
    """Training curves of every method, long: method, step, loss, val_loss, lr, extras."""
    frames = []
    for m in methods:
        path = Path(pretrain_dir) / m / "curve.csv"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no training curve of {m}")
        frames.append(pd.read_csv(path).assign(method=METHOD_LABELS[m]))
    return pd.concat(frames, ignore_index=True)


def best_checkpoints(pretrain_dir: Path, methods: list[str]) -> pd.DataFrame:
    """Per method: the step and validation loss of the selected (best) checkpoint, and the last step."""
    rows: list[dict[str, Any]] = []
    for m in methods:
        best = load_checkpoint(Path(pretrain_dir) / m / "checkpoints" / "best.pt")
        last = load_checkpoint(Path(pretrain_dir) / m / "checkpoints" / "last.pt")
        rows.append({"method": METHOD_LABELS[m], "objective": {"anyppg": "CLIP InfoNCE (PPG-ECG)",
                     "simclr": "NT-Xent (two PPG views)", "byol": "BYOL (two PPG views)"}[m],
                     "best step": int(best["step"]), "best val loss": float(best["val_loss"]),
                     "last step": int(last["step"])})
    return pd.DataFrame(rows).set_index("method")


def main(argv: list[str] | None = None) -> None:
    """Train one method of one profile outside the notebook (e.g. under torchrun for DDP)."""
    from physiofm.config import step_context

    ap = argparse.ArgumentParser(prog="python -m physiofm.anyppg.pretrain", description=main.__doc__)
    ap.add_argument("--profile", default="paper")
    ap.add_argument("--method", required=True, choices=["anyppg", "simclr", "byol"])
    ap.add_argument("--params-file", default=None)
    ap.add_argument("--artifacts", default=None, help="the study's artifact folder of this paper")
    a = ap.parse_args(argv)
    ctx = step_context("anyppg", "pretrain", a.profile, a.params_file, a.artifacts)
    result = pretrain(a.method, ctx.params, ctx.shared.model, ctx.shared.seed, ctx.input("data"), ctx.out)
    if init_distributed().is_main:
        print(f"{a.method}: {result.steps} steps, best validation loss {result.best_val_loss:.4f} "
              f"({result.best_checkpoint})")


if __name__ == "__main__":
    main()
