"""Attention rollout (Abnar & Zuidema 2020), as MultiMAE §4.4 uses it:

    W_l = attention probabilities of layer l averaged over heads              (B, N, N)
    A_l = row-normalise((1 - r) * W_l + r * I)                                r = residual = 0.5
    R   = A_L @ A_{L-1} @ ... @ A_1                                           (B, N, N)

Row i of R is how much output token i draws on each input token through attention and the residual path.
Rows of W_l sum to 1, so the renormalisation only guards rounding.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def attention_rollout(attentions: Sequence[torch.Tensor], residual: float = 0.5) -> torch.Tensor:
    """Roll out per-layer attention.

    Args:
        attentions: the probabilities of every layer, first to last, each (B, H, N, N).
        residual: weight r of the identity (the residual connection).

    Returns:
        (B, N, N) = A_L ... A_1.
    """
    if len(attentions) == 0:
        raise ValueError("attention_rollout needs the attention of at least one layer")
    if not 0.0 <= residual <= 1.0:
        raise ValueError(f"residual must be in [0, 1], got {residual}")
    first = attentions[0]
    rollout = None
    for i, w in enumerate(attentions):
        if w.ndim != 4 or w.shape[-1] != w.shape[-2] or w.shape[0] != first.shape[0]:
            raise ValueError(
                f"layer {i}: attention must be (B, H, N, N) with one B and N for all layers, "
                f"got {tuple(w.shape)}"
            )
        eye = torch.eye(w.shape[-1], dtype=w.dtype, device=w.device)
        a = (1.0 - residual) * w.mean(dim=1) + residual * eye
        a = a / a.sum(dim=-1, keepdim=True)
        rollout = a if rollout is None else a @ rollout
    return rollout
