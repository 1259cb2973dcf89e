"""Random token masking as MAE does it (He et al. 2022, ``models_mae.random_masking``).

Per sample, draw one uniform noise value per token, sort, keep the ``K = int(L * (1 - mask_ratio))`` tokens
with the smallest noise (in their sorted order) and remember how to undo the shuffle. hybrid_ecg (GL),
multimae
and dbeta (MEM) all mask with this one function.
"""

from __future__ import annotations

import torch


def random_masking(
    tokens: torch.Tensor, mask_ratio: float, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keep a random subset of tokens per sample.

    Args:
        tokens: (B, L, D).
        mask_ratio: share of tokens removed, in [0, 1).
        generator: optional torch generator for the noise (on ``tokens``' device).

    Returns:
        kept: (B, K, D) with K = int(L * (1 - mask_ratio)), in the order of increasing noise.
        mask: (B, L) float, 1 = removed, 0 = kept, in the original token order.
        ids_restore: (B, L) long; ``torch.gather`` of [kept; mask tokens] with it restores the order.
    """
    if tokens.ndim != 3:
        raise ValueError(f"random_masking expects tokens of shape (B, L, D), got {tuple(tokens.shape)}")
    if not 0.0 <= mask_ratio < 1.0:
        raise ValueError(f"mask_ratio must be in [0, 1), got {mask_ratio}")
    b, length, d = tokens.shape
    keep = int(length * (1 - mask_ratio))
    noise = torch.rand(b, length, device=tokens.device, generator=generator)
    ids_shuffle = torch.argsort(noise, dim=1)  # ascending: small noise is kept
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :keep]
    kept = torch.gather(tokens, 1, ids_keep.unsqueeze(-1).expand(-1, -1, d))
    mask = torch.ones(b, length, device=tokens.device, dtype=tokens.dtype)
    mask[:, :keep] = 0
    mask = torch.gather(mask, 1, ids_restore)
    return kept, mask, ids_restore
