"""Pretraining losses, open_clip style: each a small function with its formula in the module docstring."""

from physiofm.objectives.byol import BYOLLoss, byol_loss, byol_momentum, ema_update
from physiofm.objectives.clip import ClipLoss, LogitScale, clip_loss
from physiofm.objectives.infonce import NTXentLoss, info_nce, masked_info_nce
from physiofm.objectives.reconstruction import masked_modality_mse, masked_reconstruction_loss
from physiofm.objectives.sleepfm import sleepfm_loo_loss, sleepfm_pairwise_loss

__all__ = [
    "BYOLLoss",
    "ClipLoss",
    "LogitScale",
    "NTXentLoss",
    "byol_loss",
    "byol_momentum",
    "clip_loss",
    "ema_update",
    "info_nce",
    "masked_info_nce",
    "masked_modality_mse",
    "masked_reconstruction_loss",
    "sleepfm_loo_loss",
    "sleepfm_pairwise_loss",
]
