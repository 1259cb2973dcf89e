"""Co-attention fusion of two token streams (D-BETA's fusion module, after M3AE / METER's BertCrossLayer).

One layer per stream, both reading the *inputs* of the layer (not each other's outputs):

    a' = LN(a + Drop(SelfAttn(a)))
    a''= LN(a' + Drop(CrossAttn(query = a', key = value = b)))        b is the other stream's layer input
    out= LN(a'' + Drop(W2 GELU(W1 a'')))                                post-LN throughout (BERT)

:class:`CoAttentionFusion` stacks ``layers`` such pairs (6 in the paper, width 768, 12 heads, FFN 3072),
adds a learnable modality-type embedding (0 = text, 1 = ECG) to each stream first, and can hand back the
streams after the first ``tap`` layers (D-BETA's MEM decoder reads the ECG stream after 3 of 6).
:class:`FirstTokenPooler` is BERT's pooler, tanh(W h_0 + b); D-BETA has four of them (ECG and text, before
and after fusion).
"""

from __future__ import annotations

import torch
from torch import nn

LN_EPS = 1e-12  # BertConfig's layer_norm_eps, which the authors' fusion layers use


class CoAttentionLayer(nn.Module):
    """One stream's layer: self-attention, cross-attention to the other stream, feed-forward (post-LN)."""

    def __init__(self, width: int = 768, heads: int = 12, ffn: int = 3072, dropout: float = 0.1) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(width, heads, dropout=dropout, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(width, heads, dropout=dropout, batch_first=True)
        self.norm1 = nn.LayerNorm(width, eps=LN_EPS)
        self.norm2 = nn.LayerNorm(width, eps=LN_EPS)
        self.norm3 = nn.LayerNorm(width, eps=LN_EPS)
        self.ffn = nn.Sequential(nn.Linear(width, ffn), nn.GELU(), nn.Linear(ffn, width))
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        x: torch.Tensor,
        other: torch.Tensor,
        x_padding: torch.Tensor | None = None,
        other_padding: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """x (B, Lx, D), other (B, Lo, D); paddings (B, L) bool, True = padded -> (B, Lx, D)."""
        a = self.self_attn(x, x, x, key_padding_mask=x_padding, need_weights=False)[0]
        x = self.norm1(x + self.dropout(a))
        c = self.cross_attn(x, other, other, key_padding_mask=other_padding, need_weights=False)[0]
        x = self.norm2(x + self.dropout(c))
        return self.norm3(x + self.dropout(self.ffn(x)))


class FirstTokenPooler(nn.Module):
    """(B, L, D) -> (B, D): tanh(Linear(h[:, 0]))."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.dense = nn.Linear(width, width)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(h[:, 0]))


class CoAttentionFusion(nn.Module):
    """Two streams (text, ECG) through ``layers`` co-attention layer pairs."""

    TEXT, ECG = 0, 1

    def __init__(self, width: int = 768, layers: int = 6, heads: int = 12, ffn: int = 3072,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.modality = nn.Embedding(2, width)
        self.text_layers = nn.ModuleList(CoAttentionLayer(width, heads, ffn, dropout) for _ in range(layers))
        self.ecg_layers = nn.ModuleList(CoAttentionLayer(width, heads, ffn, dropout) for _ in range(layers))

    def forward(
        self,
        text: torch.Tensor,
        ecg: torch.Tensor,
        text_padding: torch.Tensor | None = None,
        tap: int | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """text (B, Lt, D), ECG (B, Le, D) (no padding), text_padding (B, Lt) True = padded.

        Returns the final text and ECG streams and, when ``tap`` is given, the ECG stream after the first
        ``tap`` layers (the input of layer ``tap``; ``tap = 0`` is the stream before fusion).
        """
        x = text + self.modality.weight[self.TEXT]
        y = ecg + self.modality.weight[self.ECG]
        tapped = y if tap == 0 else None
        for i, (tl, el) in enumerate(zip(self.text_layers, self.ecg_layers, strict=True)):
            x, y = tl(x, y, text_padding, None), el(y, x, None, text_padding)
            if tap == i + 1:
                tapped = y
        if tap is not None and tapped is None:
            raise ValueError(f"tap {tap} is beyond the {len(self.ecg_layers)} fusion layers")
        return x, y, tapped
