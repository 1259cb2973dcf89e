"""Encoders and building blocks: Net1D (ECGFounder / AnyPPG), SyneCo's encoder, fusion and channel dropout,
hybrid_ecg's ViT-1D with its MAE decoder and the 1-D ResNet-50 baseline, MultiMAE and the masking."""

from physiofm.models.channel_dropout import ChannelDropout, channel_keep_mask
from physiofm.models.encoder import Encoder
from physiofm.models.fusion import FusionTransformer
from physiofm.models.mae_decoder import MAEDecoder
from physiofm.models.masking import (
    modality_mask,
    multimodal_mask,
    overall_mask_ratio,
    random_masking,
    visible_count,
)
from physiofm.models.multimae import MultiMAE, MultiMAEConfig
from physiofm.models.net1d import ANYPPG_CONFIG, ECGFOUNDER_CONFIG, Net1D
from physiofm.models.pretrained import read_state_dict
from physiofm.models.projector import Projector
from physiofm.models.resnet1d import ResNet1D
from physiofm.models.vit1d import ViT1D, vit1d_parameter_count

__all__ = [
    "ANYPPG_CONFIG",
    "ECGFOUNDER_CONFIG",
    "ChannelDropout",
    "Encoder",
    "FusionTransformer",
    "MAEDecoder",
    "MultiMAE",
    "MultiMAEConfig",
    "Net1D",
    "Projector",
    "ResNet1D",
    "ViT1D",
    "channel_keep_mask",
    "modality_mask",
    "multimodal_mask",
    "overall_mask_ratio",
    "random_masking",
    "read_state_dict",
    "visible_count",
    "vit1d_parameter_count",
]
