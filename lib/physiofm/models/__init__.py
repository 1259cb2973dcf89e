"""Encoders and building blocks: Net1D (ECGFounder / AnyPPG), SyneCo's encoder, fusion and channel dropout."""

from physiofm.models.channel_dropout import ChannelDropout, channel_keep_mask
from physiofm.models.encoder import Encoder
from physiofm.models.fusion import FusionTransformer
from physiofm.models.masking import random_masking
from physiofm.models.net1d import ANYPPG_CONFIG, ECGFOUNDER_CONFIG, Net1D
from physiofm.models.pretrained import read_state_dict
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
    "random_masking",
    "read_state_dict",
]
