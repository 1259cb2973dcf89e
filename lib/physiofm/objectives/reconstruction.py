"""Masked reconstruction loss of MultiMAE (Fang et al. §3.3; MultiMAE, Bachmann et al. 2022):

    err[b, m, t]  = mean_s (pred[b, m, t, s] - target[b, m, t, s])^2          MSE per token (chunk)
    loss_m        = sum_{b,t} err * hidden / sum_{b,t} hidden                 mean over m's hidden tokens
    loss          = sum_m loss_m                                              summed over modalities

Only hidden tokens count ("the loss is calculated only over the reconstructed signal corresponding to the
dropped tokens"), so a dropped modality is rebuilt from the others. A modality with no hidden token in the
batch adds 0. Targets are the raw (z-scored) chunks: no per-token normalisation ([D]; MAE's norm_pix_loss
off).
"""

from __future__ import annotations

import torch


def masked_modality_mse(
    pred: torch.Tensor, target: torch.Tensor, hidden: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """pred, target (B, M, T, S); hidden (B, M, T) bool -> (scalar loss, per-modality losses (M,))."""
    if pred.shape != target.shape or pred.ndim != 4 or hidden.shape != pred.shape[:3]:
        raise ValueError(
            f"expected pred and target (B, M, T, S) and hidden (B, M, T); got {tuple(pred.shape)}, "
            f"{tuple(target.shape)}, {tuple(hidden.shape)}"
        )
    err = (pred - target).pow(2).mean(dim=-1)
    weight = hidden.to(err.dtype)
    per_modality = (err * weight).sum(dim=(0, 2)) / weight.sum(dim=(0, 2)).clamp_min(1.0)
    return per_modality.sum(), per_modality
