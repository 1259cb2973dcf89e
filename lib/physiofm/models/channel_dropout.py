"""SyneCo channel dropout (§2.2), applied to the L2-normalised channel embeddings before fusion.

The paper's procedure, taken literally and drawn independently for every segment of the batch:
    1. each of the M channel embeddings is zeroed independently with probability ``p`` (0.4);
    2. with probability ``pair_p`` (0.3) a complementary event zeros two of the M channels at once
       (a uniformly chosen pair), on top of step 1;
    3. hard constraint: if every channel ended up zeroed, one channel chosen uniformly at random is kept.
Validation and inference (``module.eval()``) pass all channels through.

For M = 3 this gives: each channel dropped with probability 0.52 before the constraint, all three dropped with
probability 0.7 * 0.4**3 + 0.3 * 0.4 = 0.1648, hence 0.52 - 0.1648 / 3 ~= 0.4651 after it
(tests/test_fusion.py checks the empirical rates against an exact enumeration of the procedure).
"""

from __future__ import annotations

import torch
from torch import nn


def channel_keep_mask(
    batch: int,
    channels: int,
    p: float = 0.4,
    pair_p: float = 0.3,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Bool (batch, channels) mask, True = channel kept, drawn by the §2.2 procedure above."""
    if channels < 1:
        raise ValueError(f"channel dropout needs at least one channel, got {channels}")
    if not (0.0 <= p <= 1.0 and 0.0 <= pair_p <= 1.0):
        raise ValueError(f"probabilities must lie in [0, 1], got p={p}, pair_p={pair_p}")

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator, device=device)

    drop = uniform(batch, channels) < p
    if channels >= 2:
        # a uniformly random pair = the two lowest of M i.i.d. uniform scores
        pair = uniform(batch, channels).argsort(dim=1)[:, :2]
        pair_event = uniform(batch, 1) < pair_p
        drop |= torch.zeros_like(drop).scatter_(1, pair, True) & pair_event
    all_dropped = drop.all(dim=1)
    rescued = torch.randint(channels, (batch,), generator=generator, device=device)
    drop[all_dropped, rescued[all_dropped]] = False
    return ~drop


class ChannelDropout(nn.Module):
    """(B, M, D) channel embeddings -> same shape with dropped channels zeroed (training only).

    The surviving embeddings are not rescaled: §2.2 zeros channels, it does not re-weight them.
    """

    def __init__(self, p: float = 0.4, pair_p: float = 0.3) -> None:
        super().__init__()
        self.p, self.pair_p = p, pair_p

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.ndim != 3:
            raise ValueError(f"ChannelDropout expects (B, M, D), got {tuple(tokens.shape)}")
        if not self.training:
            return tokens
        keep = channel_keep_mask(tokens.shape[0], tokens.shape[1], self.p, self.pair_p, device=tokens.device)
        return tokens * keep.unsqueeze(-1).to(tokens.dtype)

    def extra_repr(self) -> str:
        return f"p={self.p}, pair_p={self.pair_p}"
