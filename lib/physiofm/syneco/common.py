"""Pieces every method shares: per-channel encoders, input checks, eval-mode embedding."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from physiofm.models import Encoder, Net1D
from physiofm.syneco.config import SyneCoConfig


def build_encoders(channels: Sequence[str], config: SyneCoConfig) -> nn.ModuleDict:
    """One encoder per channel, weights not shared (§2.1)."""

    def backbone() -> Net1D:
        return Net1D.ecgfounder() if config.net1d is None else Net1D(**config.net1d)

    return nn.ModuleDict({ch: Encoder(backbone(), config.embed_dim) for ch in channels})


def channel_inputs(
    batch: dict[str, torch.Tensor], channels: Sequence[str], device: torch.device, required: bool = True
) -> dict[str, torch.Tensor]:
    """The (B, 1, T) float tensors of ``channels`` found in ``batch``, moved to ``device``."""
    out = {}
    for ch in channels:
        if ch not in batch:
            if required:
                raise KeyError(f"batch has no channel {ch!r} (keys: {sorted(batch)})")
            continue
        x = batch[ch]
        if x.ndim != 3 or x.shape[1] != 1:
            raise ValueError(f"channel {ch!r} must be (B, 1, T), got {tuple(x.shape)}")
        out[ch] = x.to(device=device, dtype=torch.float32)
    if not out:
        raise KeyError(f"batch holds none of the channels {list(channels)} (keys: {sorted(batch)})")
    sizes = {x.shape[0] for x in out.values()}
    if len(sizes) != 1:
        raise ValueError(f"channels disagree on batch size: { {c: x.shape[0] for c, x in out.items()} }")
    return out


def device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@contextmanager
def evaluating(model: nn.Module) -> Iterator[None]:
    """Eval mode and no grad for the block, then the previous mode back (embedding must not see dropout)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def concat_present(embeddings: dict[str, torch.Tensor], channels: Sequence[str]) -> torch.Tensor:
    """Concatenate the present channels' embeddings in ``channels`` order: (B, D * n_present)."""
    return torch.cat([embeddings[ch] for ch in channels if ch in embeddings], dim=-1)


Objective = Callable[[nn.Module, dict[str, torch.Tensor]], tuple[torch.Tensor, dict[str, float]]]
Embedder = Callable[[nn.Module, dict[str, torch.Tensor]], dict[str, torch.Tensor]]
