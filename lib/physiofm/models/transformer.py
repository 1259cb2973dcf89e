"""Pre-LN transformer pieces that can hand back their attention probabilities (timm / MultiMAE style).

    Block:             x = x + Attn(LN(x));  x = x + MLP(LN(x))               (Xiong et al. 2020)
    CrossAttentionAdapter (MultiMAE's output adapter, Bachmann et al. 2022):
                       x = XAttn(LN(q), LN(ctx));  x = x + MLP(LN(x))         (no residual around XAttn)

Attention is computed explicitly (softmax(q k^T / sqrt(d)) v) on every call, so asking for the
probabilities never changes the output; the returned (B, H, N_q, N_kv) matrices are the softmax before
attention dropout, the W_l of attention rollout. ``nn.MultiheadAttention`` switches kernels when asked for
weights, which is why it is not used here. LayerNorm eps 1e-6 and qkv bias follow MultiMAE / timm.
"""

from __future__ import annotations

import torch
from torch import nn


def layer_norm(dim: int) -> nn.LayerNorm:
    return nn.LayerNorm(dim, eps=1e-6)


class Attention(nn.Module):
    """Multi-head attention of queries ``x`` (B, N, D) over ``context`` (B, M, D) (``None``: self-attention).

    Dropout ``attn_drop`` on the attention probabilities, ``proj_drop`` after the output projection.
    """

    def __init__(self, dim: int, heads: int, attn_drop: float = 0.0, proj_drop: float = 0.0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns the output (B, N, D) and the attention probabilities (B, H, N, M)."""
        context = x if context is None else context
        b, n, d = x.shape
        q = self.q(x).reshape(b, n, self.heads, d // self.heads).transpose(1, 2)
        kv = self.kv(context).reshape(b, context.shape[1], 2, self.heads, d // self.heads)
        k, v = kv.permute(2, 0, 3, 1, 4)
        probs = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        out = (self.attn_drop(probs) @ v).transpose(1, 2).reshape(b, n, d)
        return self.proj_drop(self.proj(out)), probs


class Mlp(nn.Sequential):
    """Linear -> GELU -> Linear, dropout ``drop`` after each linear layer (timm's Mlp)."""

    def __init__(self, dim: int, hidden: int, drop: float = 0.0) -> None:
        super().__init__(
            nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(drop), nn.Linear(hidden, dim), nn.Dropout(drop)
        )


class Block(nn.Module):
    """One pre-LN transformer layer over (B, N, D) tokens."""

    def __init__(
        self, dim: int, heads: int, mlp_ratio: float = 4.0, drop: float = 0.0, attn_drop: float = 0.0
    ) -> None:
        super().__init__()
        self.norm1 = layer_norm(dim)
        self.attn = Attention(dim, heads, attn_drop, drop)
        self.norm2 = layer_norm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns the new tokens (B, N, D) and this layer's attention probabilities (B, H, N, N)."""
        a, probs = self.attn(self.norm1(x))
        x = x + a
        return x + self.mlp(self.norm2(x)), probs


class CrossAttentionAdapter(nn.Module):
    """Queries (B, N, D) attend to a context (B, M, D); MultiMAE's ``SpatialOutputAdapter`` head (its MLP has
    no dropout there; the attention keeps ``attn_drop`` / ``drop``)."""

    def __init__(
        self, dim: int, heads: int, mlp_ratio: float = 4.0, drop: float = 0.0, attn_drop: float = 0.0
    ) -> None:
        super().__init__()
        self.query_norm = layer_norm(dim)
        self.context_norm = layer_norm(dim)
        self.attn = Attention(dim, heads, attn_drop, drop)
        self.out_norm = layer_norm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, queries: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        x, _ = self.attn(self.query_norm(queries), self.context_norm(context))
        return x + self.mlp(self.out_norm(x))
