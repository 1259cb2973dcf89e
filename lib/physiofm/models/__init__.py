"""Encoders and building blocks: Net1D (ECGFounder / AnyPPG), SyneCo's encoder, fusion and channel dropout,
D-BETA's ECG conv-transformer, text encoders, co-attention fusion and MEM decoder."""

from physiofm.models.channel_dropout import ChannelDropout, channel_keep_mask
from physiofm.models.coattention import CoAttentionFusion, CoAttentionLayer, FirstTokenPooler
from physiofm.models.dbeta import DBetaModel, DBetaOutput, MLMHead
from physiofm.models.ecg_conv_transformer import ECGConvTransformer, ECGEncoderConfig
from physiofm.models.encoder import Encoder
from physiofm.models.fusion import FusionTransformer
from physiofm.models.lead_masking import random_lead_masking
from physiofm.models.masking import random_masking
from physiofm.models.mem_decoder import MEMDecoder
from physiofm.models.net1d import ANYPPG_CONFIG, ECGFOUNDER_CONFIG, Net1D
from physiofm.models.projector import Projector
from physiofm.models.text_encoder import ScratchTextEncoder, T5TextEncoder, TextEncoder

__all__ = [
    "ANYPPG_CONFIG",
    "ECGFOUNDER_CONFIG",
    "ChannelDropout",
    "CoAttentionFusion",
    "CoAttentionLayer",
    "DBetaModel",
    "DBetaOutput",
    "ECGConvTransformer",
    "ECGEncoderConfig",
    "Encoder",
    "FirstTokenPooler",
    "FusionTransformer",
    "MEMDecoder",
    "MLMHead",
    "Net1D",
    "Projector",
    "ScratchTextEncoder",
    "T5TextEncoder",
    "TextEncoder",
    "channel_keep_mask",
    "random_lead_masking",
    "random_masking",
]
