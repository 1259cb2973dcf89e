"""D-BETA's masked-ECG-modelling decoder (§3.1 MEM; sizes from the authors' config), an MAE decoder.

    visible ECG stream (B, 1 + K, D)  (CLS + the K kept tokens, D = 768)
      -> Linear(D -> 384) -> append mask tokens, unshuffle to the L token positions (CLS stays first)
      -> + fixed sin-cos positions (interleaved sin / cos, base 10000) over the 1 + L positions
      -> 4 pre-LN transformer blocks (384, 6 heads, MLP 4 x 384, no dropout) -> LayerNorm
      -> Linear(384 -> leads x patch = 12 x 16) per token, CLS dropped                  (B, L, 192)

The authors' blocks (CLIP's ResidualAttentionBlock) use QuickGELU, x * sigmoid(1.702 x); GELU here.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sincos_positions(n: int, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """(n, dim) fixed table: even channels sin(p w_i), odd channels cos(p w_i), w_i = 10000^(-2i/dim)."""
    if dim % 2:
        raise ValueError(f"sin-cos positions need an even width, got {dim}")
    pos = torch.arange(n, device=device, dtype=torch.float32).unsqueeze(1)
    w = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(n, dim, device=device)
    table[:, 0::2] = torch.sin(pos * w)
    table[:, 1::2] = torch.cos(pos * w)
    return table


class MEMDecoder(nn.Module):
    """``MEMDecoder(...)(h, ids_restore)``: h (B, 1 + K, width), ids_restore (B, L) -> (B, L, leads patch)."""

    def __init__(self, width: int = 768, dim: int = 384, layers: int = 4, heads: int = 6, leads: int = 12,
                 patch: int = 16) -> None:
        super().__init__()
        self.embed = nn.Linear(width, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(dim, heads, 4 * dim, dropout=0.0, activation="gelu", batch_first=True,
                                       norm_first=True)
            for _ in range(layers)
        )
        self.norm = nn.LayerNorm(dim)
        self.pred = nn.Linear(dim, leads * patch)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.mask_token, std=0.02)

    def forward(self, h: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
        x = self.embed(h)
        b, length = ids_restore.shape
        kept = x[:, 1:]
        if kept.shape[1] > length:
            raise ValueError(f"{kept.shape[1]} visible tokens but only {length} positions")
        full = torch.cat([kept, self.mask_token.expand(b, length - kept.shape[1], -1)], dim=1)
        full = torch.gather(full, 1, ids_restore.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
        x = torch.cat([x[:, :1], full], dim=1)
        x = x + sincos_positions(length + 1, x.shape[-1], x.device)
        for block in self.blocks:
            x = block(x)
        return self.pred(self.norm(x))[:, 1:]
