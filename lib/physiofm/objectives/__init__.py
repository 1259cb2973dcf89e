"""Pretraining losses, open_clip style: each a small function with its formula in the module docstring."""

from physiofm.objectives.byol import BYOLLoss, byol_loss, byol_momentum, ema_update
from physiofm.objectives.clip import ClipLoss, LogitScale, clip_loss
from physiofm.objectives.ets import SigLipETS, ets_floor, ets_loss, ets_targets
from physiofm.objectives.gather import gather, global_batch
from physiofm.objectives.infonce import NTXentLoss, info_nce, masked_info_nce
from physiofm.objectives.mem import mem_targets
from physiofm.objectives.mlm import mlm_loss, mlm_mask
from physiofm.objectives.n3s import FarthestNegativeSampler, draw_negatives, negative_rows
from physiofm.objectives.reconstruction import masked_modality_mse, masked_reconstruction_loss
from physiofm.objectives.sleepfm import sleepfm_loo_loss, sleepfm_pairwise_loss

__all__ = [
    "BYOLLoss",
    "ClipLoss",
    "FarthestNegativeSampler",
    "LogitScale",
    "NTXentLoss",
    "SigLipETS",
    "byol_loss",
    "byol_momentum",
    "clip_loss",
    "draw_negatives",
    "ema_update",
    "ets_floor",
    "ets_loss",
    "ets_targets",
    "gather",
    "global_batch",
    "info_nce",
    "masked_info_nce",
    "masked_modality_mse",
    "masked_reconstruction_loss",
    "mem_targets",
    "mlm_loss",
    "mlm_mask",
    "negative_rows",
    "sleepfm_loo_loss",
    "sleepfm_pairwise_loss",
]
