"""Learning-rate schedules as multipliers of the peak learning rate, one function per schedule.

Convention (the one ``torch.optim.lr_scheduler.LambdaLR`` uses): ``factor(step)`` is the multiplier applied to
the optimiser update with 0-based index ``step``; the update at ``step = max_steps - 1`` is the last one.

* ``cosine``: linear warm-up from 0 to the peak over ``warmup_steps`` updates (``step / warmup_steps``, the
  Hugging Face convention), then half a cosine from the peak to ``min_lr_ratio * peak`` at ``max_steps``.
  SyneCo, AnyPPG (40k of 200k warm-up steps) and MultiMAE (10 epochs of warm-up) use it.
* ``tristage``: D-BETA's schedule, exactly as fairseq's ``tri_stage`` scheduler defines it with
  ``phase_ratio=(0.1, 0.4, 0.5)``: the stage lengths are ``int(max_steps * ratio)``; warm-up rises linearly
  from ``init_lr_scale * peak`` to the peak, the hold stage stays at the peak, the decay stage falls
  exponentially to ``final_lr_scale * peak`` and stays there. fairseq's defaults are
  ``init_lr_scale = final_lr_scale = 0.01``.
* ``constant``: linear warm-up, then the peak.
"""

from __future__ import annotations

import math
from functools import partial

import torch

SCHEDULES = ("cosine", "tristage", "constant")


def cosine_with_warmup(
    step: int, *, max_steps: int, warmup_steps: int = 0, min_lr_ratio: float = 0.0
) -> float:
    """Multiplier of the peak lr at update ``step``: linear warm-up, then cosine decay to ``min_lr_ratio``."""
    if step < warmup_steps:
        return step / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, max_steps - warmup_steps))
    return min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def constant_with_warmup(step: int, *, warmup_steps: int = 0) -> float:
    """Multiplier of the peak lr at update ``step``: linear warm-up, then 1."""
    return step / warmup_steps if step < warmup_steps else 1.0


def tristage_steps(
    max_steps: int, ratios: tuple[float, float, float] = (0.1, 0.4, 0.5)
) -> tuple[int, int, int]:
    """(warm-up, hold, decay) lengths in updates, truncated as fairseq does (``int(max_update * ratio)``)."""
    if len(ratios) != 3 or abs(sum(ratios) - 1.0) > 1e-6:
        raise ValueError(f"tri-stage phase ratios must be three numbers adding up to 1, got {ratios}")
    warmup, hold, decay = (int(max_steps * r) for r in ratios)
    return warmup, hold, decay


def tristage(
    step: int,
    *,
    max_steps: int,
    ratios: tuple[float, float, float] = (0.1, 0.4, 0.5),
    init_lr_scale: float = 0.01,
    final_lr_scale: float = 0.01,
) -> float:
    """Multiplier of the peak lr at update ``step`` under fairseq's tri-stage schedule (see module doc)."""
    warmup, hold, decay = tristage_steps(max_steps, ratios)
    if step < warmup:
        return init_lr_scale + (1.0 - init_lr_scale) * step / warmup
    step -= warmup
    if step < hold:
        return 1.0
    step -= hold
    if step <= decay:
        decay_factor = -math.log(final_lr_scale) / max(1, decay)
        return math.exp(-decay_factor * step)
    return final_lr_scale


def schedule_factor(
    name: str,
    *,
    max_steps: int,
    warmup_steps: int = 0,
    min_lr_ratio: float = 0.0,
    tristage_ratios: tuple[float, float, float] = (0.1, 0.4, 0.5),
    init_lr_scale: float = 0.01,
    final_lr_scale: float = 0.01,
):
    """The multiplier ``step -> float`` of a schedule (``cosine``, ``tristage``, ``constant``)."""
    if name == "cosine":
        return partial(
            cosine_with_warmup, max_steps=max_steps, warmup_steps=warmup_steps, min_lr_ratio=min_lr_ratio
        )
    if name == "tristage":
        return partial(
            tristage,
            max_steps=max_steps,
            ratios=tuple(tristage_ratios),
            init_lr_scale=init_lr_scale,
            final_lr_scale=final_lr_scale,
        )
    if name == "constant":
        return partial(constant_with_warmup, warmup_steps=warmup_steps)
    raise ValueError(f"unknown schedule {name!r}; choose one of {SCHEDULES}")


def build_scheduler(optimizer: torch.optim.Optimizer, config) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` applying ``config.schedule`` to every parameter group's own peak lr."""
    factor = schedule_factor(
        config.schedule,
        max_steps=config.max_steps,
        warmup_steps=config.warmup_steps,
        min_lr_ratio=config.min_lr_ratio,
        tristage_ratios=config.tristage_ratios,
        init_lr_scale=config.init_lr_scale,
        final_lr_scale=config.final_lr_scale,
    )
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
