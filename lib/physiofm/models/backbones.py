"""The registry of encoder backbones, and the channel encoder a method builds from a spec.

A spec is a plain dict (a params :class:`physiofm.sections.EncoderSection` dumped)::

    {"kind": "net1d", "preset": "ecgfounder", "base_filters": 16, ..., "embed_dim": 512}

``kind`` picks a builder registered with :func:`register_backbone`; the remaining keys, except ``embed_dim``,
are its keyword arguments. A backbone maps a batch input to pooled features ``(B, out_features)``:

* ``net1d``: Net1D (SyneCo's ECGFounder, AnyPPG), ``(B, C, T)`` signals;
* ``vit1d``: hybrid_ecg's 12-lead ViT (:class:`~physiofm.models.ViT1D`), ``(B, C, T)`` -> mean of its tokens;
* ``resnet1d``: its 1-D ResNet-50 baseline (:class:`~physiofm.models.ResNet1D`);
* ``ecg_conv_transformer``: D-BETA's ECG encoder, ``(B, 12, T)`` -> its CLS state
  (:class:`~physiofm.models.ecg_conv_transformer.ECGClsFeatures`);
* ``multimae``: MultiMAE's tokeniser + transformer on one channel
  (:class:`~physiofm.models.multimae.TokenEncoder`), ``(B, 1, T)`` -> mean of its tokens;
* ``scratch_text`` / ``t5_text``: a text tower, a list of B texts -> the first token's state
  (:class:`~physiofm.models.text_encoder.TextFeatures` around the demo's scratch encoder with its fitted
  WordPiece tokenizer, or a local Flan-T5 encoder) — how an ECG-text CLIP reads reports.
:func:`build_encoder` puts the optional embedding head on top (:class:`physiofm.models.Encoder`).

Time tokens: a backbone also offers ``tokens(x) -> (B, T', out_features)``, its time-resolved features
before pooling, such that ``forward(x) == tokens(x).mean(1)`` (Net1D: the last stage's map; ViT1D: the
encoded patches). Methods that fuse or reconstruct over time (``syneco_tokens``, the SimMIM configuration of
``mae`` / ``hybrid``) read them through :meth:`physiofm.models.Encoder.tokens`; a new kind implements it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from torch import nn

from physiofm.models.ecg_conv_transformer import ECGClsFeatures, ECGEncoderConfig
from physiofm.models.encoder import Encoder
from physiofm.models.multimae import MultiMAEConfig, TokenEncoder
from physiofm.models.net1d import ANYPPG_CONFIG, ECGFOUNDER_CONFIG, Net1D
from physiofm.models.resnet1d import RESNET50_BLOCKS, ResNet1D
from physiofm.models.text_encoder import ScratchTextEncoder, T5TextEncoder, TextFeatures
from physiofm.models.vit1d import ViT1D

_BACKBONES: dict[str, Callable[..., nn.Module]] = {}
NET1D_PRESETS = {"ecgfounder": ECGFOUNDER_CONFIG, "anyppg": ANYPPG_CONFIG}


def register_backbone(kind: str) -> Callable:
    """Decorator: ``builder(**options) -> nn.Module`` (with ``out_features``) becomes backbone ``kind``."""

    def deco(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if kind in _BACKBONES:
            raise ValueError(f"backbone {kind!r} is registered twice")
        _BACKBONES[kind] = builder
        return builder

    return deco


def backbone_names() -> list[str]:
    return sorted(_BACKBONES)


def build_backbone(spec: Mapping[str, Any]) -> nn.Module:
    """A freshly initialised backbone from ``spec`` (``kind`` defaults to ``net1d``)."""
    options = {k: v for k, v in spec.items() if k not in ("kind", "embed_dim")}
    kind = spec.get("kind", "net1d")
    if kind not in _BACKBONES:
        raise KeyError(f"unknown backbone kind {kind!r}; registered: {backbone_names()}")
    return _BACKBONES[kind](**options)


def build_encoder(spec: Mapping[str, Any] | None) -> Encoder:
    """Backbone of ``spec`` and, with ``spec["embed_dim"]``, SyneCo's linear head + L2 norm.

    ``None`` is the paper default of SyneCo: the ECGFounder Net1D with a 512-d head.
    """
    if spec is None:
        return Encoder(Net1D.ecgfounder(), 512)
    return Encoder(build_backbone(spec), spec.get("embed_dim"))


@register_backbone("net1d")
def net1d(preset: str | None = None, **options: Any) -> Net1D:
    """:class:`Net1D` with ``preset``'s keyword arguments (``ecgfounder``, ``anyppg``) under ``options``."""
    if preset is not None and preset not in NET1D_PRESETS:
        raise KeyError(f"unknown Net1D preset {preset!r}; known: {sorted(NET1D_PRESETS)}")
    return Net1D(**{**NET1D_PRESETS.get(preset, {}), **options})


@register_backbone("ecg_conv_transformer")
def ecg_conv_transformer(**options: Any) -> ECGClsFeatures:
    """D-BETA's ECG encoder (:class:`ECGEncoderConfig` fields; the paper's sizes by default), read at CLS."""
    return ECGClsFeatures(ECGEncoderConfig(**options))


@register_backbone("scratch_text")
def scratch_text(tokenizer_file: str, **options: Any) -> TextFeatures:
    """A :class:`ScratchTextEncoder` (width, layers, heads, ffn, max_length, dropout) on the WordPiece
    tokenizer JSON ``tokenizer_file``."""
    return TextFeatures(ScratchTextEncoder(tokenizer_file, **options))


@register_backbone("t5_text")
def t5_text(model_dir: str, max_length: int = 256) -> TextFeatures:
    """The (Flan-)T5 encoder of the local checkpoint directory ``model_dir`` (nothing is downloaded)."""
    return TextFeatures(T5TextEncoder.from_dir(model_dir, max_length))


@register_backbone("vit1d")
def vit1d(patch_size: int, depth: int, width: int, in_channels: int = 12, signal_length: int = 2500,
          heads: int | None = None, mlp_ratio: float = 4.0) -> ViT1D:
    """:class:`ViT1D` (hybrid_ecg): (B, in_channels, T) -> (B, width) mean-pooled tokens."""
    return ViT1D(in_channels, patch_size, depth, width, signal_length=signal_length, heads=heads,
                 mlp_ratio=mlp_ratio)


@register_backbone("resnet1d")
def resnet1d(in_channels: int = 12, blocks: tuple[int, ...] = RESNET50_BLOCKS,
             base_width: int = 64) -> ResNet1D:
    """:class:`ResNet1D` (hybrid_ecg's 1-D ResNet-50 with the defaults): (B, C, T) -> (B, 32 base_width)."""
    return ResNet1D(in_channels, tuple(blocks), base_width)


@register_backbone("multimae")
def multimae(**options: Any) -> TokenEncoder:
    """MultiMAE's per-modality encoder (tokeniser, time embedding, pre-LN layers, LayerNorm, token mean) with
    the :class:`MultiMAEConfig` architecture fields in ``options`` (MultiMAE App F's late-fusion
    baselines)."""
    return TokenEncoder(MultiMAEConfig(modalities=("signal",), **options))
