"""Pretraining losses, open_clip style: each a small function with its formula in the module docstring."""

from physiofm.objectives.byol import BYOLLoss, byol_loss, byol_momentum, ema_update
from physiofm.objectives.clip import ClipLoss, LogitScale, clip_loss
from physiofm.objectives.gather import gather, global_batch
from physiofm.objectives.infonce import NTXentLoss, info_nce
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
    "gather",
    "global_batch",
    "info_nce",
    "sleepfm_loo_loss",
    "sleepfm_pairwise_loss",
]
