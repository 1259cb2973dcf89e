"""The 1-D ResNet-50 baseline: torchvision's layout, 1-D kernels (53 convolutions), 2048 pooled features."""

from __future__ import annotations

import torch

from physiofm.models import ResNet1D


def resnet50_parameters(in_channels: int, spatial_dims: int, classes: int | None) -> int:
    """Parameters of ResNet-50 (v1.5) with k x k kernels as k ** spatial_dims; fc on top when ``classes``."""
    k = lambda size: size**spatial_dims  # noqa: E731
    total = in_channels * 64 * k(7) + 2 * 64  # stem conv + BN
    channels = 64
    for i, blocks in enumerate((3, 4, 6, 3)):
        w = 64 * 2**i
        for b in range(blocks):
            total += channels * w + 2 * w + w * w * k(3) + 2 * w + w * 4 * w + 2 * 4 * w
            if b == 0:
                total += channels * 4 * w + 2 * 4 * w  # 1x1 projection shortcut + BN
            channels = 4 * w
    return total + (channels * classes + classes if classes else 0)


def test_counting_rule_reproduces_torchvision_resnet50() -> None:
    # torchvision.models.resnet50(): 25,557,032 parameters (3 input channels, 1000 classes)
    assert resnet50_parameters(3, 2, 1000) == 25_557_032


def test_resnet50_1d_structure_and_parameters() -> None:
    with torch.device("meta"):
        model = ResNet1D.resnet50(in_channels=12)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv1d)]
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert len(convs) == 53 and len(norms) == 53  # + torchvision's fc = the 54 weighted layers of "50"
    assert [len(layer) for layer in (model.layer1, model.layer2, model.layer3, model.layer4)] == [3, 4, 6, 3]
    n = sum(p.numel() for p in model.parameters())
    assert n == resnet50_parameters(12, 1, None) == 15_959_168
    assert model.out_features == 2048


def test_forward_shape_and_gradients() -> None:
    torch.manual_seed(0)
    model = ResNet1D.resnet50(in_channels=12)
    x = torch.randn(2, 12, 500)  # 2 s at 250 Hz keeps the CPU test short
    y = model(x)
    assert y.shape == (2, 2048) and torch.isfinite(y).all()
    assert model.forward_features(x).shape == (2, 2048, 16)  # 500 / 32, rounded up
    y.sum().backward()
    assert model.conv1.weight.grad is not None
