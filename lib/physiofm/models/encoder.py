"""SyneCo's per-channel encoder: Net1D -> mean pool -> Linear to 512 -> L2 normalisation (§2.1, App. C.1)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from physiofm.models.net1d import Net1D


class Encoder(nn.Module):
    """(B, in_channels, T) -> (B, embed_dim) unit-norm embedding.

    Args:
        backbone: a :class:`Net1D` (default ``Net1D.ecgfounder()``: 30,654,000 parameters, 1024-d output).
        embed_dim: width of the projection (SyneCo: 512).
    """

    def __init__(self, backbone: Net1D | None = None, embed_dim: int = 512) -> None:
        super().__init__()
        self.backbone = Net1D.ecgfounder() if backbone is None else backbone
        self.embed_dim = embed_dim
        self.proj = nn.Linear(self.backbone.out_features, embed_dim)

    @classmethod
    def from_config(cls, net1d: dict[str, Any] | None = None, embed_dim: int = 512) -> Encoder:
        """Build from Net1D keyword arguments (``None``: the ECGFounder preset)."""
        return cls(Net1D.ecgfounder() if net1d is None else Net1D(**net1d), embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.proj(self.backbone(x)), dim=-1)
