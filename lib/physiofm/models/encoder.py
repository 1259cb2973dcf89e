"""A channel encoder: a backbone's pooled features, optionally mapped to ``embed_dim`` and L2-normalised.

SyneCo (§2.1, App. C.1): Net1D -> mean pool -> Linear to 512 -> L2 normalisation. AnyPPG: the Net1D's
1024-d pooled features themselves (its projector sits in the method, not here).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from physiofm.models.net1d import Net1D


class Encoder(nn.Module):
    """(B, in_channels, T) -> (B, out_features): unit-norm ``embed_dim`` embeddings, or raw features.

    Args:
        backbone: anything mapping (B, C, T) to (B, backbone.out_features) (default
            ``Net1D.ecgfounder()``: 30,654,000 parameters, 1024-d output).
        embed_dim: width of the linear head (SyneCo: 512); None keeps the backbone's features as they are.
    """

    def __init__(self, backbone: nn.Module | None = None, embed_dim: int | None = 512) -> None:
        super().__init__()
        self.backbone = Net1D.ecgfounder() if backbone is None else backbone
        self.embed_dim = embed_dim
        self.proj = None if embed_dim is None else nn.Linear(self.backbone.out_features, embed_dim)
        self.out_features = self.backbone.out_features if embed_dim is None else embed_dim

    @classmethod
    def from_config(cls, net1d: dict[str, Any] | None = None, embed_dim: int | None = 512) -> Encoder:
        """Build from Net1D keyword arguments (``None``: the ECGFounder preset)."""
        return cls(Net1D.ecgfounder() if net1d is None else Net1D(**net1d), embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.proj is None:
            return self.backbone(x)
        return F.normalize(self.proj(self.backbone(x)), dim=-1)

    @property
    def token_features(self) -> int:
        """Width of :meth:`tokens`: the backbone's features (before the embedding head)."""
        return self.backbone.out_features

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) -> (B, T', token_features): the backbone's time tokens before pooling."""
        if not hasattr(self.backbone, "tokens"):
            raise TypeError(f"{type(self.backbone).__name__} offers no time tokens (a tokens(x) method)")
        return self.backbone.tokens(x)

    def pool(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T', token_features) -> (B, out_features): the mean over time, then the head; ``forward(x)`` ==
        ``pool(tokens(x))``, so a method that needs both encodes once."""
        pooled = tokens.mean(1)
        return pooled if self.proj is None else F.normalize(self.proj(pooled), dim=-1)
