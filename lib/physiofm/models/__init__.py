"""Encoders and building blocks: Net1D (ECGFounder / AnyPPG), SyneCo's encoder, fusion, channel dropout,
MultiMAE and its masking."""

from physiofm.models.channel_dropout import ChannelDropout, channel_keep_mask
from physiofm.models.encoder import Encoder
from physiofm.models.fusion import FusionTransformer
from physiofm.models.masking import (
    modality_mask,
    multimodal_mask,
    overall_mask_ratio,
    random_masking,
    visible_count,
)
from physiofm.models.multimae import MultiMAE, MultiMAEConfig
from physiofm.models.net1d import ANYPPG_CONFIG, ECGFOUNDER_CONFIG, Net1D
from physiofm.models.projector import Projector

__all__ = [
    "ANYPPG_CONFIG",
    "ECGFOUNDER_CONFIG",
    "ChannelDropout",
    "Encoder",
    "FusionTransformer",
    "MultiMAE",
    "MultiMAEConfig",
    "Net1D",
    "Projector",
    "channel_keep_mask",
    "modality_mask",
    "multimodal_mask",
    "overall_mask_ratio",
    "random_masking",
    "visible_count",
]
