"""One plain PyTorch training loop for every pretraining and fine-tuning run of the study.

``Trainer(model, objective, train_data, config, out_dir, val_data).fit()`` runs ``config.max_steps`` optimiser
updates of ``objective(model, batch) -> loss | (loss, {name: float})`` and leaves in ``out_dir``:

* ``checkpoints/last.pt``: everything needed to continue (model, optimiser, scheduler, samplers with a
  ``state_dict``, Python/NumPy/torch RNG states of every rank, epoch and batch position, step, curve), written
  atomically every ``ckpt_every`` steps and at the end; like every checkpoint of the project it holds only
  tensors and plain Python values and is read with ``torch.load(weights_only=True)``;
* ``checkpoints/best.pt``: the model weights at the lowest validation loss (``last.pt`` when no validation);
* ``curve.csv``: one row per logged step (step, epoch, loss, lr, grad_norm, val_loss, objective extras).

Calling ``fit()`` again with the same ``out_dir`` resumes from ``last.pt``. Data order resumes exactly: at the
start of each epoch the trainer records the RNG and sampler states, and on resume it restores them, rebuilds
that epoch's iterator, skips the batches already consumed, and only then restores the RNG states of the
checkpoint. This works for any re-iterable batch source (a DataLoader with ``shuffle=True``, a sampler with
``set_epoch``, ...) and reproduces worker-side augmentation too, at the cost of re-reading the consumed part
of the current epoch. On CPU an interrupted and an uninterrupted run end with identical weights.
(``persistent_workers=True`` loaders carry worker RNG across epochs and are not resumed exactly.)

Under torchrun the same code runs DDP: the objective is evaluated inside the DDP-wrapped module, so it may
call any sub-module of ``model`` and gradients are still averaged across ranks.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from physiofm.io import write_csv
from physiofm.objectives.gather import global_batch
from physiofm.training import distributed as D
from physiofm.training.checkpoint import (
    fork_rng,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    seed_everything,
    set_rng_state,
)
from physiofm.training.schedules import SCHEDULES, build_scheduler

Batch = Any
Objective = Callable[[nn.Module, Batch], "torch.Tensor | tuple[torch.Tensor, dict[str, float]]"]


@dataclass
class TrainConfig:
    """Optimisation settings of one run. Steps count optimiser updates.

    ``schedule="tristage"`` derives its stage lengths from ``tristage_ratios`` and ignores ``warmup_steps``.
    ``optimizer="adam"`` is ``torch.optim.Adam`` (L2 added to the gradient); ``"adamw"`` decouples
    weight decay (fairseq's "adam", used by D-BETA, is in fact decoupled).
    ``val_every=None`` validates only at the end; ``ckpt_every=None`` checkpoints only at the end;
    ``patience`` counts consecutive validations without a lower loss. ``amp="auto"`` is bf16 autocast on
    CUDA and off on CPU.
    """

    optimizer: Literal["adamw", "adam"] = "adamw"
    lr: float = 1e-4
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    schedule: Literal["cosine", "tristage", "constant"] = "cosine"
    warmup_steps: int = 0
    max_steps: int = 1000
    min_lr_ratio: float = 0.0
    tristage_ratios: tuple[float, float, float] = (0.1, 0.4, 0.5)
    init_lr_scale: float = 0.01
    final_lr_scale: float = 0.01
    grad_clip: float | None = None
    val_every: int | None = None
    patience: int | None = None
    ckpt_every: int | None = None
    seed: int = 0
    amp: Literal["auto", "bf16", "off"] = "auto"
    log_every: int = 10
    device: str = "auto"
    find_unused_parameters: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        self.betas = tuple(self.betas)
        self.tristage_ratios = tuple(self.tristage_ratios)
        problems = []
        if self.optimizer not in ("adamw", "adam"):
            problems.append(f"optimizer={self.optimizer!r} (expected 'adamw' or 'adam')")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule={self.schedule!r} (expected one of {SCHEDULES})")
        if self.amp not in ("auto", "bf16", "off"):
            problems.append(f"amp={self.amp!r} (expected 'auto', 'bf16' or 'off')")
        if not self.lr > 0:
            problems.append(f"lr={self.lr} (must be > 0)")
        if self.max_steps < 1:
            problems.append(f"max_steps={self.max_steps} (must be >= 1)")
        if not 0 <= self.warmup_steps <= self.max_steps:
            problems.append(f"warmup_steps={self.warmup_steps} (must be in [0, max_steps])")
        for name in ("val_every", "patience", "ckpt_every"):
            v = getattr(self, name)
            if v is not None and v < 1:
                problems.append(f"{name}={v} (must be >= 1 or None)")
        if self.log_every < 1:
            problems.append(f"log_every={self.log_every} (must be >= 1)")
        if self.grad_clip is not None and not self.grad_clip > 0:
            problems.append(f"grad_clip={self.grad_clip} (must be > 0 or None)")
        if problems:
            raise ValueError("invalid TrainConfig: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrainConfig:
        """Build from a params section; unknown keys are an error naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig key(s) {unknown}; known keys are {sorted(known)}")
        return cls(**dict(values))


@dataclass
class TrainResult:
    curve: pd.DataFrame
    best_checkpoint: Path
    last_checkpoint: Path
    steps: int
    best_val_loss: float = math.nan
    stopped_early: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def method_objective(method: nn.Module, batch) -> tuple[torch.Tensor, dict[str, float]]:
    """The objective of a :class:`physiofm.methods.Method`: its ``loss(batch)`` and the ``logs`` it wrote."""
    loss = method.loss(batch)
    return loss, dict(method.logs)


class _ObjectiveStep(nn.Module):
    """``objective(model, batch)`` as a module, so DDP sees every parameter the objective touches."""

    def __init__(self, model: nn.Module, objective: Objective):
        super().__init__()
        self.model = model
        self._objective = [objective]  # a list: an nn.Module objective must not become a sub-module here

    def forward(self, batch):
        return self._objective[0](self.model, batch)


def _to_device(batch, device: torch.device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, list | tuple):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch


def _split_output(out) -> tuple[torch.Tensor, dict[str, float]]:
    if isinstance(out, tuple):
        loss, extras = out
        return loss, dict(extras)
    return out, {}


def _stateful_parts(data) -> list[Any]:
    """Samplers reachable from a batch source: DataLoader.sampler, .batch_sampler and its .sampler."""
    parts = []
    for obj in (
        data,
        getattr(data, "sampler", None),
        getattr(data, "batch_sampler", None),
        getattr(getattr(data, "batch_sampler", None), "sampler", None),
    ):
        if obj is not None and all(obj is not p for p in parts):
            parts.append(obj)
    return parts


class Trainer:
    """Train ``model`` on ``objective`` over ``train_data``; see the module docstring for the files it writes.

    Args:
        model: holds every trainable parameter, including the objective's own (temperature, predictor).
        objective: ``objective(model, batch) -> loss`` or ``(loss, {name: float})``; if it has
            ``after_step(model, step, max_steps)`` it is called after each optimiser update (BYOL momentum).
            None when ``model`` is a :class:`physiofm.methods.Method`: its ``loss``, ``logs`` and
            ``after_step`` are used.
        train_data: a re-iterable source of batches (dicts of tensors), e.g. a DataLoader; a pass is an epoch.
        config: :class:`TrainConfig`.
        out_dir: run folder; an existing ``checkpoints/last.pt`` there is resumed.
        val_data: batches for the validation loss (mean of batch losses, with a fixed seed).
        param_groups: optional torch parameter groups (each with its own peak ``lr``) instead of
            ``model.parameters()``; the schedule scales every group's lr by the same factor.
    """

    def __init__(
        self,
        model: nn.Module,
        objective: Objective | None,
        train_data: Iterable,
        config: TrainConfig,
        out_dir: Path,
        val_data: Iterable | None = None,
        *,
        param_groups: list[dict[str, Any]] | None = None,
    ):
        self.config = config
        self.dist = D.init_distributed()
        self.device = self._resolve_device(config.device)
        self.model = model.to(self.device)
        self.objective = method_objective if objective is None else objective
        self._after_step = (getattr(model, "after_step", None) if objective is None
                            else getattr(objective, "after_step", None))
        self.train_data = train_data
        self.val_data = val_data
        self.out_dir = Path(out_dir)
        self.ckpt_dir = self.out_dir / "checkpoints"
        self.last_path = self.ckpt_dir / "last.pt"
        self.best_path = self.ckpt_dir / "best.pt"
        self.curve_path = self.out_dir / "curve.csv"

        params = (
            param_groups if param_groups is not None else [p for p in model.parameters() if p.requires_grad]
        )
        opt_cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
        # foreach: torch picks it by itself only on accelerators; on CPU the per-tensor loop costs about 5 ms
        # a step on a 200-tensor network, and the multi-tensor update gives the same values (tested).
        self.optimizer = opt_cls(
            params, lr=config.lr, betas=config.betas, eps=config.eps, weight_decay=config.weight_decay,
            foreach=True,
        )
        self.scheduler = build_scheduler(self.optimizer, config)
        self._clip_params = [p for g in self.optimizer.param_groups for p in g["params"]]

        self.step_module: nn.Module = _ObjectiveStep(self.model, self.objective)
        if self.dist.enabled:
            self.step_module = nn.parallel.DistributedDataParallel(
                self.step_module,
                device_ids=[self.device.index] if self.device.type == "cuda" else None,
                find_unused_parameters=config.find_unused_parameters,
            )
        if config.amp == "bf16" and self.device.type != "cuda":
            raise ValueError(
                f"amp='bf16' needs a CUDA device; this run is on {self.device} (use 'auto' or 'off')"
            )
        self.use_amp = self.device.type == "cuda" and config.amp in ("auto", "bf16")

        # progress of the run; all of it goes into the checkpoint
        self.step = 0
        self.epoch = 0
        self.batch_in_epoch = 0
        self.rows: list[dict[str, Any]] = []
        self.best_val = math.inf
        self.bad_evals = 0
        self.stopped_early = False
        self._reset_window()
        self._iter = None
        self._epoch_start: dict[str, Any] = {}

    # ----------------------------------------------------------------------------------------------- setup
    def _resolve_device(self, name: str) -> torch.device:
        if name != "auto":
            return torch.device(name)
        if torch.cuda.is_available():
            return torch.device("cuda", self.dist.local_rank)
        return torch.device("cpu")

    def _reset_window(self) -> None:
        self._loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        self._loss_n = 0
        self._extras_sum: dict[str, float] = {}
        self._grad_norm = torch.full((), math.nan, device=self.device)

    # ------------------------------------------------------------------------------------------------ data
    def _start_epoch(self) -> None:
        for part in _stateful_parts(self.train_data):
            if hasattr(part, "set_epoch"):
                part.set_epoch(self.epoch)
        self._epoch_start = {
            "rng": rng_state(),
            "samplers": [
                copy.deepcopy(p.state_dict()) if hasattr(p, "state_dict") else None
                for p in _stateful_parts(self.train_data)
            ],
        }
        self._iter = iter(self.train_data)

    def _next_batch(self):
        try:
            batch = next(self._iter)
        except StopIteration:
            if self.batch_in_epoch == 0:
                raise RuntimeError(f"train_data yielded no batches in epoch {self.epoch}") from None
            self.epoch += 1
            self.batch_in_epoch = 0
            self._start_epoch()
            try:
                batch = next(self._iter)
            except StopIteration:
                raise RuntimeError(f"train_data yielded no batches in epoch {self.epoch}") from None
        self.batch_in_epoch += 1
        return batch

    def _resume_data_position(self, epoch_start: Mapping[str, Any], now_rng: Mapping[str, Any]) -> None:
        set_rng_state(epoch_start["rng"])
        for part, state in zip(_stateful_parts(self.train_data), epoch_start["samplers"]):
            if state is not None and hasattr(part, "load_state_dict"):
                part.load_state_dict(state)
        for part in _stateful_parts(self.train_data):
            if hasattr(part, "set_epoch"):
                part.set_epoch(self.epoch)
        self._epoch_start = {"rng": epoch_start["rng"], "samplers": epoch_start["samplers"]}
        self._iter = iter(self.train_data)
        for i in range(self.batch_in_epoch):
            try:
                next(self._iter)
            except StopIteration:
                raise RuntimeError(
                    f"resuming {self.last_path}: epoch {self.epoch} of train_data ended after {i} "
                    f"batches but the checkpoint had consumed {self.batch_in_epoch}; the data changed"
                ) from None
        set_rng_state(now_rng)

    # ---------------------------------------------------------------------------------------- checkpoints
    def _save_last(self) -> None:
        per_rank = D.all_gather_object({"rng": rng_state(), "epoch_start": self._epoch_start})
        loss_sum = float(D.all_reduce_mean(self._loss_sum))
        if self.dist.is_main:
            save_checkpoint(
                self.last_path,
                {
                    "model": self.model.state_dict(),
                    "optimizer": self.optimizer.state_dict(),
                    "scheduler": self.scheduler.state_dict(),
                    "step": self.step,
                    "epoch": self.epoch,
                    "batch_in_epoch": self.batch_in_epoch,
                    "per_rank": per_rank,
                    "world_size": self.dist.world_size,
                    "rows": self.rows,
                    "best_val": self.best_val,
                    "bad_evals": self.bad_evals,
                    "stopped_early": self.stopped_early,
                    "window": {"loss_sum": loss_sum, "loss_n": self._loss_n, "extras_sum": self._extras_sum},
                    "config": dataclasses.asdict(self.config),
                },
            )
            self._write_curve()
        D.barrier()

    def _save_best(self, val_loss: float) -> None:
        if self.dist.is_main:
            save_checkpoint(
                self.best_path,
                {
                    "model": self.model.state_dict(),
                    "step": self.step,
                    "val_loss": val_loss,
                    "config": dataclasses.asdict(self.config),
                },
            )
        D.barrier()

    def _write_curve(self) -> None:
        write_csv(self.curve, self.curve_path)

    def _try_resume(self) -> bool:
        if not self.last_path.is_file():
            return False
        state = load_checkpoint(self.last_path, map_location=self.device)
        if state.get("world_size", 1) != self.dist.world_size:
            raise RuntimeError(
                f"{self.last_path} was written by {state.get('world_size')} process(es); "
                f"this run has {self.dist.world_size}"
            )
        saved_cfg, cfg = state.get("config", {}), dataclasses.asdict(self.config)
        changed = {
            k: (saved_cfg.get(k), v)
            for k, v in cfg.items()
            if k not in ("progress", "device") and saved_cfg.get(k) != v and k in saved_cfg
        }
        if changed:
            warnings.warn(f"resuming {self.last_path} with a changed config: {changed}", stacklevel=3)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        self.rows = list(state["rows"])
        self.best_val, self.bad_evals = state["best_val"], state["bad_evals"]
        self.stopped_early = state["stopped_early"]
        w = state["window"]
        self._loss_sum = torch.tensor(w["loss_sum"], dtype=torch.float64, device=self.device)
        self._loss_n, self._extras_sum = w["loss_n"], dict(w["extras_sum"])
        mine = state["per_rank"][self.dist.rank]
        self._resume_data_position(mine["epoch_start"], mine["rng"])
        return True

    # --------------------------------------------------------------------------------------------- curve
    @property
    def curve(self) -> pd.DataFrame:
        cols = ["step", "epoch", "loss", "lr", "grad_norm", "val_loss"]
        df = pd.DataFrame(self.rows)
        for c in cols:
            if c not in df:
                df[c] = math.nan
        return df[cols + [c for c in df.columns if c not in cols]]

    def _row(self) -> dict[str, Any]:
        if self.rows and self.rows[-1]["step"] == self.step:
            return self.rows[-1]
        self.rows.append({"step": self.step, "epoch": self.epoch})
        return self.rows[-1]

    def _log(self, lr: float) -> float:
        loss = float(D.all_reduce_mean(self._loss_sum)) / self._loss_n
        if not math.isfinite(loss):
            raise FloatingPointError(f"training loss is {loss} at step {self.step} (run {self.out_dir})")
        row = self._row()
        row.update(loss=loss, lr=lr, grad_norm=float(self._grad_norm))
        row.update({k: v / self._loss_n for k, v in self._extras_sum.items()})
        self._reset_window()
        return loss

    # ---------------------------------------------------------------------------------------------- steps
    def _autocast(self):
        if self.use_amp:
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def train_step(self, batch) -> torch.Tensor:
        """One optimiser update on ``batch``; returns the detached loss (no host sync)."""
        batch = _to_device(batch, self.device)
        with self._autocast(), global_batch():  # contrastive losses see every rank's samples
            loss, extras = _split_output(self.step_module(batch))
        loss.backward()
        if self.config.grad_clip is not None:
            self._grad_norm = torch.nn.utils.clip_grad_norm_(self._clip_params, self.config.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        if self._after_step is not None:
            if self.objective is method_objective:
                self._after_step(self.step, self.config.max_steps)
            else:
                self._after_step(self.model, self.step, self.config.max_steps)
        loss = loss.detach()
        self._loss_sum += loss
        self._loss_n += 1
        for k, v in extras.items():
            self._extras_sum[k] = self._extras_sum.get(k, 0.0) + float(v)
        return loss

    @torch.no_grad()
    def validate(self) -> float:
        """Mean objective over ``val_data`` (model in eval mode, RNG forked with the run's seed)."""
        self.model.eval()
        total, n = torch.zeros((), dtype=torch.float64, device=self.device), 0
        with fork_rng(self.config.seed):
            for batch in self.val_data:
                with self._autocast():
                    # the bare model, not the DDP wrapper: ranks may hold different numbers of val batches
                    loss, _ = _split_output(self.objective(self.model, _to_device(batch, self.device)))
                total += loss.detach().double()
                n += 1
        self.model.train()
        if n == 0:
            raise RuntimeError("val_data yielded no batches")
        return float(D.all_reduce_mean(total / n))

    def fit(self) -> TrainResult:
        """Train until ``max_steps`` or early stopping, resuming from ``out_dir`` if a checkpoint is there."""
        cfg = self.config
        self.out_dir.mkdir(parents=True, exist_ok=True)
        resumed = self._try_resume()
        if not resumed:
            seed_everything(cfg.seed + self.dist.rank)
            self._start_epoch()
        self.model.train()
        bar = tqdm(
            total=cfg.max_steps,
            initial=self.step,
            disable=not (cfg.progress and self.dist.is_main),
            desc=f"train {self.out_dir.name}",
            unit="step",
            dynamic_ncols=True,
        )
        t0, s0 = time.perf_counter(), self.step
        while self.step < cfg.max_steps and not self.stopped_early:
            lr = self.optimizer.param_groups[0]["lr"]
            self.train_step(self._next_batch())
            bar.update(1)
            last = self.step == cfg.max_steps
            if self.step % cfg.log_every == 0 or last:
                loss = self._log(lr)
                rate = (self.step - s0) / max(1e-9, time.perf_counter() - t0)
                bar.set_postfix(loss=f"{loss:.4g}", lr=f"{lr:.3g}", steps_s=f"{rate:.2f}")
            if self.val_data is not None and ((cfg.val_every and self.step % cfg.val_every == 0) or last):
                self._after_validation(self.validate())
            if self.stopped_early and self._loss_n:
                self._log(lr)  # the final row of an early-stopped run
            if (cfg.ckpt_every and self.step % cfg.ckpt_every == 0) or last or self.stopped_early:
                self._save_last()
        bar.close()
        if resumed and not self.curve_path.exists() and self.dist.is_main:
            self._write_curve()
        return TrainResult(
            curve=self.curve,
            best_checkpoint=self.best_path
            if self.val_data is not None and self.best_path.exists()
            else self.last_path,
            last_checkpoint=self.last_path,
            steps=self.step,
            best_val_loss=self.best_val,
            stopped_early=self.stopped_early,
        )

    def _after_validation(self, val_loss: float) -> None:
        self._row()["val_loss"] = val_loss
        if val_loss < self.best_val:
            self.best_val, self.bad_evals = val_loss, 0
            self._save_best(val_loss)
        else:
            self.bad_evals += 1
            if self.config.patience is not None and self.bad_evals >= self.config.patience:
                self.stopped_early = True
