"""1-D ResNet-50: hybrid_ecg's supervised baseline "1D-ResNet50" (Table 3).

torchvision's ``resnet50`` (He et al. 2016, the v1.5 layout that strides the 3x3 convolution) with every
2-D operator replaced by its 1-D counterpart over time:

    x (B, C, T)
      -> Conv1d(C -> 64, k 7, stride 2, pad 3) -> BN -> ReLU -> MaxPool1d(k 3, stride 2, pad 1)
      -> layer1..layer4: [3, 4, 6, 3] bottleneck blocks of width 64 / 128 / 256 / 512, expansion 4
         (outputs 256 / 512 / 1024 / 2048); the first block of layers 2-4 strides by 2
      -> mean over time                                                              (B, 2048)

Bottleneck: 1x1 conv -> BN -> ReLU -> k-3 conv (stride) -> BN -> ReLU -> 1x1 conv -> BN, plus the identity
or a 1x1 strided conv + BN shortcut where the shape changes, then ReLU. 53 convolutions (stem 1, blocks 48,
shortcuts 4) and 53 BatchNorms; the 1000-way ``fc`` of torchvision is left to the task head.

Why hand-written: torchvision has no 1-D ResNet, and its wheels are pinned to one torch release, so no
torchvision build can be installed beside the pinned torch 2.13.0 of this environment. The paper names the
model only; the 1-D transcription of the 2-D layout (kernel k x k -> k) is [D] our choice. Weights are
initialised as torchvision does (Kaiming-normal fan-out for convolutions, unit / zero BatchNorm).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

RESNET50_BLOCKS = (3, 4, 6, 3)
EXPANSION = 4


class Bottleneck1D(nn.Module):
    """(B, C_in, T) -> (B, 4 width, ceil(T / stride)) bottleneck residual block."""

    def __init__(self, in_channels: int, width: int, stride: int = 1) -> None:
        super().__init__()
        out = width * EXPANSION
        self.conv1 = nn.Conv1d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm1d(width)
        self.conv2 = nn.Conv1d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm1d(width)
        self.conv3 = nn.Conv1d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm1d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_channels != out:
            self.downsample = nn.Sequential(
                nn.Conv1d(in_channels, out, 1, stride=stride, bias=False), nn.BatchNorm1d(out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + identity)


class ResNet1D(nn.Module):
    """``forward((B, C, T)) -> (B, 8 * base_width * 4)`` time-pooled features (2048 for ResNet-50).

    Args:
        in_channels: leads C (12).
        blocks: bottleneck blocks per layer ((3, 4, 6, 3) = ResNet-50).
        base_width: width of layer1 (64); each later layer doubles it.
    """

    def __init__(
        self, in_channels: int = 12, blocks: Sequence[int] = RESNET50_BLOCKS, base_width: int = 64
    ) -> None:
        super().__init__()
        self.in_channels, self.blocks = in_channels, tuple(blocks)
        self.conv1 = nn.Conv1d(in_channels, base_width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm1d(base_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool1d(3, stride=2, padding=1)
        layers, channels = [], base_width
        for i, n in enumerate(self.blocks):
            width = base_width * 2**i
            stride = 1 if i == 0 else 2
            stage = [Bottleneck1D(channels, width, stride)]
            channels = width * EXPANSION
            stage += [Bottleneck1D(channels, width) for _ in range(n - 1)]
            layers.append(nn.Sequential(*stage))
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.out_features = channels
        for m in self.modules():
            if isinstance(m, nn.Conv1d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm1d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    @classmethod
    def resnet50(cls, in_channels: int = 12) -> ResNet1D:
        return cls(in_channels, RESNET50_BLOCKS, 64)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) -> (B, out_features, ~T / 32) feature map before pooling."""
        if x.ndim != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"ResNet1D expects (B, {self.in_channels}, T) input, got {tuple(x.shape)}")
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) mV -> (B, 2048) features averaged over time."""
        return self.forward_features(x).mean(dim=-1)
