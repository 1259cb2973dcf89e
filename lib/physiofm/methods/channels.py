"""What every method with one encoder per input channel shares (SyneCo, Stack, SleepFM, SimCLR, BYOL, CLIP).

A batch is a dict of tensors; a *channel* is one of its signal keys, ``(B, C, T)`` (``ecg_ii``, ``ppg``:
C = 1; a 12-lead ``ecg`` read by a ViT1D or D-BETA's encoder: C = 12), or a list of B texts (``report``,
read by a text tower such as ``scratch_text``). :class:`ChannelMethod` holds one encoder per channel
(weights not shared, SyneCo §2.1), built from an encoder spec by :func:`physiofm.models.build_encoder`,
and gives every such method the same
frozen embeddings: each present channel's embedding, their concatenation ``concat``, and, for the channel
sets a task provides, the method's probe representation of just those channels (:meth:`embed_inputs`).

:func:`augment` is the view augmentation of every contrastive method here: SyneCo's operator (Gaussian
noise, then amplitude scaling, §2.3) and, when ``max_mask_fraction`` > 0, one zeroed span per row (the
time mask of the PPG-only baselines of the AnyPPG study).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from physiofm.augment import noise_then_scale
from physiofm.methods.base import Batch, Method
from physiofm.models import build_encoder


def augment(x: torch.Tensor, sigma: float, scale: float, max_mask_fraction: float = 0.0) -> torch.Tensor:
    """One augmented view of (B, C, T): ``(x + N(0, sigma^2)) * scale``, then one zeroed span of up to
    ``max_mask_fraction`` of T per row (none when that is 0). Draws from torch's global generator."""
    x = noise_then_scale(x, sigma, scale)
    b, _, t = x.shape
    max_len = int(max_mask_fraction * t)
    if max_len < 1:
        return x
    length = torch.randint(0, max_len + 1, (b,)).to(x.device)
    start = (torch.rand(b).to(x.device) * (t - length + 1)).long()
    pos = torch.arange(t, device=x.device)
    mask = (pos >= start[:, None]) & (pos < (start + length)[:, None])  # (B, T)
    return x.masked_fill(mask[:, None, :], 0.0)


def concat_present(embeddings: Mapping[str, torch.Tensor], channels: Sequence[str]) -> torch.Tensor:
    """The present channels' embeddings concatenated in ``channels`` order: (B, D * n_present)."""
    return torch.cat([embeddings[ch] for ch in dict.fromkeys(channels) if ch in embeddings], dim=-1)


class ChannelMethod(Method):
    """A method with one encoder per channel in ``channels`` (repeated channels share theirs).

    Args:
        channels: the batch keys the method reads, in the order it reads them.
        encoder: the encoder spec of every channel (None: the ECGFounder Net1D with SyneCo's 512-d head).
        encoders: per-channel specs that replace ``encoder`` for those channels.
    """

    def __init__(self, channels: Sequence[str], encoder: Mapping[str, Any] | None,
                 encoders: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        super().__init__()
        self.channels = tuple(channels)
        self.inputs = tuple(dict.fromkeys(self.channels))
        specs = dict(encoders or {})
        unknown = sorted(set(specs) - set(self.inputs))
        if unknown:
            raise ValueError(f"encoders given for channel(s) {unknown}, which the method does not read "
                             f"{self.inputs}")
        self.encoders = nn.ModuleDict({ch: build_encoder(specs.get(ch, encoder)) for ch in self.inputs})

    def channel_inputs(self, batch: Batch, required: bool = True) -> dict[str, torch.Tensor | list[str]]:
        """The method's channels in ``batch``: signals as (B, C, T) float32 tensors on the method's device, C
        the channel encoder's input channels (1 for one lead; 12 for a 12-lead ECG), texts (a text tower's
        key, e.g. ``report``) as lists of B str; ``required``: every channel must be there (pretraining),
        else those present (maybe none)."""
        out = {}
        for ch in self.inputs:
            if ch not in batch:
                if required:
                    raise KeyError(f"batch has no channel {ch!r} (keys: {sorted(batch)})")
                continue
            x = batch[ch]
            if isinstance(x, list | tuple) and all(isinstance(t, str) for t in x):
                out[ch] = list(x)
                continue
            if not isinstance(x, torch.Tensor) or x.ndim != 3:
                raise ValueError(f"channel {ch!r} must be a (B, C, T) tensor or a list of str, got "
                                 f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
            c = getattr(self.encoders[ch].backbone, "in_channels", None)
            if c is not None and x.shape[1] != c:
                raise ValueError(f"channel {ch!r} must be (B, {c}, T), got {tuple(x.shape)}")
            out[ch] = x.to(device=self.device, dtype=torch.float32)
        if not out and required:
            raise KeyError(f"batch holds none of the channels {list(self.inputs)} (keys: {sorted(batch)})")
        sizes = {len(x) for x in out.values()}
        if len(sizes) > 1:
            raise ValueError(f"channels disagree on batch size: { {c: len(x) for c, x in out.items()} }")
        return out

    def encode(self, inputs: Mapping[str, torch.Tensor | list[str]]) -> dict[str, torch.Tensor]:
        """{channel: (B, C, T) or B texts} -> {channel: (B, D)} for the channels given."""
        return {ch: self.encoders[ch](x) for ch, x in inputs.items()}

    def represent(self, embeddings: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The probe representation of some channels' embeddings; here their concatenation."""
        return concat_present(embeddings, self.channels)

    def features(self, batch: Batch) -> torch.Tensor:
        """:meth:`represent` of the batch's channels, with gradients (supervised reference, fine-tuning)."""
        return self.represent(self.encode(self.channel_inputs(batch, required=False)))

    @property
    def feature_dim(self) -> int:
        return sum(self.encoders[ch].out_features for ch in self.inputs)

    def embeddings(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Each present channel's embedding (B, D), ``concat`` of them, and :meth:`represent` under
        :attr:`probe_key` when that is another name."""
        inputs = self.channel_inputs(batch, required=False)
        if not inputs:
            raise KeyError(f"batch holds none of the channels {list(self.inputs)} (keys: {sorted(batch)})")
        with self.evaluating():
            e = self.encode(inputs)
            out = dict(e)
            out["concat"] = concat_present(e, self.channels)
            if self.probe_key not in out:
                out[self.probe_key] = self.represent(e)
        return out

    def embed_inputs(self, batch: Batch, inputs: Mapping[str, Sequence[str]],
                     stand_in: Mapping[str, tuple[str, int]] | None = None) -> dict[str, torch.Tensor]:
        """``{"ch:<channel>": (B, D)}`` for every channel of the batch the method has, and ``{name: (B, D)}``
        (:meth:`represent` of that set's channels) for each set in ``inputs``, each channel encoded once.

        A set none of whose channels the method has is read through ``stand_in``: channel -> (the channel
        whose encoder reads it, the length it is linearly resampled to) (SyneCo's ECG-only models read PPG
        with their ECG-II encoder); without one the set is left out.
        """
        with self.evaluating():
            e = self.encode(self.channel_inputs(batch, required=False))
            out = {f"ch:{ch}": v for ch, v in e.items()}
            for name, chans in inputs.items():
                sub = {ch: e[ch] for ch in chans if ch in e}
                if not sub:
                    sub = self._stand_in(batch, chans, stand_in or {})
                if sub:
                    out[name] = self.represent(sub)
        return out

    def _stand_in(self, batch: Batch, chans: Sequence[str],
                  stand_in: Mapping[str, tuple[str, int]]) -> dict[str, torch.Tensor]:
        sub = {}
        for ch in chans:
            if ch in batch and ch in stand_in and stand_in[ch][0] in self.encoders:
                reader, length = stand_in[ch]
                x = F.interpolate(batch[ch].to(self.device, torch.float32), size=length, mode="linear",
                                  align_corners=False)
                sub.update(self.encode({reader: x}))
        return sub


@dataclass
class ViewsConfig:
    """What every two-view method (SimCLR, BYOL) reads: the channel of each view, the encoders, and the view
    augmentation (SyneCo's operator; the AnyPPG study adds a time mask)."""

    pair: tuple[str, str] = ("ecg_ii", "ecg_v")  # [D] the channel of each view (SyneCo App. D's ECG pair)
    encoder: dict[str, Any] | None = None  # None: ECGFounder Net1D + 512-d head (SyneCo's shared encoder)
    encoders: dict[str, dict[str, Any]] = field(default_factory=dict)
    noise_sigma: float = 0.05  # SyneCo §2.3 operator, [D] for other papers
    amplitude_scale: float = 0.9
    max_mask_fraction: float = 0.0  # [D] AnyPPG study: one zeroed span of up to 10 % per view


class TwoViews(ChannelMethod):
    """A method whose loss compares two augmented views, each one channel of the batch (maybe the same)."""

    def __init__(self, config: ViewsConfig) -> None:
        if len(config.pair) != 2:
            raise ValueError(f"{type(self).__name__} reads exactly two views, got pair {list(config.pair)}")
        super().__init__(config.pair, config.encoder, config.encoders)
        self.config = config
        self.probe_key = "concat"

    def augmented(self, inputs: Mapping[str, torch.Tensor], ch: str) -> torch.Tensor:
        """One augmented view of channel ``ch`` (B, C, T)."""
        c = self.config
        return augment(inputs[ch], c.noise_sigma, c.amplitude_scale, c.max_mask_fraction)
