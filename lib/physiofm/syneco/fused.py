"""SyneCo, Stack and SyneCo 2mod: per-channel encoders -> channel dropout -> fusion -> dual InfoNCE.

For a batch of segments, two views s(1), s(2) (noise sigma 0.05, then x0.9; one operator for all channels):
    e_m(v) = Encoder_m(s_m(v))                       (B, 512) unit norm, m in channels
    z(v)   = Fusion(ChannelDropout([e_m(v)]_m))      (B, 512)   -- Stack: flatten instead, (B, 512 M)
    L      = InfoNCE(z(1), z(2)) + alpha * mean_m InfoNCE(e_m(1), e_m(2))      (eq. 1-2, alpha = 0.5)
InfoNCE is :func:`physiofm.objectives.info_nce` (symmetric, same-view blocks in the negatives). The
per-channel term uses the embeddings before channel dropout, so every encoder gets gradient on every batch.
Channel dropout is drawn per segment and independently for the two views. Both views go through each encoder
in one pass (2B rows).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from physiofm.augment import SyneCoAugment
from physiofm.models import ChannelDropout, FusionTransformer
from physiofm.objectives import info_nce
from physiofm.syneco.common import build_encoders, channel_inputs, concat_present, device_of, evaluating
from physiofm.syneco.config import SyneCoConfig


class FusedModel(nn.Module):
    """Per-channel encoders + channel dropout + fusion (``fusion=True``) or concatenation (Stack)."""

    def __init__(self, channels: Sequence[str], config: SyneCoConfig, fusion: bool = True) -> None:
        super().__init__()
        self.channels = tuple(channels)
        self.encoders = build_encoders(self.channels, config)
        self.channel_dropout = ChannelDropout(config.channel_dropout_p, config.channel_pair_p)
        self.fusion = (
            FusionTransformer(
                config.embed_dim, config.fusion_heads, config.fusion_ff_mult, config.fusion_dropout
            )
            if fusion
            else None
        )
        self.embed_dim = config.embed_dim

    def encode(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """{channel: (B, 1, T)} -> {channel: (B, 512)} for the channels present."""
        return {ch: self.encoders[ch](x) for ch, x in inputs.items()}

    def fuse(self, embeddings: dict[str, torch.Tensor]) -> torch.Tensor:
        """Channel dropout (training only) then fusion or concatenation; absent channels enter as zero tokens.

        Returns (B, 512) for SyneCo, (B, 512 M) for Stack.
        """
        ref = next(iter(embeddings.values()))
        tokens = torch.stack(
            [embeddings[ch] if ch in embeddings else torch.zeros_like(ref) for ch in self.channels], dim=1
        )
        tokens = self.channel_dropout(tokens)
        if self.fusion is None:
            return tokens.flatten(1)
        return self.fusion(tokens)


class FusedObjective:
    """Dual InfoNCE of SyneCo: ``(model, batch) -> (loss, logs)``."""

    def __init__(self, config: SyneCoConfig) -> None:
        self.temperature, self.alpha = config.temperature, config.alpha
        self.augment = SyneCoAugment(config.noise_sigma, config.amplitude_scale)

    def __call__(
        self, model: FusedModel, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        inputs = channel_inputs(batch, model.channels, device_of(model))
        n = next(iter(inputs.values())).shape[0]
        v1, v2 = self.augment(inputs, model.channels), self.augment(inputs, model.channels)
        both = {ch: torch.cat([v1[ch], v2[ch]]) for ch in model.channels}
        e = model.encode(both)
        per_channel = {ch: info_nce(x[:n], x[n:], self.temperature) for ch, x in e.items()}
        mod = torch.stack(list(per_channel.values())).mean()
        z = model.fuse(e)
        fused = info_nce(z[:n], z[n:], self.temperature)
        loss = fused + self.alpha * mod
        logs = {
            "loss": float(loss.detach()),
            "fused_loss": float(fused.detach()),
            "mod_loss": float(mod.detach()),
        }
        logs.update({f"mod_loss_{ch}": float(v.detach()) for ch, v in per_channel.items()})
        return loss, logs


def embed_fused(model: FusedModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Frozen embeddings: each present channel (B, 512); "fused": fusion output (B, 512) -- Stack: the
    concatenation with absent channels zeroed (B, 512 M); "concat": present channels concatenated."""
    with evaluating(model):
        inputs = channel_inputs(batch, model.channels, device_of(model), required=False)
        e = model.encode(inputs)
        out = dict(e)
        out["fused"] = model.fuse(e)
        out["concat"] = concat_present(e, model.channels)
    return out
