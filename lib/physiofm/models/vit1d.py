"""ViT-1D: the 12-lead ECG Vision Transformer of hybrid_ecg (§3.2, Fig. 2; App. C grid).

    x (B, C, T) mV
      -> Conv1d(C -> D, kernel = stride = P), no padding             (B, D, L),  L = T // P
      -> transpose + fixed 1-D sin-cos positional embedding          (B, L, D)
      -> depth x pre-LN transformer block                            (B, L, D)
      -> LayerNorm -> mean over the L tokens                         (B, D)

The paper gives the patch embedding ("one-dimensional convolution projection layer", §3.2) and the grid
P in {60, 125, 250} samples, depth in {2, 4, 8}, width D in {256, 512, 1024}; the rest is [D] our choice,
following MAE (He et al. 2022, facebookresearch/mae ``models_mae.py``, read for faithfulness): D / 64 heads,
MLP ratio 4 with GELU, biases everywhere, LayerNorm eps 1e-6, fixed (not learned) sin-cos positions, xavier-
uniform init of every linear map and of the flattened patch kernel. MAE's class token is left out because
the representation is the mean of the tokens [D] (MAE's ``global_pool`` fine-tuning variant pools the same
way). P = 60 does not divide 2,500: the strided convolution yields 41 tokens and ignores the last 40 samples
[D, no padding]; :meth:`ViT1D.patchify` drops the same samples from the reconstruction target.

Each block is ``nn.TransformerEncoderLayer(norm_first=True)``: PyTorch's own pre-LN block (self-attention
with an in-projection bias, then an MLP), the same computation and parameter count as timm's ``Block`` that
MAE uses, with dropout 0. Per block 12 D^2 + 13 D parameters; the whole encoder has
C P D + D (patch embedding) + depth (12 D^2 + 13 D) + 2 D (final LayerNorm).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from physiofm.models.masking import random_masking

LN_EPS = 1e-6


def sincos_positions(n_tokens: int, width: int) -> torch.Tensor:
    """(n_tokens, width) fixed 1-D sin-cos embedding: [sin(p w_k), cos(p w_k)], w_k = 10000^(-2k / width).

    MAE's ``get_1d_sincos_pos_embed_from_grid`` with positions 0 .. n_tokens - 1.
    """
    if width % 2:
        raise ValueError(f"sin-cos positions need an even width, got {width}")
    omega = 1.0 / 10000 ** (torch.arange(width // 2, dtype=torch.float64) / (width / 2))
    angles = torch.arange(n_tokens, dtype=torch.float64)[:, None] * omega[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1).float()


def transformer_block(width: int, heads: int, mlp_ratio: float = 4.0) -> nn.TransformerEncoderLayer:
    """One pre-LN block: x + Attn(LN(x)), then x + MLP(LN(x)) with GELU; biases on, dropout off."""
    if width % heads:
        raise ValueError(f"width {width} is not divisible by {heads} heads")
    return nn.TransformerEncoderLayer(
        width,
        heads,
        dim_feedforward=int(width * mlp_ratio),
        dropout=0.0,
        activation="gelu",
        layer_norm_eps=LN_EPS,
        batch_first=True,
        norm_first=True,
        bias=True,
    )


def init_weights(module: nn.Module) -> None:
    """MAE's ``_init_weights``: xavier-uniform linear weights, zero biases, unit LayerNorms.

    ``nn.MultiheadAttention`` keeps its q/k/v map as one (3 D, D) ``in_proj_weight`` that PyTorch already
    initialises xavier-uniform with zero bias, as MAE does for timm's fused ``qkv`` linear.
    """
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


class ViT1D(nn.Module):
    """1-D ViT encoder: ``forward((B, C, T)) -> (B, width)`` mean-pooled token representation.

    Args:
        in_channels: leads C (12).
        patch_size: samples per patch P (60, 125 or 250 at 250 Hz).
        depth: transformer blocks.
        width: token width D; heads = D / 64 unless ``heads`` is given.
        signal_length: samples T the positional table is built for (2,500 = 10 s at 250 Hz); shorter inputs
            use its first T // P rows.
        mlp_ratio: MLP hidden width / D.
    """

    def __init__(
        self,
        in_channels: int,
        patch_size: int,
        depth: int,
        width: int,
        *,
        signal_length: int = 2500,
        heads: int | None = None,
        mlp_ratio: float = 4.0,
    ) -> None:
        super().__init__()
        if min(in_channels, patch_size, depth, width) < 1:
            raise ValueError(
                f"ViT1D sizes must be positive, got in_channels={in_channels}, patch_size={patch_size}, "
                f"depth={depth}, width={width}"
            )
        if signal_length < patch_size:
            raise ValueError(f"signal_length {signal_length} is shorter than one patch ({patch_size})")
        self.in_channels, self.patch_size, self.depth, self.width = in_channels, patch_size, depth, width
        self.heads = heads if heads is not None else max(1, width // 64)
        self.signal_length = signal_length
        self.n_tokens = signal_length // patch_size
        self.patch_embed = nn.Conv1d(in_channels, width, kernel_size=patch_size, stride=patch_size)
        self.register_buffer("pos_embed", sincos_positions(self.n_tokens, width), persistent=False)
        self.blocks = nn.ModuleList(transformer_block(width, self.heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(width, eps=LN_EPS)
        self.apply(init_weights)
        # the patch kernel is initialised like a linear map of the flattened patch (MAE, after ViT-JAX)
        w = self.patch_embed.weight.data
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.zeros_(self.patch_embed.bias)

    @property
    def out_features(self) -> int:
        return self.width

    @property
    def patch_dim(self) -> int:
        """Values per patch, C * P: the decoder's output size."""
        return self.in_channels * self.patch_size

    def tokens_for(self, length: int) -> int:
        """Number of tokens a (B, C, length) input gives: length // P (the remainder is ignored)."""
        return length // self.patch_size

    def _check(self, x: torch.Tensor) -> None:
        if x.ndim != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"ViT1D expects (B, {self.in_channels}, T) input, got {tuple(x.shape)}")
        n = self.tokens_for(x.shape[-1])
        if not 1 <= n <= self.n_tokens:
            raise ValueError(
                f"ViT1D built for at most {self.signal_length} samples ({self.n_tokens} patches of "
                f"{self.patch_size}); got T = {x.shape[-1]}"
            )

    def patchify(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) -> (B, L, C * P): patch l holds x[:, :, l P:(l + 1) P] flattened lead by lead."""
        self._check(x)
        b, c, _ = x.shape
        n, p = self.tokens_for(x.shape[-1]), self.patch_size
        return x[..., : n * p].reshape(b, c, n, p).permute(0, 2, 1, 3).reshape(b, n, c * p)

    def unpatchify(self, patches: torch.Tensor) -> torch.Tensor:
        """(B, L, C * P) -> (B, C, L * P), the inverse of :meth:`patchify`."""
        b, n, _ = patches.shape
        c, p = self.in_channels, self.patch_size
        return patches.reshape(b, n, c, p).permute(0, 2, 1, 3).reshape(b, c, n * p)

    def embed_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) -> (B, L, D) patch embeddings plus positions, before any block.

        The strided convolution (kernel = stride = P, no padding) is computed as what it is, one linear map of
        each flattened patch (:meth:`patchify` order matches the kernel's (C, P) layout): the same numbers,
        several times faster on a CPU than a convolution with a kernel as long as its stride."""
        tokens = F.linear(self.patchify(x), self.patch_embed.weight.flatten(1), self.patch_embed.bias)
        return tokens + self.pos_embed[: tokens.shape[1]].to(tokens.dtype)

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, K, D) embedded tokens (all or a kept subset) -> (B, K, D) after the blocks and LayerNorm."""
        for block in self.blocks:
            tokens = block(tokens)
        return self.norm(tokens)

    def forward_encoder(
        self, x: torch.Tensor, mask_ratio: float = 0.0, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """MAE's encoder pass: embed, keep a random K = int(L (1 - mask_ratio)) tokens, encode them.

        Returns latent (B, K, D), mask (B, L) with 1 = removed, and ids_restore (B, L) from
        :func:`physiofm.models.random_masking`. With ``mask_ratio`` 0 every token is kept in order.
        """
        tokens = self.embed_tokens(x)
        if mask_ratio == 0:
            b, n, _ = tokens.shape
            mask = torch.zeros(b, n, device=tokens.device, dtype=tokens.dtype)
            ids = torch.arange(n, device=tokens.device).expand(b, n)
            return self.encode(tokens), mask, ids
        kept, mask, ids_restore = random_masking(tokens, mask_ratio, generator)
        return self.encode(kept), mask, ids_restore

    def forward_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) -> (B, L, D) encoded tokens of the whole, unmasked input."""
        return self.encode(self.embed_tokens(x))

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Time tokens before pooling, the backbone interface (:mod:`physiofm.models.backbones`): (B, L, D),
        one per patch of P samples; :meth:`forward` is their mean."""
        return self.forward_tokens(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) mV -> (B, D): the mean of the encoded tokens."""
        return self.forward_tokens(x).mean(dim=1)


def vit1d_parameter_count(
    in_channels: int, patch_size: int, depth: int, width: int, mlp_ratio: float = 4.0
) -> int:
    """Closed-form parameter count of :class:`ViT1D` (the positional table is a buffer, not a parameter)."""
    hidden = int(width * mlp_ratio)
    block = 4 * width * width + 4 * width + 2 * width * hidden + hidden + width + 4 * width
    return in_channels * patch_size * width + width + depth * block + 2 * width
