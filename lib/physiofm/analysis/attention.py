"""Raw attention of a multimodal transformer read in modality-by-time blocks (MultiMAE App G, Fig 6).

Tokens are modality-major: token m*T + t is modality m at time t (as :class:`physiofm.models.MultiMAE`).
All functions take attention (or rollout) matrices whose rows sum to 1 (a query's weights over keys).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def layer_attention(attentions: Sequence[torch.Tensor]) -> torch.Tensor:
    """Per-layer attention averaged over heads: L tensors (B, H, N, N) -> (B, L, N, N) (Fig 6: W_l).
    Average over windows with ``.mean(0)``."""
    if len(attentions) == 0:
        raise ValueError("layer_attention needs at least one layer")
    return torch.stack([w.mean(dim=1) for w in attentions], dim=1)


def _blocks(matrix: torch.Tensor, n_modalities: int) -> tuple[torch.Tensor, int]:
    n = matrix.shape[-1]
    if matrix.ndim < 2 or matrix.shape[-2] != n or n % n_modalities:
        raise ValueError(
            f"expected (..., N, N) with N a multiple of {n_modalities}, got {tuple(matrix.shape)}"
        )
    t = n // n_modalities
    return matrix.reshape(*matrix.shape[:-2], n_modalities, t, n_modalities, t), t


def modality_blocks(matrix: torch.Tensor, n_modalities: int) -> torch.Tensor:
    """(..., M*T, M*T) -> (..., M, M): entry (i, j) is the attention a query of modality i puts on all keys
    of modality j, averaged over the queries of i (rows still sum to 1)."""
    blocks, _ = _blocks(matrix, n_modalities)
    return blocks.sum(dim=-1).mean(dim=-2)  # (..., Mq, Tq, Mk) -> mean over the query times


def lag_profile(matrix: torch.Tensor, n_modalities: int, cross_modal: bool = False) -> torch.Tensor:
    """(..., M*T, M*T) -> (..., 2T-1): attention mass at key time - query time = -(T-1) ... T-1, averaged over
    queries (the temporal alignment of §4.4: mass near lag 0). ``cross_modal`` keeps only keys of other
    modalities (so a row no longer sums to 1)."""
    blocks, t = _blocks(matrix, n_modalities)
    if cross_modal:
        keep = 1.0 - torch.eye(n_modalities, dtype=matrix.dtype, device=matrix.device)
        blocks = blocks * keep[:, None, :, None]
    per_time = blocks.sum(dim=-2)  # (..., M, Tq, Tk): summed over key modalities
    lag = torch.arange(t, device=matrix.device)[None, :] - torch.arange(t, device=matrix.device)[:, None]
    out = matrix.new_zeros(*per_time.shape[:-3], 2 * t - 1)
    flat = per_time.mean(dim=-3)  # (..., Tq, Tk), averaged over query modalities
    out.index_add_(out.ndim - 1, (lag + t - 1).flatten(), flat.flatten(-2))
    return out / t
