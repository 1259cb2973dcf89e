"""BYOL's regression loss and momentum schedule (Grill et al. 2020).

    L(p, z') = 2 - 2 * <p / ||p||, z' / ||z'||>,  mean over the batch,
where p is the online prediction and z' the target projection (no gradient). The method symmetrises it by
swapping the views. The target weights follow xi <- tau * xi + (1 - tau) * theta with
    tau_k = 1 - (1 - tau_base) * (cos(pi k / K) + 1) / 2,   tau_base = 0.996.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def byol_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """2 - 2 cos(prediction, target), mean over the batch; ``target`` is detached here. Both (B, D)."""
    if prediction.ndim != 2 or prediction.shape != target.shape:
        raise ValueError(
            f"byol_loss needs two (B, D) tensors of one shape, got "
            f"{tuple(prediction.shape)} and {tuple(target.shape)}"
        )
    p = F.normalize(prediction, dim=-1)
    z = F.normalize(target.detach(), dim=-1)
    return (2 - 2 * (p * z).sum(dim=-1)).mean()


class BYOLLoss(nn.Module):
    """Module form of :func:`byol_loss`."""

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return byol_loss(prediction, target)


def byol_momentum(step: int, max_steps: int, base: float = 0.996) -> float:
    """Target EMA rate tau at optimiser step ``step`` of ``max_steps`` (cosine from ``base`` to 1)."""
    if max_steps <= 0:
        return base
    return 1 - (1 - base) * (math.cos(math.pi * min(step, max_steps) / max_steps) + 1) / 2


@torch.no_grad()
def ema_update(target: nn.Module, online: nn.Module, tau: float) -> None:
    """xi <- tau * xi + (1 - tau) * theta for parameters; buffers (BN running stats) are copied."""
    for t, o in zip(target.parameters(), online.parameters(), strict=True):
        t.lerp_(o, 1 - tau)
    for t, o in zip(target.buffers(), online.buffers(), strict=True):
        t.copy_(o)
