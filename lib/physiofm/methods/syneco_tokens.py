"""``syneco_tokens`` (ours): SyneCo with a fusion that can see timing (the benchmark part, issue 16).

SyneCo pools each channel over time before its fusion, which erases the delay between an ECG R peak and the
PPG pulse it causes; the synergy notebook finds every method at chance on the label that delay sets
(``hypertensive``). Here the per-channel encoders emit time tokens at a common resolution and the fusion
attends across channels and time before pooling (:class:`physiofm.models.TokenFusion`); the rest is SyneCo:

    t_m(v) = Encoder_m.tokens(s_m(v))  (B, T, F) -> pooled to n_tokens per segment -> Linear F -> D_f
    e_m(v) = Encoder_m.pool(t_m(v))    (B, 512) unit norm          (SyneCo's per-channel embedding)
    z(v)   = TokenFusion(ChannelDropout([t_m(v)]_m))  (B, D_f)     (a dropped channel: all its tokens zero)
    L      = InfoNCE(z(1), z(2)) + alpha * mean_m InfoNCE(e_m(1), e_m(2))     (SyneCo eq. 1-2)

Time resolution: ``n_tokens`` tokens per channel over a whole segment (250 over 10 s: 40 ms, fine enough for
a 150-350-ms delay); each channel's token map is average-pooled to that count, so the encoders' own strides
must give at least as many tokens (the benchmark's Net1D gives exactly 250: stem stride 20 at 500 Hz, 5 at
125 Hz, stride-1 stages).

Training views are joint random crops of ``crop_tokens`` tokens [D]: one start per segment and view, the same
for every channel, so the cross-channel delay is kept while the two views differ in where the beats fall
(without it, the exact beat positions, shared by both views, identify a segment and the InfoNCE needs nothing
else). Crops also make a training step cheaper; probes embed whole segments, which the windowed fusion
handles alike (its positions are relative to the window). ``crop_tokens`` None trains on whole segments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from physiofm.augment import augment_view
from physiofm.methods.base import Batch, register
from physiofm.methods.channels import ChannelMethod, concat_present
from physiofm.methods.syneco import CHANNELS
from physiofm.models import ChannelDropout, TokenFusion
from physiofm.objectives import info_nce


@dataclass
class SyneCoTokensConfig:
    channels: tuple[str, ...] = CHANNELS  # SyneCo §2.1
    encoder: dict[str, Any] | None = None  # as SyneCo; its backbone must offer time tokens
    encoders: dict[str, dict[str, Any]] = field(default_factory=dict)
    temperature: float = 0.1  # as SyneCo
    alpha: float = 0.5  # SyneCo eq. (2)
    channel_dropout_p: float = 0.4  # SyneCo §2.2
    channel_pair_p: float = 0.3  # SyneCo §2.2
    noise_sigma: float = 0.05  # SyneCo §2.3
    amplitude_scale: float = 0.9  # SyneCo §2.3
    n_tokens: int = 250  # [D] time tokens per channel over a whole segment: 40 ms for 10 s
    crop_tokens: int | None = 100  # [D] joint random crop of each training view (4 s); None: whole segments
    fusion_dim: int = 64  # [D] token width of the fusion
    fusion_depth: int = 2  # [D] one unshifted and one shifted window layer
    fusion_heads: int = 4  # as SyneCo's fusion
    fusion_ff_mult: int = 2  # [D]
    fusion_window: int = 25  # [D] time steps per attention window: 1 s at 40 ms
    fusion_dropout: float = 0.0  # [D]

    def __post_init__(self) -> None:
        if self.n_tokens % self.fusion_window:
            raise ValueError(f"n_tokens {self.n_tokens} must be a multiple of fusion_window "
                             f"{self.fusion_window}")
        if self.crop_tokens is not None and not (0 < self.crop_tokens <= self.n_tokens):
            raise ValueError(f"crop_tokens must lie in 1..n_tokens ({self.n_tokens}), got {self.crop_tokens}")


class SyneCoTokens(ChannelMethod):
    """Per-channel encoders with time tokens + channel dropout + token fusion, trained with the dual InfoNCE.

    Embeddings: each present channel's pooled embedding (B, D), ``concat`` of them, and ``fused`` (the probe
    key, (B, fusion_dim)); a channel a task lacks enters the fusion as zero tokens.
    """

    def __init__(self, config: SyneCoTokensConfig) -> None:
        super().__init__(config.channels, config.encoder, config.encoders)
        c = self.config = config
        self.token_proj = nn.ModuleDict({ch: nn.Linear(self.encoders[ch].token_features, c.fusion_dim)
                                         for ch in self.inputs})
        self.fusion = TokenFusion(c.fusion_dim, len(self.inputs), c.fusion_window, c.fusion_depth,
                                  c.fusion_heads, c.fusion_ff_mult, c.fusion_dropout)
        self.channel_dropout = ChannelDropout(c.channel_dropout_p, c.channel_pair_p)
        self.probe_key = "fused"

    @property
    def feature_dim(self) -> int:
        return self.config.fusion_dim

    def _samples_per_token(self, inputs: Mapping[str, torch.Tensor]) -> dict[str, int]:
        out = {}
        for ch, x in inputs.items():
            if x.shape[-1] % self.config.n_tokens:
                raise ValueError(f"syneco_tokens: channel {ch!r} has {x.shape[-1]} samples, not a multiple "
                                 f"of n_tokens={self.config.n_tokens}")
            out[ch] = x.shape[-1] // self.config.n_tokens
        return out

    def crop(self, inputs: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """One joint random crop of ``crop_tokens`` tokens per segment (the same span of every channel)."""
        c = self.config
        spt = self._samples_per_token(inputs)
        b = next(iter(inputs.values())).shape[0]
        dev = next(iter(inputs.values())).device
        start = torch.randint(0, c.n_tokens - c.crop_tokens + 1, (b,), device=dev)
        out = {}
        for ch, x in inputs.items():
            idx = start[:, None] * spt[ch] + torch.arange(c.crop_tokens * spt[ch], device=dev)[None, :]
            out[ch] = x.gather(2, idx[:, None, :])
        return out

    def channel_tokens(self, inputs: Mapping[str, torch.Tensor],
                       n: int) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """{channel: (B, 1, T)} -> ({channel: (B, n, fusion_dim)} tokens, {channel: (B, D)} embeddings)."""
        tokens, emb = {}, {}
        for ch, x in inputs.items():
            t = self.encoders[ch].tokens(x)
            emb[ch] = self.encoders[ch].pool(t)
            if t.shape[1] < n:
                raise ValueError(f"syneco_tokens: the {ch!r} encoder gives {t.shape[1]} tokens, fewer than "
                                 f"the {n} the fusion needs; lower its strides")
            if t.shape[1] != n:
                t = F.adaptive_avg_pool1d(t.transpose(1, 2), n).transpose(1, 2)
            tokens[ch] = self.token_proj[ch](t)
        return tokens, emb

    def fuse(self, tokens: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Channel dropout (training only) on the stacked tokens, then the token fusion: (B, fusion_dim)."""
        ref = next(iter(tokens.values()))
        x = torch.stack([tokens[ch] if ch in tokens else torch.zeros_like(ref) for ch in self.inputs], dim=1)
        b, m, t, d = x.shape
        x = self.channel_dropout(x.reshape(b, m, t * d)).reshape(b, m, t, d)
        return self.fusion(x)

    def _view(self, inputs: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], int]:
        """The inputs a training pass reads (a joint crop when configured) and their token count."""
        c = self.config
        if self.training and c.crop_tokens is not None and c.crop_tokens < c.n_tokens:
            return self.crop(inputs), c.crop_tokens
        self._samples_per_token(inputs)
        return dict(inputs), c.n_tokens

    def loss(self, batch: Batch) -> torch.Tensor:
        c = self.config
        inputs = self.channel_inputs(batch)
        n = next(iter(inputs.values())).shape[0]
        (v1, k), (v2, _) = self._view(inputs), self._view(inputs)
        v1 = augment_view(v1, self.inputs, c.noise_sigma, c.amplitude_scale)
        v2 = augment_view(v2, self.inputs, c.noise_sigma, c.amplitude_scale)
        tokens, e = self.channel_tokens({ch: torch.cat([v1[ch], v2[ch]]) for ch in self.inputs}, k)
        per_channel = {ch: info_nce(x[:n], x[n:], c.temperature) for ch, x in e.items()}
        mod = torch.stack(list(per_channel.values())).mean()
        z = self.fuse(tokens)
        fused = info_nce(z[:n], z[n:], c.temperature)
        self.logs = {"fused_loss": float(fused.detach()), "mod_loss": float(mod.detach())}
        self.logs.update({f"mod_loss_{ch}": float(v.detach()) for ch, v in per_channel.items()})
        return fused + c.alpha * mod

    def features(self, batch: Batch) -> torch.Tensor:
        """The fused representation with gradients (a joint crop in training mode when configured)."""
        inputs, k = self._view(self.channel_inputs(batch))
        return self.fuse(self.channel_tokens(inputs, k)[0])

    def embeddings(self, batch: Batch) -> dict[str, torch.Tensor]:
        inputs = self.channel_inputs(batch, required=False)
        if not inputs:
            raise KeyError(f"batch holds none of the channels {list(self.inputs)} (keys: {sorted(batch)})")
        with self.evaluating():
            tokens, e = self.channel_tokens(inputs, self.config.n_tokens)
            return {**e, "concat": concat_present(e, self.channels), "fused": self.fuse(tokens)}

    def embed_inputs(self, batch: Batch, inputs: Mapping[str, Sequence[str]],
                     stand_in: Mapping[str, tuple[str, int]] | None = None) -> dict[str, torch.Tensor]:
        """``ch:<channel>`` pooled embeddings and, per named channel set, the fusion of that set's tokens."""
        with self.evaluating():
            tokens, e = self.channel_tokens(self.channel_inputs(batch, required=False), self.config.n_tokens)
            out = {f"ch:{ch}": v for ch, v in e.items()}
            for name, chans in inputs.items():
                sub = {ch: tokens[ch] for ch in chans if ch in tokens}
                if sub:
                    out[name] = self.fuse(sub)
        return out


register("syneco_tokens", SyneCoTokensConfig)(SyneCoTokens)
