"""A fusion that can see timing: attention across channels *and time* over per-channel time tokens (ours).

SyneCo's fusion (:class:`physiofm.models.FusionTransformer`) reads one mean-pooled embedding per channel, so
the delay between an ECG R peak and the PPG pulse it causes (the pulse-transit time, 150-350 ms) is gone
before any fusion. Here each channel keeps its time tokens at a common resolution (40 ms in the benchmark),
and the fusion attends across channels and time before pooling::

    tokens (B, M, T, D)  (M channels, T time tokens, width D)
      + channel embedding (M, D)
      -> depth x pre-LN transformer layer attending inside windows of W time steps x all M channels, with a
         learned relative time bias b[head, channel of query, channel of key, t_query - t_key] added to the
         attention logits; every other layer shifts the windows by W / 2 (Swin, Liu et al. 2021), so an R
         peak and its pulse that a window boundary separates meet in the next layer
      -> LayerNorm -> mean over the M x T tokens                                       (B, D)

The time embedding is relative (Swin's relative position bias, here per channel pair): "the PPG token 250 ms
after an ECG token" is one learned number per head, the direct way for attention to find a delay. Windows keep
the cost linear in T (a 10-s segment at 40 ms is 3 x 250 tokens) and make the module indifferent to the
segment length, so a model trained on crops embeds whole segments the same way. A window of 1 s and a shift
of 0.5 s cover any delay below 0.5 s within one layer or the next. Padding (to whole windows, and the half
window of the shifted layers) is masked out of the attention and of the mean.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class WindowAttentionLayer(nn.Module):
    """Pre-LN block over (B, N, M * W, D) window tokens: attention with a relative time bias, then an MLP."""

    def __init__(self, dim: int, channels: int, window: int, heads: int, ff_mult: int, dropout: float,
                 bias_init: float = 1.0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"TokenFusion width {dim} is not divisible by {heads} heads")
        self.heads, self.channels, self.window, self.dropout = heads, channels, window, dropout
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, ff_mult * dim), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(ff_mult * dim, dim))
        # A random start (like a convolution's random taps): each head begins sensitive to some offsets
        # between channels; a zero start would begin with uniform attention, blind to any delay.
        self.bias = nn.Parameter(torch.randn(heads, channels, channels, 2 * window - 1) * bias_init)
        pos = torch.arange(window)
        chan = torch.arange(channels)
        # token i of a window is (channel i // W, time i % W); bias index of (query, key)
        c_q, t_q = chan.repeat_interleave(window), pos.repeat(channels)
        self.register_buffer("c_q", c_q, persistent=False)
        self.register_buffer("t_q", t_q, persistent=False)

    def relative_bias(self) -> torch.Tensor:
        """(heads, M W, M W) additive attention bias."""
        c, t = self.c_q, self.t_q
        return self.bias[:, c[:, None], c[None, :], t[:, None] - t[None, :] + self.window - 1]

    def forward(self, x: torch.Tensor, pad: torch.Tensor | None) -> torch.Tensor:
        """x (B, N, M W, D) window tokens (N windows per segment), pad (N, M W) True where a token is padding.

        Attention is written out rather than calling ``F.scaled_dot_product_attention``: its CPU path with a
        learned (gradient-carrying) float mask is the math fallback, which also needs the mask expanded to
        every window of the batch and scans it for fully masked rows; here the bias and the padding are one
        (N, heads, M W, M W) term broadcast over the batch (no row is fully masked: a window is never all
        padding). On 2 CPU cores this takes about 40 % less time in the attention and 20 % in the whole
        fusion, forward and backward; windows are short (M W = 75 in the benchmark), so the logits it holds
        are small on an accelerator too.
        """
        b, n, length, d = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(b, n, length, 3, self.heads, d // self.heads)
        q, k, v = qkv.permute(3, 0, 1, 4, 2, 5)  # each (B, N, heads, M W, D / heads)
        bias = self.relative_bias()
        if pad is not None:
            bias = bias + torch.zeros(pad.shape, dtype=x.dtype, device=x.device).masked_fill(
                pad, float("-inf"))[:, None, None, :]
        logits = (q * q.shape[-1] ** -0.5) @ k.transpose(-1, -2) + bias
        attn = F.dropout(logits.softmax(dim=-1), self.dropout, self.training)
        a = (attn @ v).transpose(2, 3).reshape(b, n, length, d)
        x = x + self.proj(a)
        return x + self.mlp(self.norm2(x))


class TokenFusion(nn.Module):
    """(B, M, T, D) channel time tokens -> (B, D) fused embedding (not L2-normalised; the loss normalises).

    Args:
        dim: token width D.
        channels: M, the number of channel embeddings.
        window: W, time steps per attention window.
        depth: transformer layers (alternately unshifted and shifted by W / 2).
        heads: attention heads; ``ff_mult``: feed-forward width / D; ``dropout``: attention and FF dropout.
    """

    def __init__(self, dim: int, channels: int, window: int, depth: int = 2, heads: int = 4,
                 ff_mult: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        if window < 2 or depth < 1:
            raise ValueError(f"TokenFusion needs window >= 2 and depth >= 1, got {window}, {depth}")
        self.dim, self.channels, self.window = dim, channels, window
        self.channel_embed = nn.Parameter(torch.randn(channels, dim) * 0.02)
        self.layers = nn.ModuleList(WindowAttentionLayer(dim, channels, window, heads, ff_mult, dropout)
                                    for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def _layer(self, layer: nn.Module, x: torch.Tensor, shift: int) -> torch.Tensor:
        b, m, t, d = x.shape
        w = self.window
        right = (-(t + shift)) % w
        xp = F.pad(x, (0, 0, shift, right))
        n_win = xp.shape[2] // w
        win = xp.reshape(b, m, n_win, w, d).permute(0, 2, 1, 3, 4).reshape(b, n_win, m * w, d)
        pad = None
        if shift or right:
            valid = torch.zeros(xp.shape[2], dtype=torch.bool, device=x.device)
            valid[shift:shift + t] = True
            pad = (~valid).reshape(n_win, 1, w).expand(n_win, m, w).reshape(n_win, m * w)
        out = layer(win, pad)
        out = out.reshape(b, n_win, m, w, d).permute(0, 2, 1, 3, 4).reshape(b, m, n_win * w, d)
        return out[:, :, shift:shift + t]

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.ndim != 4 or tokens.shape[1] != self.channels or tokens.shape[-1] != self.dim:
            raise ValueError(f"TokenFusion expects (B, {self.channels}, T, {self.dim}) tokens, "
                             f"got {tuple(tokens.shape)}")
        x = tokens + self.channel_embed[None, :, None, :]
        for i, layer in enumerate(self.layers):
            x = self._layer(layer, x, self.window // 2 if i % 2 else 0)
        return self.norm(x).mean(dim=(1, 2))
