"""The registry of encoder backbones, and the channel encoder a method builds from a spec.

A spec is a plain dict (a params :class:`physiofm.sections.EncoderSection` dumped)::

    {"kind": "net1d", "preset": "ecgfounder", "base_filters": 16, ..., "embed_dim": 512}

``kind`` picks a builder registered with :func:`register_backbone` (``net1d``; ``multimae``: MultiMAE's
tokeniser + transformer on one channel, :class:`physiofm.models.multimae.TokenEncoder`); the remaining keys,
except ``embed_dim``, are its
keyword arguments. A backbone maps ``(B, C, T)`` to pooled features ``(B, out_features)``.
:func:`build_encoder` puts the optional embedding head on top (:class:`physiofm.models.Encoder`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from torch import nn

from physiofm.models.encoder import Encoder
from physiofm.models.multimae import MultiMAEConfig, TokenEncoder
from physiofm.models.net1d import ANYPPG_CONFIG, ECGFOUNDER_CONFIG, Net1D

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


@register_backbone("multimae")
def multimae(**options: Any) -> TokenEncoder:
    """MultiMAE's per-modality encoder (tokeniser, time embedding, pre-LN layers, LayerNorm, token mean) with
    the :class:`MultiMAEConfig` architecture fields in ``options`` (MultiMAE App F's late-fusion
    baselines)."""
    return TokenEncoder(MultiMAEConfig(modalities=("signal",), **options))
