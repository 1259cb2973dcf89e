"""``mae``: a masked autoencoder on the 1-D ViT (hybrid_ecg's generative learning, GL; §3.2, Eq. 1).

With an ``encoder`` of another kind than ``vit1d`` (e.g. one Net1D per channel), ``mae`` is instead
SimMIM-style masked reconstruction on that encoder's time tokens, one encoder per channel of ``channels``
(:mod:`physiofm.methods.masked`, the benchmark's configuration for encoders that cannot drop masked patches).

GL path (Fig. 2): the preprocessor masks patches, the encoder embeds the visible ones, the decoder
reconstructs the signal, and the loss is the mean absolute error. As in MAE (He et al. 2022):

    x (B, C, T) mV -> ViT1D.forward_encoder(x, mask_ratio)      latent (B, K, D), mask (B, L), ids_restore
                   -> MAEDecoder(latent, ids_restore)          (B, L, C P)
    loss = masked_reconstruction_loss(pred, ViT1D.patchify(x), mask, "l1")

Batch keys read: ``cfg.key`` (default ``"ecg"``), a float tensor (B, C, T) in mV (12 x 2,500 at 250 Hz).
``embeddings`` gives ``{"embedding": ViT1D(x)}`` (B, D), the mean of the tokens of the unmasked input;
``self.encoder`` is the ViT1D the fine-tuning step trains.

The encoder is described as every encoder of the study is: a spec of the backbone registry
(:func:`physiofm.models.build_backbone`, params :class:`physiofm.sections.ViT1DSection`), here of kind
``vit1d``, e.g. ``{"kind": "vit1d", "in_channels": 12, "patch_size": 60, "depth": 2, "width": 512,
"signal_length": 2500}``; a paper's shared ``encoder`` section becomes the config's ``encoder``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from physiofm.methods.base import Batch, Method, register
from physiofm.methods.masked import MaskedChannels
from physiofm.models import MAEDecoder, ViT1D, build_backbone
from physiofm.objectives.reconstruction import KINDS, masked_reconstruction_loss

# §3.1: 12 leads, 10 s at 250 Hz; §4.1: GL and HL select patch 60, depth 2, width 512
DEFAULT_VIT = {"kind": "vit1d", "in_channels": 12, "patch_size": 60, "depth": 2, "width": 512,
               "signal_length": 2500}


def vit_spec(encoder: dict[str, Any] | None) -> dict[str, Any]:
    """A ViT1D backbone spec completed with the paper's defaults (12 leads, 2,500 samples, 60 / 2 / 512)."""
    spec = {**DEFAULT_VIT, **(encoder or {})}
    if spec["kind"] != "vit1d":
        raise ValueError(f"mae / hybrid need a 'vit1d' encoder (masking, patches), got {spec['kind']!r}")
    if spec.get("embed_dim") is not None:
        raise ValueError("mae / hybrid read the ViT1D's mean-pooled tokens: its encoder takes no embed_dim")
    return {k: v for k, v in spec.items() if k != "embed_dim"}


@dataclass
class MAEConfig:
    key: str = "ecg"  # batch key of the (B, C, T) mV input
    # a vit1d backbone spec (None: DEFAULT_VIT); another kind selects the SimMIM configuration below
    encoder: dict[str, Any] | None = None
    mask_ratio: float = 0.75  # [D] MAE's default; the paper gives none
    loss: str = "l1"  # Eq. 1: mean absolute error; "l2" is MAE's own loss
    norm_target: bool = False  # [D] raw mV targets; True standardises each target patch (MAE norm_pix_loss)
    decoder_width: int = 256  # [D]
    decoder_depth: int = 2  # [D]
    decoder_heads: int = 4  # [D]
    # The SimMIM configuration (ours, physiofm.methods.masked): an encoder per channel instead of the ViT.
    encoders: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-channel replacements
    channels: tuple[str, ...] = ()  # batch keys, each (B, 1, T); empty: the single channel ``key``
    signal_lengths: dict[str, int] = field(default_factory=dict)  # samples per segment of each channel
    mask_patch_tokens: int = 5  # [D] masked patches span this many time tokens (200 ms at 40 ms)

    @property
    def simmim(self) -> bool:
        """Whether this is the SimMIM configuration (an encoder that is not a ViT1D)."""
        return self.encoder is not None and self.encoder.get("kind", "vit1d") != "vit1d"

    def __post_init__(self) -> None:
        if not self.simmim:
            self.encoder = vit_spec(self.encoder)
        if self.loss not in KINDS:
            raise ValueError(f"{type(self).__name__}.loss must be one of {KINDS}, got {self.loss!r}")
        if not 0.0 < self.mask_ratio < 1.0:
            raise ValueError(f"{type(self).__name__}.mask_ratio must lie in (0, 1), got {self.mask_ratio}")
        if self.simmim:
            return
        n_tokens = self.encoder["signal_length"] // self.encoder["patch_size"]
        if int(n_tokens * (1 - self.mask_ratio)) < 1:
            raise ValueError(
                f"{type(self).__name__}: mask_ratio {self.mask_ratio} keeps none of the {n_tokens} patches"
            )


def signal(batch: Batch, key: str, channels: int) -> torch.Tensor:
    """``batch[key]`` checked to be a (B, channels, T) tensor; a missing key names what the batch holds."""
    if key not in batch:
        raise KeyError(f"batch has no {key!r} (keys: {sorted(batch)})")
    x = batch[key]
    if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[1] != channels:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"batch[{key!r}] must be a (B, {channels}, T) tensor, got {shape}")
    return x


class MAE(Method):
    """Masked autoencoder: ViT1D encoder on the visible patches, small decoder, loss on the masked ones."""

    probe_key = "embedding"

    def __init__(self, cfg: MAEConfig, with_decoder: bool = True) -> None:
        super().__init__()
        self.cfg = cfg
        self.inputs = (cfg.key,)
        self.encoder: ViT1D = build_backbone(cfg.encoder)
        self.in_channels = self.encoder.in_channels
        self.decoder = (
            MAEDecoder(
                self.encoder.width,
                self.encoder.n_tokens,
                self.encoder.patch_dim,
                width=cfg.decoder_width,
                depth=cfg.decoder_depth,
                heads=cfg.decoder_heads,
            )
            if with_decoder
            else None
        )

    def reconstruction_loss(self, x: torch.Tensor) -> torch.Tensor:
        """Mask, encode, decode, and score the masked patches of (B, C, T) ``x`` (Eq. 1)."""
        if self.decoder is None:
            raise RuntimeError("this method was built without a decoder (reconstruction weight 0)")
        latent, mask, ids_restore = self.encoder.forward_encoder(x, self.cfg.mask_ratio)
        pred = self.decoder(latent, ids_restore)
        target = self.encoder.patchify(x)
        return masked_reconstruction_loss(pred, target, mask, self.cfg.loss, self.cfg.norm_target)

    def loss(self, batch: Batch) -> torch.Tensor:
        loss = self.reconstruction_loss(signal(batch, self.cfg.key, self.in_channels))
        self.logs = {"recon": float(loss.detach())}
        return loss

    def features(self, batch: Batch) -> torch.Tensor:
        """(B, D) mean-pooled tokens of the unmasked input, with gradients."""
        return self.encoder(signal(batch, self.cfg.key, self.in_channels))

    @property
    def feature_dim(self) -> int:
        return self.encoder.width

    def embeddings(self, batch: Batch) -> dict[str, torch.Tensor]:
        """``{"embedding": (B, D)}``: mean-pooled tokens of the unmasked input, eval mode, no gradients."""
        x = signal(batch, self.cfg.key, self.in_channels)
        with self.evaluating():
            return {"embedding": self.encoder(x)}


@register("mae", MAEConfig)
def build_mae(cfg: MAEConfig) -> Method:
    if cfg.simmim:
        return MaskedChannels(cfg)
    return MAE(cfg)
