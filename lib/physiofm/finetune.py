"""Fine-tuning: encoder plus a linear head trained end to end, the encoder with its own learning rate.

hybrid_ecg fine-tunes its whole ViT with a linear classifier; D-BETA fine-tunes with a linear layer on the
ECG encoder (lr 5e-5 / 1e-4); AnyPPG fine-tunes per ICD-10 chapter as multi-label classification. All go
through :func:`finetune`, which builds :class:`EncoderWithHead` and hands it to the shared
:class:`~physiofm.training.Trainer` with two parameter groups (encoder lr, head lr).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from physiofm.training import TrainConfig, Trainer, TrainResult
from physiofm.training.checkpoint import fork_rng

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


class SupervisedObjective:
    """Loss of ``model(batch)`` against ``batch[target_key]``: (class-weighted) CE, BCE per label, or MSE."""

    def __init__(self, task: str, target_key: str = "label", class_weights: torch.Tensor | None = None):
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")
        self.task, self.target_key = task, target_key
        self.class_weights = (
            None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)
        )

    def __call__(self, model: nn.Module, batch) -> torch.Tensor:
        out, y = model(batch).float(), batch[self.target_key]
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
    target_key: str = "label",
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
    model: nn.Module, batches: Iterable, *, task: str = "classification", target_key: str | None = "label"
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
            targets.append(batch[target_key].cpu().numpy())
    model.train(was)
    return np.concatenate(scores), (np.concatenate(targets) if targets else None)
