"""Registry of the SyneCo study's pretraining methods: ``build_method(name, config) -> Method``.

    name          channels                 model / objective
    syneco        ECG-II, ECG-V, PPG       fusion + channel dropout, dual InfoNCE (alpha = 0.5)
    syneco_2mod   ECG-II, ECG-V            the same on the two ECG leads
    stack         ECG-II, ECG-V, PPG       SyneCo with fusion replaced by concatenation (all else kept)
    sleepfm_pair  ECG-II, ECG-V, PPG       SleepFM pairwise InfoNCE
    sleepfm_loo   ECG-II, ECG-V, PPG       SleepFM leave-one-out InfoNCE
    sleepfm_2mod  ECG-II, ECG-V            SleepFM on the two ECG leads (pairwise = LOO for two channels)
    simclr        config.pair              NT-Xent between two channels (simclr_ecg / simclr_ppg fix the pair)
    byol          config.pair              cross-channel BYOL (byol_ecg / byol_ppg fix the pair)

Every ``Method`` carries the trainable ``model`` (all parameters, incl. SleepFM's logit scale and BYOL's
predictor and targets), the ``objective`` ``(model, batch) -> (loss, logs)`` for the Trainer (with
``after_step`` where the method needs one), and ``embed(model, batch) -> {name: (B, D)}`` for frozen probing:
one entry per channel present in the batch, "concat" (present channels concatenated) and, for fused methods,
"fused". Which entry the paper probes: SyneCo / 2mod / Stack -> "fused"; SleepFM -> "concat"; SimCLR / BYOL ->
"concat" of their pair (one model per downstream modality).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from physiofm.syneco.byol import BYOLModel, BYOLObjective, embed_byol
from physiofm.syneco.common import Embedder, Objective
from physiofm.syneco.config import CHANNELS, ECG_CHANNELS, ECG_PAIR, PPG_PAIR, SyneCoConfig
from physiofm.syneco.fused import FusedModel, FusedObjective, embed_fused
from physiofm.syneco.simclr import SimCLRObjective
from physiofm.syneco.sleepfm import ChannelEncoders, SleepFMObjective, embed_channels


@dataclass
class Method:
    name: str
    channels: tuple[str, ...]
    model: nn.Module
    objective: Objective
    embed: Embedder
    probe_key: str  # the embed() entry the paper evaluates for this method


def _fused(name: str, channels: tuple[str, ...], fusion: bool) -> Callable[[SyneCoConfig], Method]:
    def build(config: SyneCoConfig) -> Method:
        return Method(
            name,
            channels,
            FusedModel(channels, config, fusion=fusion),
            FusedObjective(config),
            embed_fused,
            "fused",
        )

    return build


def _sleepfm(name: str, channels: tuple[str, ...], mode: str) -> Callable[[SyneCoConfig], Method]:
    def build(config: SyneCoConfig) -> Method:
        return Method(
            name,
            channels,
            ChannelEncoders(channels, config),
            SleepFMObjective(config, mode),
            embed_channels,
            "concat",
        )

    return build


def _simclr(name: str, pair: tuple[str, str] | None) -> Callable[[SyneCoConfig], Method]:
    def build(config: SyneCoConfig) -> Method:
        channels = tuple(pair or config.pair)
        return Method(
            name,
            channels,
            ChannelEncoders(channels, config, learn_scale=False),
            SimCLRObjective(config),
            embed_channels,
            "concat",
        )

    return build


def _byol(name: str, pair: tuple[str, str] | None) -> Callable[[SyneCoConfig], Method]:
    def build(config: SyneCoConfig) -> Method:
        channels = tuple(pair or config.pair)
        return Method(
            name, channels, BYOLModel(channels, config), BYOLObjective(config), embed_byol, "concat"
        )

    return build


METHODS: dict[str, Callable[[SyneCoConfig], Method]] = {
    "syneco": _fused("syneco", CHANNELS, fusion=True),
    "syneco_2mod": _fused("syneco_2mod", ECG_CHANNELS, fusion=True),
    "stack": _fused("stack", CHANNELS, fusion=False),
    "sleepfm_pair": _sleepfm("sleepfm_pair", CHANNELS, "pairwise"),
    "sleepfm_loo": _sleepfm("sleepfm_loo", CHANNELS, "leave_one_out"),
    "sleepfm_2mod": _sleepfm("sleepfm_2mod", ECG_CHANNELS, "pairwise"),
    "simclr": _simclr("simclr", None),
    "simclr_ecg": _simclr("simclr_ecg", ECG_PAIR),
    "simclr_ppg": _simclr("simclr_ppg", PPG_PAIR),
    "byol": _byol("byol", None),
    "byol_ecg": _byol("byol_ecg", ECG_PAIR),
    "byol_ppg": _byol("byol_ppg", PPG_PAIR),
}


def method_names() -> list[str]:
    return list(METHODS)


def build_method(name: str, config: SyneCoConfig | dict[str, Any] | None = None) -> Method:
    """Build method ``name`` from ``config`` (a SyneCoConfig, a dict of its fields, or None = the paper's)."""
    if name not in METHODS:
        raise KeyError(f"unknown pretraining method {name!r}; known: {method_names()}")
    if not isinstance(config, SyneCoConfig):
        config = SyneCoConfig.from_dict(config)
    return METHODS[name](config)
