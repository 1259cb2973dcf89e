"""Projection heads from encoder features to the space a loss compares in.

AnyPPG (Methods): Linear 1024 -> 512, GELU, Linear 512 -> 256. BYOL (Grill et al. 2020): Linear ->
BatchNorm -> ReLU -> Linear, as projector (4096 hidden, 256 out) and as predictor.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU}


class Projector(nn.Module):
    """Two-layer MLP head: Linear(in_dim, hidden_dim) -> [BatchNorm] -> activation -> Linear(hidden_dim,
    out_dim).

    Input (B, in_dim) encoder features; output (B, out_dim), not normalised (the caller or the loss
    L2-normalises). Defaults are AnyPPG's (Methods, "Model architecture"): 1024 -> 512 -> 256, GELU, no norm.
    """

    def __init__(self, in_dim: int = 1024, hidden_dim: int = 512, out_dim: int = 256, *,
                 batch_norm: bool = False, activation: Literal["gelu", "relu"] = "gelu") -> None:
        super().__init__()
        self.in_dim, self.hidden_dim, self.out_dim = in_dim, hidden_dim, out_dim
        layers: list[nn.Module] = [nn.Linear(in_dim, hidden_dim)]
        if batch_norm:
            layers.append(nn.BatchNorm1d(hidden_dim))
        layers += [ACTIVATIONS[activation](), nn.Linear(hidden_dim, out_dim)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.in_dim:
            raise ValueError(f"Projector expects (B, {self.in_dim}) features, got {tuple(z.shape)}")
        return self.net(z)
