"""CLIP-style two-tower alignment (Radford et al. 2021): AnyPPG's PPG-ECG pretraining (Nie et al.); the
ECG-text model of D-BETA reuses the registry entry with a text tower.

    x_a --f_a--> z_a (B, F) --g_a--> h_a (B, D) --L2--> ĥ_a      (towers[0], AnyPPG: PPG)
    x_b --f_b--> z_b (B, F) --g_b--> h_b (B, D) --L2--> ĥ_b      (towers[1], AnyPPG: ECG)
    loss = clip_loss(ĥ_a, ĥ_b, exp(log_scale)),   log_scale learnable, init log(1/0.07), exp capped at 100

Both towers are randomly initialised and trained jointly; the projectors g are Linear -> GELU -> Linear
(AnyPPG: 1024 -> 512 -> 256). The learnable temperature lives in the method, and ``after_step`` clamps it in
place after each optimiser step, as open_clip's training loop does. Embeddings: each tower's features z
(what linear probing reads: AnyPPG probes the frozen PPG encoder's 1024-d output, ``probe`` names the
tower) and ``<tower>_shared``, the unit-norm shared-space embedding ĥ (what retrieval compares).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from physiofm.methods.base import Batch, register
from physiofm.methods.channels import ChannelMethod
from physiofm.models import Projector
from physiofm.objectives.clip import INIT_TEMPERATURE, MAX_LOGIT_SCALE, LogitScale, clip_loss

ANYPPG_ENCODER = {"kind": "net1d", "preset": "anyppg", "embed_dim": None}  # Tables 5-6: 5.85 M, 1024-d


@dataclass
class ClipConfig:
    towers: tuple[str, str] = ("ppg", "ecg")  # AnyPPG: PPG aligned with the synchronized ECG
    encoder: dict[str, Any] | None = field(default_factory=lambda: dict(ANYPPG_ENCODER))
    encoders: dict[str, dict[str, Any]] = field(default_factory=dict)  # e.g. a text tower's encoder
    projector_hidden: int = 512  # AnyPPG Methods
    embed_dim: int = 256  # AnyPPG Methods: the shared space
    init_temperature: float = INIT_TEMPERATURE  # AnyPPG: 0.07
    max_logit_scale: float = MAX_LOGIT_SCALE  # [D] open_clip's clamp at 100 (the paper does not say)
    probe: str = "ppg"  # the tower whose features probes read


class Clip(ChannelMethod):
    """Two towers (encoder + projector each) and the learnable logit scale."""

    def __init__(self, config: ClipConfig) -> None:
        if len(config.towers) != 2 or config.towers[0] == config.towers[1]:
            raise ValueError(f"CLIP aligns two different towers, got {list(config.towers)}")
        if config.probe not in config.towers:
            raise ValueError(f"probe {config.probe!r} is not one of the towers {list(config.towers)}")
        super().__init__(config.towers, config.encoder, config.encoders)
        self.config = config
        self.projectors = nn.ModuleDict({t: Projector(self.encoders[t].out_features, config.projector_hidden,
                                                      config.embed_dim) for t in self.inputs})
        self.logit_scale = LogitScale(config.init_temperature, config.max_logit_scale)
        self.probe_key = config.probe

    def shared(self, tower: str, x: torch.Tensor) -> torch.Tensor:
        """(B, ...) input of ``tower`` -> (B, embed_dim) L2-normalised shared-space embedding."""
        return F.normalize(self.projectors[tower](self.encoders[tower](x)), dim=-1)

    def loss(self, batch: Batch) -> torch.Tensor:
        a, b = self.channels
        inputs = self.channel_inputs(batch)
        h_a, h_b = self.shared(a, inputs[a]), self.shared(b, inputs[b])
        scale = self.logit_scale()
        loss = clip_loss(h_a, h_b, scale)
        with torch.no_grad():  # in-batch a -> b top-1: a cheap running view of retrieval R@1 at batch size B
            top1 = (h_a @ h_b.T).argmax(dim=1).eq(torch.arange(len(h_a), device=h_a.device)).float().mean()
        self.logs = {"logit_scale": float(scale.detach()), "temperature": float(1.0 / scale.detach()),
                     "batch_top1": float(top1)}
        return loss

    def embeddings(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Each present tower's features (B, F), ``concat`` of them, and ``<tower>_shared`` (B, embed_dim)."""
        out = super().embeddings(batch)
        with self.evaluating():
            for t in self.inputs:
                if t in out:
                    out[f"{t}_shared"] = F.normalize(self.projectors[t](out[t]), dim=-1)
        return out

    def after_step(self, step: int, max_steps: int) -> None:
        """open_clip's in-place clamp of the log-scale to [0, log max_logit_scale] after each step."""
        self.logit_scale.clamp_()


register("clip", ClipConfig)(Clip)
