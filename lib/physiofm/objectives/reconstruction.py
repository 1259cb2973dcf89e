"""Masked-patch reconstruction loss of MAE (He et al. 2022, ``forward_loss``) with an L1 option.

For target patches t_l and predictions p_l (B, L, V) and the mask m_l (1 = the encoder did not see patch l),
    e_l = mean_v |p_lv - t_lv|          ("l1": hybrid_ecg's Eq. 1, "mean absolute error")
    e_l = mean_v (p_lv - t_lv)^2        ("l2": MAE's loss)
    L   = sum_{b,l} m_bl e_bl / sum_{b,l} m_bl     (only the removed patches count)
With ``norm_target`` each target patch is first standardised, (t - mean_v t) / sqrt(var_v t + 1e-6)
(MAE's ``norm_pix_loss``); hybrid_ecg reconstructs raw mV [D]. Eq. 1 writes a sum over samples; the mean is
the same objective up to a constant factor, and keeps the term on the scale of the contrastive losses it is
added to in the hybrid loss (Eq. 3) [D].
"""

from __future__ import annotations

import torch

KINDS = ("l1", "l2")


def masked_reconstruction_loss(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, kind: str = "l1", norm_target: bool = False
) -> torch.Tensor:
    """Mean per-patch error over the masked patches: pred, target (B, L, V); mask (B, L), 1 = masked."""
    if kind not in KINDS:
        raise ValueError(f"reconstruction loss must be one of {KINDS}, got {kind!r}")
    if pred.shape != target.shape or mask.shape != pred.shape[:2]:
        raise ValueError(
            f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must be (B, L, V) with mask (B, L), "
            f"got mask {tuple(mask.shape)}"
        )
    if norm_target:
        mean, var = target.mean(-1, keepdim=True), target.var(-1, keepdim=True)
        target = (target - mean) / (var + 1e-6) ** 0.5
    diff = pred - target
    per_patch = (diff.abs() if kind == "l1" else diff.pow(2)).mean(-1)
    mask = mask.to(per_patch.dtype)
    return (per_patch * mask).sum() / mask.sum().clamp(min=1)
