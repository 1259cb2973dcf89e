"""Symmetric CLIP InfoNCE between two paired embedding sets (Radford et al. 2021; AnyPPG's PPG-ECG loss).

    logits = s * a @ b.T                      (B, B), s = exp(learnable log-scale) = 1 / tau
    L = ( CE(logits, arange(B)) + CE(logits.T, arange(B)) ) / 2

Row i of ``a`` and row i of ``b`` are the positive pair; every other row of the batch is a negative. The
inputs are expected to be L2-normalised already, so ``a @ b.T`` is the paper's cosine similarity.
Written after open_clip's ``ClipLoss``; under DDP the features of every process are gathered with gradient
(:mod:`physiofm.objectives.gather`, open_clip's ``gather_with_grad``), so each pair has the global batch's
negatives.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from physiofm.objectives.gather import gather

# open_clip initialises the log-scale at log(1 / 0.07) and clamps it to [0, log(100)] after every optimiser
# step ("as in the original paper"), so the temperature never drops below 0.01.
INIT_TEMPERATURE = 0.07
MAX_LOGIT_SCALE = 100.0


def clip_loss(a: torch.Tensor, b: torch.Tensor, logit_scale: torch.Tensor | float) -> torch.Tensor:
    """Mean of the a->b and b->a cross-entropies of the scaled similarity matrix.

    Args:
        a: (B, D) embeddings of the first modality (AnyPPG: PPG), L2-normalised.
        b: (B, D) embeddings of the paired second modality (AnyPPG: ECG), L2-normalised.
        logit_scale: the already-exponentiated scale 1 / tau (a scalar tensor or float), not its log.

    Returns:
        scalar loss tensor.
    """
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"clip_loss needs two (B, D) tensors of one shape, "
                         f"got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape[0] < 2:
        raise ValueError(f"clip_loss needs at least 2 pairs per batch (negatives come from the batch), "
                         f"got {a.shape[0]}")
    a, b = gather(a), gather(b)  # the whole batch under DDP (physiofm.objectives.gather)
    logits_per_a = logit_scale * a @ b.T
    logits_per_b = logits_per_a.T
    labels = torch.arange(a.shape[0], device=a.device)
    return (F.cross_entropy(logits_per_a, labels) + F.cross_entropy(logits_per_b, labels)) / 2


class ClipLoss(nn.Module):
    """Module form of :func:`clip_loss`: ``ClipLoss()(a, b, logit_scale)``; ``a``, ``b``: (B, D)."""

    def forward(self, a: torch.Tensor, b: torch.Tensor, logit_scale: torch.Tensor | float) -> torch.Tensor:
        return clip_loss(a, b, logit_scale)


class LogitScale(nn.Module):
    """Learnable log-scale, initialised at log(1 / 0.07), whose exponential is capped at 100 as in open_clip.

    Calling the module returns the scale itself, exp(clamp(log_scale, 0, log 100)). Call :meth:`clamp_` after
    each optimiser step (open_clip's in-place clamp) so the raw parameter itself never leaves [0, log 100];
    the clamp inside ``forward`` also keeps a model that is driven without that hook within the same range.
    """

    def __init__(self, init_temperature: float = INIT_TEMPERATURE,
                 max_scale: float = MAX_LOGIT_SCALE) -> None:
        super().__init__()
        if not 0 < init_temperature:
            raise ValueError(f"init_temperature must be > 0, got {init_temperature}")
        if not max_scale >= 1.0:
            raise ValueError(f"max_scale must be >= 1 (log-scale >= 0), got {max_scale}")
        self.max_log_scale = math.log(max_scale)
        self.log_scale = nn.Parameter(torch.tensor(math.log(1.0 / init_temperature)))

    def forward(self) -> torch.Tensor:
        return self.log_scale.clamp(0.0, self.max_log_scale).exp()

    @torch.no_grad()
    def clamp_(self) -> None:
        self.log_scale.clamp_(0.0, self.max_log_scale)
