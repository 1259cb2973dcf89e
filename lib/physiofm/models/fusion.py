"""SyneCo's synergy-aware fusion block (§2.1).

    per-channel embeddings (B, M, D)  (M = 3 tokens: ECG-II, ECG-V, PPG; D = 512)
      -> one TransformerEncoderLayer (4 heads, feed-forward 4 x D)
      -> mean over the M tokens -> LayerNorm                      (B, D)

The paper fixes heads, expansion ratio, mean pooling and the final LayerNorm; everything else (post-norm,
ReLU, attention/FF dropout 0.1) is PyTorch's ``nn.TransformerEncoderLayer`` default, which is what "a single
transformer encoder layer" most plausibly meant.
"""

from __future__ import annotations

import torch
from torch import nn


class FusionTransformer(nn.Module):
    """(B, M, D) channel tokens -> (B, D) fused embedding (not L2-normalised; the loss normalises)."""

    def __init__(self, dim: int = 512, heads: int = 4, ff_mult: int = 4, dropout: float = 0.1) -> None:
        super().__init__()
        self.dim = dim
        self.layer = nn.TransformerEncoderLayer(
            dim, heads, dim_feedforward=ff_mult * dim, dropout=dropout, batch_first=True
        )
        self.norm = nn.LayerNorm(dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.ndim != 3 or tokens.shape[-1] != self.dim:
            raise ValueError(
                f"FusionTransformer expects (B, M, {self.dim}) tokens, got {tuple(tokens.shape)}"
            )
        return self.norm(self.layer(tokens).mean(dim=1))
