"""SyneCo (Chen & Kim), and Stack, its concatenation ablation: per-channel encoders -> channel dropout ->
fusion -> dual InfoNCE. Registered as ``syneco`` and ``stack``; SyneCo 2mod is ``syneco`` on two channels.

For a batch of segments, two views s(1), s(2) (noise sigma 0.05, then x0.9; one operator for all channels):
    e_m(v) = Encoder_m(s_m(v))                       (B, 512) unit norm, m in channels
    z(v)   = Fusion(ChannelDropout([e_m(v)]_m))      (B, 512)   -- Stack: flatten instead, (B, 512 M)
    L      = InfoNCE(z(1), z(2)) + alpha * mean_m InfoNCE(e_m(1), e_m(2))      (eq. 1-2, alpha = 0.5)
InfoNCE is :func:`physiofm.objectives.info_nce` (symmetric, same-view blocks in the negatives). The
per-channel term uses the embeddings before channel dropout, so every encoder gets gradient on every batch.
Channel dropout is drawn per segment and independently for the two views. Both views go through each encoder
in one pass (2B rows). Probes read the fused embedding (Stack: the concatenation); a channel a task lacks
enters the fusion as a zero token, as channel dropout trained it to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from physiofm.augment import augment_view
from physiofm.methods.base import Batch, register
from physiofm.methods.channels import ChannelMethod
from physiofm.models import ChannelDropout, FusionTransformer
from physiofm.objectives import info_nce

CHANNELS = ("ecg_ii", "ecg_v", "ppg")  # batch keys: (B, 1, 5000), (B, 1, 5000), (B, 1, 1250)


@dataclass
class SyneCoConfig:
    channels: tuple[str, ...] = CHANNELS  # §2.1: ECG-II, ECG-V, PPG; SyneCo 2mod: the two ECG leads
    # Encoder spec of every channel (physiofm.models.build_encoder); None: ECGFounder Net1D + 512-d head
    # (App. C.1, §2.1). ``encoders``: per-channel replacements.
    encoder: dict[str, Any] | None = None
    encoders: dict[str, dict[str, Any]] = field(default_factory=dict)
    temperature: float = 0.1  # [D] not in the paper: SimCLR's usual NT-Xent temperature
    alpha: float = 0.5  # eq. (2): weight of the per-channel term
    channel_dropout_p: float = 0.4  # §2.2
    channel_pair_p: float = 0.3  # §2.2
    noise_sigma: float = 0.05  # §2.3
    amplitude_scale: float = 0.9  # §2.3
    fusion: bool = True  # False: Stack, concatenation instead of the fusion block (§4.4)
    fusion_heads: int = 4  # §2.1
    fusion_ff_mult: int = 4  # §2.1
    fusion_dropout: float = 0.1  # [D] nn.TransformerEncoderLayer's default


@dataclass
class StackConfig(SyneCoConfig):
    fusion: bool = False  # §4.4: fusion replaced by concatenation, all else kept


class SyneCo(ChannelMethod):
    """Per-channel encoders + channel dropout + fusion (or concatenation) trained with the dual InfoNCE.

    Embeddings: each present channel (B, D), ``concat`` of them, and ``fused`` (the probe key): the fusion
    output (B, D), for Stack the concatenation with absent channels zeroed (B, D * M).
    """

    def __init__(self, config: SyneCoConfig) -> None:
        super().__init__(config.channels, config.encoder, config.encoders)
        self.config = config
        self.channel_dropout = ChannelDropout(config.channel_dropout_p, config.channel_pair_p)
        dim = self.encoders[self.channels[0]].out_features
        self.fusion = None
        if config.fusion:
            c = config
            self.fusion = FusionTransformer(dim, c.fusion_heads, c.fusion_ff_mult, c.fusion_dropout)
        self.probe_key = "fused"

    def fuse(self, embeddings: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Channel dropout (training only), then fusion or concatenation; absent channels enter as zero
        tokens.

        Returns (B, D) for SyneCo, (B, D * M) for Stack.
        """
        ref = next(iter(embeddings.values()))
        tokens = torch.stack(
            [embeddings[ch] if ch in embeddings else torch.zeros_like(ref) for ch in self.channels], dim=1)
        tokens = self.channel_dropout(tokens)
        if self.fusion is None:
            return tokens.flatten(1)
        return self.fusion(tokens)

    represent = fuse

    @property
    def feature_dim(self) -> int:
        dim = self.encoders[self.channels[0]].out_features
        return dim if self.fusion is not None else dim * len(self.channels)

    def loss(self, batch: Batch) -> torch.Tensor:
        c = self.config
        inputs = self.channel_inputs(batch)
        n = next(iter(inputs.values())).shape[0]
        v1 = augment_view(inputs, self.channels, c.noise_sigma, c.amplitude_scale)
        v2 = augment_view(inputs, self.channels, c.noise_sigma, c.amplitude_scale)
        e = self.encode({ch: torch.cat([v1[ch], v2[ch]]) for ch in self.channels})
        per_channel = {ch: info_nce(x[:n], x[n:], c.temperature) for ch, x in e.items()}
        mod = torch.stack(list(per_channel.values())).mean()
        z = self.fuse(e)
        fused = info_nce(z[:n], z[n:], c.temperature)
        loss = fused + c.alpha * mod
        self.logs = {"fused_loss": float(fused.detach()), "mod_loss": float(mod.detach())}
        self.logs.update({f"mod_loss_{ch}": float(v.detach()) for ch, v in per_channel.items()})
        return loss


register("syneco", SyneCoConfig)(SyneCo)
register("stack", StackConfig)(SyneCo)
