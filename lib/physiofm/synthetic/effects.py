"""Difficulty knobs of the built-in cohorts: one effect size per label.

A cohort's labels are latent attributes written into the signals (a wide QRS for ``conduction``, an earlier
reflected wave for ``stiff``, ...). Each cohort declares an :class:`Effects` dataclass with one float per
label (or per group of labels that share one mechanism); the generator multiplies the *difference the label
makes to the signals* by it, never the label itself and never the random draws:

* ``1.0`` (every default) is the generator's original effect, so a cohort drawn without knobs is bit for
  bit the cohort of every earlier chapter;
* ``0.0`` removes the effect: the label is still drawn, but no signal carries it (any model's AUROC is 0.5);
* values in between shrink it (a QRS of 90 + s (150 - 90) ms instead of 150 ms), values above 1 exaggerate
  it.

Knobs are set from params (``effects: {conduction: 0.3, ...}`` in a cohort section) and validated by
:meth:`Effects.from_mapping`, which names the cohort and the unknown knob. A new cohort (or the 12-lead one)
follows the same pattern: an ``Effects`` subclass whose field docstrings say what each knob scales, an
``effects`` argument of its generator, and an ``effects`` entry in its params section.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np

E = TypeVar("E", bound="Effects")


@dataclasses.dataclass(frozen=True)
class Effects:
    """Base of a cohort's knobs: every field a float >= 0, default 1.0 (see the module docstring)."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if not (isinstance(v, int | float) and np.isfinite(v) and v >= 0):
                raise ValueError(f"{type(self).__name__}.{f.name} must be a finite number >= 0, got {v!r}")

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_mapping(cls: type[E], values: Mapping[str, float] | E | None) -> E:
        """The knobs of ``values`` (label -> effect size; labels not given keep 1.0)."""
        if values is None:
            return cls()
        if isinstance(values, cls):
            return values
        unknown = sorted(set(values) - set(cls.names()))
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown effect knob(s) {unknown}; known: {cls.names()}")
        return cls(**{k: float(v) for k, v in values.items()})

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)

    def changed(self) -> dict[str, float]:
        """The knobs that differ from 1.0."""
        return {k: v for k, v in self.as_dict().items() if v != 1.0}


def lerp(base: Any, full: Any, s: float) -> Any:
    """``base + s (full - base)``: the label's effect scaled by ``s``; exactly ``full`` at ``s == 1`` (so the
    default knobs reproduce the original arrays bit for bit)."""
    if s == 1:
        return full
    return base + s * (np.asarray(full) - base) if isinstance(full, np.ndarray) else base + s * (full - base)
