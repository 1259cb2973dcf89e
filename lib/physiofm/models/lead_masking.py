"""Random lead masking (Oh et al. 2022's RLM; D-BETA §3.1's training augmentation).

Each lead of each record is zeroed independently with probability p (0.5 in D-BETA), so a record can even lose
all twelve (probability 0.5^12); surviving leads are not rescaled. As the authors' ``RandomLeadsMask``.
"""

from __future__ import annotations

import torch


def random_lead_masking(
    x: torch.Tensor, p: float = 0.5, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, C, T) ECG -> (masked ECG, keep (B, C) bool), each lead zeroed with probability ``p``."""
    if x.ndim != 3:
        raise ValueError(f"random_lead_masking expects (B, C, T), got {tuple(x.shape)}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"lead masking probability must be in [0, 1], got {p}")
    keep = torch.rand(x.shape[:2], generator=generator, device=x.device) >= p
    return x * keep.unsqueeze(-1).to(x.dtype), keep
