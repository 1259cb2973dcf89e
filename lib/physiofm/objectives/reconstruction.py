"""Masked reconstruction losses: MAE's (He et al. 2022, ``forward_loss``) with an L1 option, and MultiMAE's
per-modality sum of it.

For target patches t_l and predictions p_l (B, L, V) and the mask m_l (1 = the encoder did not see patch l),
    e_l = mean_v |p_lv - t_lv|          ("l1": hybrid_ecg's Eq. 1, "mean absolute error")
    e_l = mean_v (p_lv - t_lv)^2        ("l2": MAE's loss)
    L   = sum_{b,l} m_bl e_bl / sum_{b,l} m_bl     (only the removed patches count)
With ``norm_target`` each target patch is first standardised, (t - mean_v t) / sqrt(var_v t + 1e-6)
(MAE's ``norm_pix_loss``); hybrid_ecg reconstructs raw mV [D]. Eq. 1 writes a sum over samples; the mean is
the same objective up to a constant factor, and keeps the term on the scale of the contrastive losses it is
added to in the hybrid loss (Eq. 3) [D].

MultiMAE (Fang et al. §3.3; Bachmann et al. 2022) applies the "l2" form to each modality's tokens and sums:
    loss_m = sum_{b,t} err_bmt hidden_bmt / sum_{b,t} hidden_bmt,    loss = sum_m loss_m
Only hidden tokens count ("the loss is calculated only over the reconstructed signal corresponding to the
dropped tokens"), so a dropped modality is rebuilt from the others. A modality with no hidden token in the
batch adds 0. Targets are the raw (z-scored) chunks: no per-token normalisation ([D]).
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


def masked_modality_mse(
    pred: torch.Tensor, target: torch.Tensor, hidden: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """pred, target (B, M, T, S); hidden (B, M, T) bool -> (scalar loss, per-modality losses (M,))."""
    if pred.shape != target.shape or pred.ndim != 4 or hidden.shape != pred.shape[:3]:
        raise ValueError(
            f"expected pred and target (B, M, T, S) and hidden (B, M, T); got {tuple(pred.shape)}, "
            f"{tuple(target.shape)}, {tuple(hidden.shape)}"
        )
    per_modality = torch.stack(
        [
            masked_reconstruction_loss(pred[:, m], target[:, m], hidden[:, m], "l2")
            for m in range(pred.shape[1])
        ]
    )
    return per_modality.sum(), per_modality
