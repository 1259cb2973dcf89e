"""Masked ECG modelling, MEM (D-BETA §3.1, Eq. 2): MAE's loss on the hidden ECG tokens.

Targets (the authors' ``get_targets`` with ``norm_pix_loss``): the input ECG (B, C, T), cut to the L P samples
the L tokens cover (T = 5000 -> 312 x 16 = 4992), normalised per lead over the record,

    x_c <- (x_c - mean(x_c)) / sqrt(var(x_c) + 1e-6)          (unbiased variance, torch's default)

and cut into tokens, lead-major: target[b, l] = concat over leads c of x[b, c, l P : (l + 1) P], (B, L, C P).
A lead zeroed by lead masking has a zero target. The loss is the squared error averaged over a token's C P
values, then over the hidden tokens only:

    L_MEM = sum_{b,l} m_bl mean_p (pred - target)^2 / sum_{b,l} m_bl          m = 1 for a hidden token

which is :func:`physiofm.objectives.masked_reconstruction_loss` with ``kind="l2"``.
"""

from __future__ import annotations

import torch


def mem_targets(ecg: torch.Tensor, n_tokens: int, patch: int, normalise: bool = True,
                eps: float = 1e-6) -> torch.Tensor:
    """(B, C, T) ECG -> (B, L, C * patch) per-token targets (see the module docstring)."""
    b, c, t = ecg.shape
    if n_tokens * patch > t:
        raise ValueError(f"{n_tokens} tokens of {patch} samples need {n_tokens * patch} samples, ECG has {t}")
    x = ecg[..., : n_tokens * patch]
    if normalise:
        x = (x - x.mean(-1, keepdim=True)) / (x.var(-1, keepdim=True) + eps).sqrt()
    return x.reshape(b, c, n_tokens, patch).permute(0, 2, 1, 3).reshape(b, n_tokens, c * patch)

