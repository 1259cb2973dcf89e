"""Analyses of trained models: attention rollout, raw-attention summaries, relative source variance."""

from physiofm.analysis.attention import lag_profile, layer_attention, modality_blocks
from physiofm.analysis.rollout import attention_rollout
from physiofm.analysis.rsv import SourceVariance, relative_source_variance

__all__ = [
    "SourceVariance",
    "attention_rollout",
    "lag_profile",
    "layer_attention",
    "modality_blocks",
    "relative_source_variance",
]
