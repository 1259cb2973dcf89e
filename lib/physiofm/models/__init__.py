"""Encoders and building blocks: Net1D (ECGFounder / AnyPPG), SyneCo's encoder, fusion and channel dropout."""

from physiofm.models.backbones import backbone_names, build_backbone, build_encoder, register_backbone
from physiofm.models.channel_dropout import ChannelDropout, channel_keep_mask
from physiofm.models.encoder import Encoder
from physiofm.models.fusion import FusionTransformer
from physiofm.models.masking import random_masking
from physiofm.models.net1d import ANYPPG_CONFIG, ECGFOUNDER_CONFIG, Net1D
from physiofm.models.projector import Projector

__all__ = [
    "ANYPPG_CONFIG",
    "ECGFOUNDER_CONFIG",
    "ChannelDropout",
    "Encoder",
    "FusionTransformer",
    "Net1D",
    "Projector",
    "channel_keep_mask",
    "backbone_names",
    "build_backbone",
    "build_encoder",
    "random_masking",
    "register_backbone",
]
