"""D-BETA's ECG encoder (§3.1; sizes from the authors' config): a wav2vec-2.0-style convolutional transformer.

    ECG (B, 12, T) at 500 Hz, standard lead order I, II, III, aVR, aVL, aVF, V1-V6
      -> 4 x [Conv1d(k=2, s=2, no bias) (-> GroupNorm(C, C) on the first) -> GELU]   (B, C=256, L)
         L = 312 tokens of 16 samples (32 ms) for T = 5000; the last 8 samples are never seen
      -> LayerNorm(C) -> Linear(C -> D=768) -> dropout 0.1 ("dropout on the input")
      -> + convolutional positional encoding: GELU(WeightNorm(Conv1d(D, D, k=128, groups=16, pad 64)))
           (an even kernel with padding k/2 gives L + 1 outputs; the last one is dropped, fairseq's SamePad)
      -> [CLS; tokens] (a learnable CLS without positional encoding), optionally MAE random masking of the
         tokens (CLS always kept)
      -> LayerNorm -> dropout -> 8 post-LN transformer layers (D, 12 heads, FFN 3072, GELU)     (B, 1 + K, D)

Initialisation as the authors' code: Kaiming-normal convolutions, N(0, 0.02) linear layers (BERT), the
positional convolution N(0, sqrt(4 / (k D))) with zero bias, CLS ~ U[0, 1). The layers are PyTorch's
``nn.TransformerEncoderLayer`` (post-LN); the authors' fairseq layer has no dropout after the FFN activation
(``activation_dropout = 0``), PyTorch's applies the layer dropout there too — a difference we accept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from physiofm.models.masking import random_masking


@dataclass
class ECGEncoderConfig:
    """Sizes of :class:`ECGConvTransformer`; the defaults are the paper's (authors' ``config.json``)."""

    leads: int = 12
    conv_channels: int = 256  # conv_feature_layers "[(256, 2, 2)] * 4"
    conv_layers: int = 4
    conv_kernel: int = 2
    conv_stride: int = 2
    width: int = 768  # encoder_embed_dim
    layers: int = 8  # encoder_layers (Table 8 ablates 1 / 4 / 8)
    heads: int = 12
    ffn: int = 3072
    pos_kernel: int = 128  # conv_pos
    pos_groups: int = 16  # conv_pos_groups
    dropout: float = 0.1  # dropout and attention_dropout
    dropout_input: float = 0.1  # §3.1 "a dropout layer on the input with p = 0.1"

    @property
    def patch(self) -> int:
        """Input samples per token (16 in the paper: 2^4)."""
        return self.conv_stride**self.conv_layers


class ConvFeatureExtractor(nn.Module):
    """(B, leads, T) -> (B, C, L): stacked strided convolutions, GroupNorm(C, C) after the first."""

    def __init__(self, cfg: ECGEncoderConfig) -> None:
        super().__init__()
        blocks, cin = [], cfg.leads
        for i in range(cfg.conv_layers):
            conv = nn.Conv1d(cin, cfg.conv_channels, cfg.conv_kernel, stride=cfg.conv_stride, bias=False)
            nn.init.kaiming_normal_(conv.weight)
            norm = nn.GroupNorm(cfg.conv_channels, cfg.conv_channels) if i == 0 else nn.Identity()
            blocks.append(nn.Sequential(conv, norm, nn.GELU()))
            cin = cfg.conv_channels
        self.blocks = nn.Sequential(*blocks)
        self.kernel, self.stride, self.n = cfg.conv_kernel, cfg.conv_stride, cfg.conv_layers

    def n_tokens(self, samples: int) -> int:
        for _ in range(self.n):
            samples = (samples - self.kernel) // self.stride + 1
        return samples

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


class ConvPositionalEncoding(nn.Module):
    """(B, L, D) -> (B, L, D) relative positional signal GELU(WeightNorm(grouped Conv1d)) over the tokens."""

    def __init__(self, width: int, kernel: int, groups: int) -> None:
        super().__init__()
        conv = nn.Conv1d(width, width, kernel, padding=kernel // 2, groups=groups)
        nn.init.normal_(conv.weight, mean=0.0, std=math.sqrt(4.0 / (kernel * width)))
        nn.init.zeros_(conv.bias)
        self.conv = weight_norm(conv, name="weight", dim=2)
        self.trim = 1 if kernel % 2 == 0 else 0  # padding k/2 on both sides yields L + 1 outputs for even k
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x.transpose(1, 2))
        if self.trim:
            y = y[:, :, : -self.trim]
        return self.act(y).transpose(1, 2)


def _init_bert(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.MultiheadAttention) and module.in_proj_weight is not None:
        nn.init.normal_(module.in_proj_weight, std=0.02)
        nn.init.zeros_(module.in_proj_bias)


class ECGConvTransformer(nn.Module):
    """D-BETA ECG encoder (see the module docstring). ``forward(x, mask_ratio)`` -> (h, mask, ids_restore)."""

    def __init__(self, cfg: ECGEncoderConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or ECGEncoderConfig()
        self.cfg = cfg
        self.features = ConvFeatureExtractor(cfg)
        self.feature_norm = nn.LayerNorm(cfg.conv_channels)
        self.project = nn.Linear(cfg.conv_channels, cfg.width)
        self.dropout_input = nn.Dropout(cfg.dropout_input)
        self.pos = ConvPositionalEncoding(cfg.width, cfg.pos_kernel, cfg.pos_groups)
        self.cls = nn.Parameter(torch.rand(cfg.width))
        self.norm = nn.LayerNorm(cfg.width)
        self.dropout = nn.Dropout(cfg.dropout)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                cfg.width, cfg.heads, cfg.ffn, dropout=cfg.dropout, activation="gelu", batch_first=True,
                norm_first=False,
            )
            for _ in range(cfg.layers)
        )
        self.layers.apply(_init_bert)
        nn.init.normal_(self.project.weight, std=0.02)
        nn.init.zeros_(self.project.bias)

    @property
    def width(self) -> int:
        return self.cfg.width

    def n_tokens(self, samples: int) -> int:
        """Tokens per record of ``samples`` samples (312 for 5000)."""
        return self.features.n_tokens(samples)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """(B, leads, T) ECG in mV -> (B, L, D) embedded tokens with positions, before CLS and masking."""
        if x.ndim != 3 or x.shape[1] != self.cfg.leads:
            raise ValueError(f"ECG encoder expects (B, {self.cfg.leads}, T), got {tuple(x.shape)}")
        if self.n_tokens(x.shape[-1]) < 1:
            raise ValueError(f"ECG of {x.shape[-1]} samples is too short for {self.cfg.conv_layers} convs")
        f = self.feature_norm(self.features(x).transpose(1, 2))
        f = self.dropout_input(self.project(f))
        return f + self.pos(f)

    def forward(
        self, x: torch.Tensor, mask_ratio: float = 0.0, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Encode ECG ``x`` (B, leads, T).

        Returns:
            h: (B, 1 + K, D), CLS first, then the K = int(L (1 - mask_ratio)) kept tokens (all L when 0);
            mask: (B, L) 1 = hidden token, or None without masking;
            ids_restore: (B, L) to unshuffle [kept; mask tokens], or None without masking.
        """
        t = self.tokens(x)
        mask = ids_restore = None
        if mask_ratio > 0:
            t, mask, ids_restore = random_masking(t, mask_ratio, generator)
        h = torch.cat([self.cls.expand(t.shape[0], 1, -1), t], dim=1)
        h = self.dropout(self.norm(h))
        for layer in self.layers:
            h = layer(h)
        return h, mask, ids_restore


class ECGClsFeatures(nn.Module):
    """The ECG encoder as a channel-encoder backbone: (B, leads, T) -> (B, width), the unmasked CLS state.

    What :func:`physiofm.models.build_backbone` builds for kind ``ecg_conv_transformer`` (the ECG tower of an
    ECG-text CLIP ablation); D-BETA itself reads the CLS through its own projection and pooler.
    """

    def __init__(self, cfg: ECGEncoderConfig | None = None) -> None:
        super().__init__()
        self.encoder = ECGConvTransformer(cfg)
        self.out_features = self.encoder.width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _, _ = self.encoder(x)
        return h[:, 0]

