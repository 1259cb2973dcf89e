"""Encoders and building blocks: Net1D (ECGFounder / AnyPPG), SyneCo's encoder, fusion and channel dropout,
hybrid_ecg's ViT-1D with its MAE decoder and the 1-D ResNet-50 baseline, MultiMAE and the masking,
D-BETA's ECG conv-transformer, text encoders, co-attention fusion and MEM decoder; the token fusion of the
benchmark's ``syneco_tokens``."""

from physiofm.models.backbones import backbone_names, build_backbone, build_encoder, register_backbone
from physiofm.models.channel_dropout import ChannelDropout, channel_keep_mask
from physiofm.models.coattention import CoAttentionFusion, CoAttentionLayer, FirstTokenPooler
from physiofm.models.dbeta import DBetaModel, DBetaOutput, MLMHead
from physiofm.models.ecg_conv_transformer import ECGClsFeatures, ECGConvTransformer, ECGEncoderConfig
from physiofm.models.encoder import Encoder
from physiofm.models.fusion import FusionTransformer
from physiofm.models.lead_masking import random_lead_masking
from physiofm.models.mae_decoder import MAEDecoder
from physiofm.models.masking import (
    modality_mask,
    multimodal_mask,
    overall_mask_ratio,
    random_masking,
    visible_count,
)
from physiofm.models.mem_decoder import MEMDecoder
from physiofm.models.multimae import MultiMAE, MultiMAEConfig, TokenEncoder
from physiofm.models.net1d import ANYPPG_CONFIG, ECGFOUNDER_CONFIG, Net1D
from physiofm.models.pretrained import read_state_dict
from physiofm.models.projector import Projector
from physiofm.models.resnet1d import ResNet1D
from physiofm.models.text_encoder import ScratchTextEncoder, T5TextEncoder, TextEncoder, TextFeatures
from physiofm.models.token_fusion import TokenFusion
from physiofm.models.vit1d import ViT1D, vit1d_parameter_count

__all__ = [
    "ANYPPG_CONFIG",
    "ChannelDropout",
    "CoAttentionFusion",
    "CoAttentionLayer",
    "DBetaModel",
    "DBetaOutput",
    "ECGClsFeatures",
    "ECGConvTransformer",
    "ECGEncoderConfig",
    "ECGFOUNDER_CONFIG",
    "Encoder",
    "FirstTokenPooler",
    "FusionTransformer",
    "MAEDecoder",
    "MEMDecoder",
    "MLMHead",
    "MultiMAE",
    "MultiMAEConfig",
    "Net1D",
    "Projector",
    "ResNet1D",
    "ScratchTextEncoder",
    "T5TextEncoder",
    "TextEncoder",
    "TextFeatures",
    "TokenFusion",
    "TokenEncoder",
    "ViT1D",
    "channel_keep_mask",
    "backbone_names",
    "build_backbone",
    "build_encoder",
    "modality_mask",
    "multimodal_mask",
    "overall_mask_ratio",
    "random_lead_masking",
    "random_masking",
    "read_state_dict",
    "register_backbone",
    "visible_count",
    "vit1d_parameter_count",
]
