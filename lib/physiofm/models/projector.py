"""Projection head from encoder features to a shared embedding space.

AnyPPG (Methods): Linear 1024 -> 512, GELU, Linear 512 -> 256.
"""

from __future__ import annotations

import torch
from torch import nn


class Projector(nn.Module):
    """Two-layer MLP head: Linear(in_dim, hidden_dim) -> GELU -> Linear(hidden_dim, out_dim).

    Input (B, in_dim) encoder features; output (B, out_dim), not normalised (the caller L2-normalises).
    Defaults are AnyPPG's (Methods, "Model architecture"): 1024 -> 512 -> 256.
    """

    def __init__(self, in_dim: int = 1024, hidden_dim: int = 512, out_dim: int = 256) -> None:
        super().__init__()
        self.in_dim, self.hidden_dim, self.out_dim = in_dim, hidden_dim, out_dim
        self.net = nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.GELU(), nn.Linear(hidden_dim, out_dim))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.in_dim:
            raise ValueError(f"Projector expects (B, {self.in_dim}) features, got {tuple(z.shape)}")
        return self.net(z)
