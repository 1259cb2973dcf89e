"""Fine-tuning: encoder plus a linear head trained end to end, the encoder with its own learning rate.

hybrid_ecg fine-tunes its whole ViT with a linear classifier; D-BETA fine-tunes with a linear layer on the
ECG encoder (lr 5e-5 / 1e-4); AnyPPG fine-tunes per ICD-10 chapter as multi-label classification. All go
through :func:`finetune`, which builds :class:`EncoderWithHead` and hands it to the shared
:class:`~physiofm.training.Trainer` with two parameter groups (encoder lr, head lr).

:func:`finetune_segments` is the whole fine-tuning run on stored segments, the same for every paper: batches
of one channel group of a segment store with label columns of its index as targets (one sigmoid output per
column: multi-label, or one binary task), early stopping on validation rows, the best weights' scores on the
rows asked for; a run folder keeps them under a fingerprint (the encoder's initial weights, the rows, the
settings), so a rerun with the same inputs reads them back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from physiofm.io import fresh_dir, mark_done, read_arrays, write_arrays
from physiofm.sampler import EpochBatches
from physiofm.store import SegmentDataset, SegmentStore
from physiofm.training import TrainConfig, Trainer, TrainResult
from physiofm.training.checkpoint import fork_rng, load_model_weights, state_dict_sha256
from physiofm.training.distributed import epoch_sampler

TASKS = ("classification", "multilabel", "regression")


class EncoderWithHead(nn.Module):
    """``head(encode(encoder, batch))``: (B, D) embeddings -> (B, n_outputs) logits or predictions."""

    def __init__(
        self,
        encoder: nn.Module,
        embed_dim: int,
        n_outputs: int,
        encode: Callable[[nn.Module, object], torch.Tensor] | None = None,
    ):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(embed_dim, n_outputs)
        self._encode = [encode]  # a list so a module-valued callable is not registered twice

    def embed(self, batch) -> torch.Tensor:
        encode = self._encode[0]
        return encode(self.encoder, batch) if encode is not None else self.encoder(batch)

    def forward(self, batch) -> torch.Tensor:
        return self.head(self.embed(batch))


def targets_of(batch, target_key: str | Sequence[str]) -> torch.Tensor:
    """``batch[target_key]``, or the (B, K) stack of several keys (label columns read one per key)."""
    if isinstance(target_key, str):
        return batch[target_key]
    return torch.stack([torch.as_tensor(batch[k]).float() for k in target_key], dim=-1)


class SupervisedObjective:
    """Loss of ``model(batch)`` against ``batch[target_key]`` (or the stack of several keys, one per label):
    (class-weighted) CE, BCE per label, or MSE."""

    def __init__(self, task: str, target_key: str | Sequence[str] = "label",
                 class_weights: torch.Tensor | None = None):
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")
        self.task = task
        self.target_key = target_key if isinstance(target_key, str) else tuple(target_key)
        self.class_weights = (
            None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)
        )

    def __call__(self, model: nn.Module, batch) -> torch.Tensor:
        out, y = model(batch).float(), targets_of(batch, self.target_key)
        w = None if self.class_weights is None else self.class_weights.to(out.device)
        if self.task == "classification":
            return nn.functional.cross_entropy(out, y.long(), weight=w)
        if self.task == "multilabel":
            return nn.functional.binary_cross_entropy_with_logits(out, y.float(), pos_weight=w)
        return nn.functional.mse_loss(out.squeeze(-1), y.float())


def balanced_class_weights(y, n_classes: int | None = None) -> torch.Tensor:
    """``N / (K * N_k)`` per class (scikit-learn's "balanced"), as MultiMAE weights its cross-entropy."""
    y = np.asarray(y).astype(int)
    k = n_classes or int(y.max()) + 1
    counts = np.bincount(y, minlength=k).clip(min=1)
    return torch.tensor(len(y) / (k * counts), dtype=torch.float32)


def finetune(
    encoder: nn.Module,
    n_outputs: int,
    train_data: Iterable,
    config: TrainConfig,
    out_dir: Path,
    *,
    task: str = "classification",
    encoder_lr: float | None = None,
    head_lr: float | None = None,
    embed_dim: int | None = None,
    encode: Callable[[nn.Module, object], torch.Tensor] | None = None,
    target_key: str | Sequence[str] = "label",
    class_weights: torch.Tensor | None = None,
    val_data: Iterable | None = None,
) -> tuple[EncoderWithHead, TrainResult]:
    """Train ``encoder`` + a new linear head end to end; returns the model (last weights) and the result.

    ``encoder_lr`` and ``head_lr`` default to ``config.lr``; ``encoder_lr=0`` freezes nothing but leaves the
    encoder unchanged (use probes for frozen evaluation). ``embed_dim`` is inferred from one batch if omitted.
    """
    if embed_dim is None:
        first = next(iter(train_data))
        was = encoder.training
        encoder.eval()
        with torch.no_grad(), fork_rng():
            embed_dim = int((encode(encoder, first) if encode else encoder(first)).shape[-1])
        encoder.train(was)
    model = EncoderWithHead(encoder, embed_dim, n_outputs, encode)
    groups = [
        {
            "params": [p for p in model.encoder.parameters() if p.requires_grad],
            "lr": config.lr if encoder_lr is None else encoder_lr,
        },
        {"params": list(model.head.parameters()), "lr": config.lr if head_lr is None else head_lr},
    ]
    objective = SupervisedObjective(task, target_key, class_weights)
    result = Trainer(
        model, objective, train_data, config, out_dir, val_data=val_data, param_groups=groups
    ).fit()
    return model, result


@torch.no_grad()
def predict(
    model: nn.Module, batches: Iterable, *, task: str = "classification",
    target_key: str | Sequence[str] | None = "label",
) -> tuple[np.ndarray, np.ndarray | None]:
    """(scores, targets) over ``batches``: softmax class, sigmoid label probabilities, or values."""
    was = model.training
    model.eval()
    device = next(model.parameters()).device
    scores, targets = [], []
    for batch in batches:
        batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
        out = model(batch).float()
        out = (
            out.softmax(-1)
            if task == "classification"
            else out.sigmoid()
            if task == "multilabel"
            else out.squeeze(-1)
        )
        scores.append(out.cpu().numpy())
        if target_key is not None:
            targets.append(targets_of(batch, target_key).cpu().numpy())
    model.train(was)
    return np.concatenate(scores), (np.concatenate(targets) if targets else None)


# ------------------------------------------------------------------------------- runs on stored segments
class ReadGroup:
    """``encode`` for :class:`EncoderWithHead`: the encoder applied to one channel group of a batch."""

    def __init__(self, group: str) -> None:
        self.group = group

    def __call__(self, encoder: nn.Module, batch) -> torch.Tensor:
        return encoder(batch[self.group].float())


def _batches(stores: Mapping[str, SegmentStore], rows: Mapping[str, np.ndarray], group: str,
             columns: Sequence[str], batch_size: int, *, train: bool, seed: int):
    ds = SegmentDataset(dict(stores), dict(rows), groups=[group], columns=columns)
    if train:
        if len(ds) < batch_size:
            raise ValueError(f"{len(ds)} fine-tuning rows, fewer than one batch of {batch_size}")
        sampler = EpochBatches(epoch_sampler(ds, shuffle=True, seed=seed), batch_size, drop_last=True)
        return torch.utils.data.DataLoader(ds, sampler=sampler, batch_size=None)
    order = EpochBatches(torch.utils.data.SequentialSampler(ds), batch_size, drop_last=False)
    return torch.utils.data.DataLoader(ds, sampler=order, batch_size=None)


def finetune_segments(
    encoder: nn.Module,
    stores: Mapping[str, SegmentStore],
    group: str,
    columns: Sequence[str],
    rows: Mapping[str, Mapping[str, np.ndarray]],
    config: TrainConfig,
    out_dir: Path,
    *,
    batch_size: int,
    encoder_lr: float | None = None,
    head_lr: float | None = None,
    predict_splits: Sequence[str] = ("test",),
    keep_checkpoints: bool = False,
) -> tuple[dict[str, np.ndarray], TrainResult | None]:
    """Fine-tune ``encoder`` + a linear head on stored segments; the best weights' scores per split.

    Args:
        encoder: maps a ``(B, C, T)`` batch of ``group`` to ``(B, D)`` (a pretrained method's encoder, or a
            freshly initialised backbone for the supervised baseline); it is trained in place.
        stores: store name -> segment store; ``group``: the channel group read.
        columns: 0 / 1 label columns of the stores' index, one sigmoid output each (binary cross-entropy;
            several columns: a multi-label head, one column: one binary task).
        rows: split name -> {store name -> store rows}; ``"train"`` trains (shuffled with ``config.seed``,
            sharded under DDP), ``"val"`` is the early-stopping loss (``config.val_every``,
            ``config.patience``); every split in ``predict_splits`` is scored.
        config: the run's :class:`TrainConfig` (lr = head and encoder lr unless given apart).
        out_dir: the run folder: ``checkpoints/``, ``curve.csv``, ``scores.npz``; its fingerprint is the
            encoder's initial weights, the rows, the columns and the settings.

    Returns:
        ``({split: (N_split, K) probabilities in the rows' order}, TrainResult or None when read back)``.
    """
    out_dir = Path(out_dir)
    fingerprint = {
        "encoder": state_dict_sha256(encoder.state_dict()), "group": group, "columns": list(columns),
        "rows": {k: {n: hashlib.sha256(np.asarray(r, np.int64).tobytes()).hexdigest()[:16]
                     for n, r in v.items()} for k, v in rows.items()},
        "stores": sorted(stores), "config": dataclasses.asdict(config), "batch_size": batch_size,
        "encoder_lr": encoder_lr, "head_lr": head_lr, "predict": list(predict_splits),
    }
    if fresh_dir(out_dir, fingerprint) and (out_dir / "scores.npz").is_file():
        return read_arrays(out_dir / "scores.npz"), None
    torch.manual_seed(config.seed)  # the head's initial weights
    train = _batches(stores, rows["train"], group, columns, batch_size, train=True, seed=config.seed)
    val = (list(_batches(stores, rows["val"], group, columns, batch_size, train=False, seed=0))
           if "val" in rows else None)
    model, result = finetune(encoder, len(columns), train, config, out_dir, task="multilabel",
                             encoder_lr=encoder_lr, head_lr=head_lr, encode=ReadGroup(group),
                             target_key=tuple(columns), val_data=val)
    load_model_weights(result.best_checkpoint, model)
    scores = {}
    for split in predict_splits:
        batches = _batches(stores, rows[split], group, columns, batch_size, train=False, seed=0)
        scores[split] = predict(model, batches, task="multilabel", target_key=None)[0]
    write_arrays(out_dir / "scores.npz", scores)
    if not keep_checkpoints:
        shutil.rmtree(out_dir / "checkpoints", ignore_errors=True)
    mark_done(out_dir)
    return scores, result
