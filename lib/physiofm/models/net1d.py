"""Net1D: the 1-D ResNeXt of ECGFounder (Li et al. 2025), shared by SyneCo and AnyPPG.

    x (B, C_in, T)
      -> stem: Conv1d(k=stem_kernel, stride=stem_stride, SAME) -> BN -> Swish       (B, base_filters, T/s0)
      -> stage i = 1..S, blocks[i] bottleneck blocks of width filters[i]; the first block of a stage strides
         by ``stride`` and widens, the others keep the shape
      -> mean over time                                                                   (B, filters[-1])

Bottleneck block (pre-activation; every conv is preceded by BN -> Swish -> Dropout):
    conv 1x1 (C_in -> M) -> grouped conv k (M -> M, groups = M / groups_width, stride) -> conv 1x1 (M -> C)
    -> squeeze-and-excitation (mean over time, Linear C -> C/se_ratio, Swish, Linear, sigmoid, rescale)
    + shortcut: max-pooled (kernel = stride, SAME) when strided, zero-padded on the channel axis if widening.
M = C_out * ratio (ratio 1 in both papers). The very first block skips its first pre-activation because the
stem already ends in BN -> Swish; its BatchNorm is still built, as in ECGFounder's code, so the parameter
count and the state-dict keys match the released ECGFounder checkpoints (module names as in its net1d.py).

Parameter counts this reproduces (tests/test_net1d.py):
    * ``Net1D.ecgfounder()`` (1 input channel, with BN): 30,654,000 -- the backbone of ECGFounder / SyneCo
      without the dense head or 512-d projection.
    * ``Net1D.anyppg()``: AnyPPG Table 5 -- stem 384; stages 32,064 / 156,768 / 172,320 / 1,413,720 /
      1,510,200 / 2,565,408; total 5,850,864; lengths 1250 -> 625 -> 313 -> 157 -> 79 -> 40 -> 20 for 1,250
      input samples. The block is the same as ECGFounder's; the presets differ only in the stage lists,
      kernel size (3 vs 16) and the stem stride (1 vs 2). ECGFounder's stem reuses the block kernel size,
      and AnyPPG's Table 6 stem (kernel 3) does too, so ``stem_kernel`` defaults to ``kernel_size``.
      AnyPPG's Table 6 draws the strided block as "stride-1 k-conv ... then MaxPool(2, 2)"; ECGFounder's code
      strides the k-conv and max-pools only the shortcut. Both give ceil(L / 2) samples and the same
      parameters; we follow the released code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

ECGFOUNDER_CONFIG: dict[str, Any] = dict(
    in_channels=1,
    base_filters=64,
    filters=(64, 160, 160, 400, 400, 1024, 1024),
    blocks=(2, 2, 2, 3, 3, 4, 4),
    kernel_size=16,
    stride=2,
    groups_width=16,
    stem_stride=2,
    use_bn=True,
    dropout=0.5,
)
# AnyPPG Tables 5 and 6: stem k=3 stride 1 to 64 channels, six stages, kernel 3, dropout 0.5.
ANYPPG_CONFIG: dict[str, Any] = {
    **ECGFOUNDER_CONFIG,
    "filters": (64, 160, 160, 400, 400, 1024),
    "blocks": (2, 2, 2, 3, 3, 1),
    "kernel_size": 3,
    "stem_stride": 1,
}


class Swish(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x)


class Conv1dPadSame(nn.Module):
    """Conv1d with TensorFlow-style SAME padding: output length ceil(T / stride), pad split left-low."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, groups: int = 1
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride, groups=groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[-1]
        out = (t + self.stride - 1) // self.stride
        pad = max(0, (out - 1) * self.stride + self.kernel_size - t)
        return self.conv(F.pad(x, (pad // 2, pad - pad // 2)))


class MaxPool1dPadSame(nn.Module):
    """MaxPool1d(kernel = stride) on a zero-padded input (ECGFounder's shortcut pooling): ceil(T / k) out."""

    def __init__(self, kernel_size: int) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.max_pool = nn.MaxPool1d(kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = max(0, self.kernel_size - 1)
        return self.max_pool(F.pad(x, (pad // 2, pad - pad // 2)))


class BasicBlock(nn.Module):
    """Pre-activation bottleneck block, grouped k-conv, SE: (B, C_in, T) -> (B, C_out, T')."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        ratio: float,
        kernel_size: int,
        stride: int,
        groups: int,
        is_first_block: bool,
        use_bn: bool,
        dropout: float,
        se_ratio: int,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.is_first_block = is_first_block
        mid = int(out_channels * ratio)

        def norm(c: int) -> nn.Module:
            return nn.BatchNorm1d(c) if use_bn else nn.Identity()

        self.bn1, self.activation1, self.do1 = norm(in_channels), Swish(), nn.Dropout(dropout)
        self.conv1 = Conv1dPadSame(in_channels, mid, 1)
        self.bn2, self.activation2, self.do2 = norm(mid), Swish(), nn.Dropout(dropout)
        self.conv2 = Conv1dPadSame(mid, mid, kernel_size, stride=stride, groups=groups)
        self.bn3, self.activation3, self.do3 = norm(mid), Swish(), nn.Dropout(dropout)
        self.conv3 = Conv1dPadSame(mid, out_channels, 1)
        self.se_fc1 = nn.Linear(out_channels, out_channels // se_ratio)
        self.se_activation = Swish()
        self.se_fc2 = nn.Linear(out_channels // se_ratio, out_channels)
        self.max_pool = MaxPool1dPadSame(stride) if stride > 1 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        if not self.is_first_block:  # the stem already ended in BN -> Swish
            out = self.do1(self.activation1(self.bn1(out)))
        out = self.conv1(out)
        out = self.conv2(self.do2(self.activation2(self.bn2(out))))
        out = self.conv3(self.do3(self.activation3(self.bn3(out))))

        se = torch.sigmoid(self.se_fc2(self.se_activation(self.se_fc1(out.mean(-1)))))
        out = out * se.unsqueeze(-1)

        identity = x if self.max_pool is None else self.max_pool(x)
        if self.out_channels != self.in_channels:
            extra = self.out_channels - self.in_channels
            identity = F.pad(identity.transpose(-1, -2), (extra // 2, extra - extra // 2)).transpose(-1, -2)
        return out + identity


class BasicStage(nn.Module):
    """``n_blocks`` blocks; the first strides and widens (C_in -> C_out), the rest keep (C_out, T')."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        n_blocks: int,
        *,
        i_stage: int,
        stride: int,
        groups_width: int,
        **block_kwargs: Any,
    ) -> None:
        super().__init__()
        if out_channels % groups_width:
            raise ValueError(f"stage width {out_channels} is not a multiple of groups_width={groups_width}")
        self.block_list = nn.ModuleList(
            BasicBlock(
                in_channels if i == 0 else out_channels,
                out_channels,
                stride=stride if i == 0 else 1,
                groups=out_channels // groups_width,
                is_first_block=(i_stage == 0 and i == 0),
                **block_kwargs,
            )
            for i in range(n_blocks)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.block_list:
            x = block(x)
        return x


class Net1D(nn.Module):
    """ECGFounder's Net1D backbone with mean pooling: (B, in_channels, T) -> (B, filters[-1]).

    Defaults are ECGFounder's (= :meth:`ecgfounder`). ``dropout`` is the probability of every pre-activation
    dropout (ECGFounder's code hard-codes 0.5; AnyPPG Table 6: 0.5); ``use_bn=False`` drops the BatchNorms.
    Extra keyword-only options: ``ratio`` (bottleneck width / block width, 1 in both papers), ``se_ratio``
    (squeeze-and-excitation reduction, 2), ``stem_kernel`` (defaults to ``kernel_size``, as in ECGFounder).
    """

    def __init__(
        self,
        in_channels: int = 1,
        base_filters: int = 64,
        filters: Sequence[int] = (64, 160, 160, 400, 400, 1024, 1024),
        blocks: Sequence[int] = (2, 2, 2, 3, 3, 4, 4),
        kernel_size: int = 16,
        stride: int = 2,
        groups_width: int = 16,
        stem_stride: int = 2,
        use_bn: bool = True,
        dropout: float = 0.5,
        *,
        ratio: float = 1.0,
        se_ratio: int = 2,
        stem_kernel: int | None = None,
    ) -> None:
        super().__init__()
        if len(filters) != len(blocks) or not filters:
            raise ValueError(
                f"filters {list(filters)} and blocks {list(blocks)} must be non-empty, same length"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.in_channels, self.base_filters = in_channels, base_filters
        self.filters, self.blocks = tuple(int(f) for f in filters), tuple(int(b) for b in blocks)
        self.kernel_size, self.stride, self.stem_stride = kernel_size, stride, stem_stride
        self.stem_kernel = kernel_size if stem_kernel is None else stem_kernel
        self.out_features = self.filters[-1]

        self.first_conv = Conv1dPadSame(in_channels, base_filters, self.stem_kernel, stride=stem_stride)
        self.first_bn = nn.BatchNorm1d(base_filters) if use_bn else nn.Identity()
        self.first_activation = Swish()

        block_kwargs = dict(
            ratio=ratio, kernel_size=kernel_size, use_bn=use_bn, dropout=dropout, se_ratio=se_ratio
        )
        stages, c_in = [], base_filters
        for i, (c_out, n) in enumerate(zip(self.filters, self.blocks)):
            stages.append(
                BasicStage(
                    c_in, c_out, n, i_stage=i, stride=stride, groups_width=groups_width, **block_kwargs
                )
            )
            c_in = c_out
        self.stage_list = nn.ModuleList(stages)

    @classmethod
    def ecgfounder(cls, **overrides: Any) -> Net1D:
        """ECGFounder / SyneCo backbone: stem k16 s2, [2,2,2,3,3,4,4] blocks; 30,654,000 params."""
        return cls(**{**ECGFOUNDER_CONFIG, **overrides})

    @classmethod
    def anyppg(cls, **overrides: Any) -> Net1D:
        """AnyPPG encoder (Tables 5-6): stem k3 s1, [2,2,2,3,3,1] blocks; 5,850,864 params."""
        return cls(**{**ANYPPG_CONFIG, **overrides})

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in_channels, T) -> (B, base_filters, ceil(T / stem_stride))."""
        if x.ndim != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"Net1D expects (B, {self.in_channels}, T), got {tuple(x.shape)}")
        return self.first_activation(self.first_bn(self.first_conv(x)))

    def forward_stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Maps after the stem and each stage: [(B, base_filters, T0), (B, filters[i], T_i), ...]."""
        outs = [self.stem(x)]
        for stage in self.stage_list:
            outs.append(stage(outs[-1]))
        return outs

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Last feature map before pooling, (B, filters[-1], T_last)."""
        out = self.stem(x)
        for stage in self.stage_list:
            out = stage(out)
        return out

    def receptive_field(self) -> tuple[int, int]:
        """(receptive field, stride) of one output time step, in input samples, through the convolutions (the
        squeeze-and-excitation of each block adds a global gate on top)."""
        rf, jump = self.stem_kernel, self.stem_stride
        for n in self.blocks:
            for i in range(n):
                rf += (self.kernel_size - 1) * jump
                jump *= self.stride if i == 0 else 1
        return rf, jump

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Time tokens before pooling: (B, in_channels, T) -> (B, T_last, filters[-1]), one token per
        ``stem_stride * stride ** len(stages)`` input samples; :meth:`forward` is their mean."""
        return self.forward_features(x).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in_channels, T) -> mean-pooled (B, filters[-1])."""
        return self.forward_features(x).mean(-1)
