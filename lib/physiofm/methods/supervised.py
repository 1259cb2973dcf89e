"""``supervised``: any registry method's architecture trained end to end on labels (the reference row, ours).

A leaderboard places every self-supervised method between two references with the same encoder: the untrained
network (0) and the same network trained supervised on the task (1). This wraps the ``base`` method built
with its ``config`` (and the shared ``encoder``), and trains its differentiable probe representation
(:meth:`physiofm.methods.Method.features`) with a linear head on label columns of the batch:

    h = base.features(batch)            (B, F)   e.g. SyneCo's fused embedding, Stack's concatenation
    per target column, by its kind:
    binary      BCE(w h + b, y)             one logit
    multiclass  CE(W h + b, y)              one logit per class, y the class code 0..classes-1
    regression  MSE(w h + b, (y - loc) / scale)
    L = the mean over the targets (several targets: a multi-task reference)

Rows whose target is missing (NaN) do not count for that target. The frozen representations are the base
method's (``embeddings`` / ``embed_inputs``), so the same probe protocol scores the reference. The label
columns are read by the run loop from the store index (:func:`physiofm.training.run.loaders`), named in
``inputs``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from physiofm import methods
from physiofm.methods.base import Batch, Method, register

Kind = Literal["binary", "multiclass", "regression"]


@dataclass
class SupervisedConfig:
    base: str = "stack"  # the registry method whose architecture is trained
    config: dict[str, Any] = field(default_factory=dict)  # its settings
    encoder: dict[str, Any] | None = None  # the shared encoder, given to the base unless its config has one
    encoders: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-channel ones, likewise
    targets: tuple[str, ...] = ()  # label columns of the store index
    kinds: tuple[Kind, ...] = ()  # one per target; empty: every target binary
    classes: dict[str, int] = field(default_factory=dict)  # multiclass target -> number of classes
    scales: dict[str, tuple[float, float]] = field(default_factory=dict)  # regression target -> (loc, scale)

    def __post_init__(self) -> None:
        self.targets = tuple(self.targets)
        self.kinds = tuple(self.kinds) or ("binary",) * len(self.targets)
        if not self.targets:
            raise ValueError("supervised: give the label column(s) to train on in 'targets'")
        if len(self.kinds) != len(self.targets):
            raise ValueError(f"supervised: {len(self.kinds)} kinds for {len(self.targets)} targets")
        if self.base == "supervised":
            raise ValueError("supervised: the base must be a pretraining method, not 'supervised'")
        for t, k in zip(self.targets, self.kinds, strict=True):
            if k == "multiclass" and self.classes.get(t, 0) < 2:
                raise ValueError(f"supervised: multiclass target {t!r} needs its class count in 'classes'")
            if k == "regression" and t in self.scales and self.scales[t][1] <= 0:
                raise ValueError(f"supervised: regression target {t!r} needs a positive scale")

    def widths(self) -> list[int]:
        """Head outputs per target: 1 (binary, regression) or the class count."""
        pairs = zip(self.targets, self.kinds, strict=True)
        return [self.classes[t] if k == "multiclass" else 1 for t, k in pairs]


class Supervised(Method):
    """The base method's network plus a linear head trained on labels (see the module docstring)."""

    def __init__(self, config: SupervisedConfig) -> None:
        super().__init__()
        c = self.config = config
        base_config = dict(c.config)
        if c.encoder is not None and "encoder" not in base_config:
            base_config["encoder"] = c.encoder
        if c.encoders and "encoders" not in base_config:
            base_config["encoders"] = c.encoders
        self.base = methods.build(c.base, base_config)
        self.head = nn.Linear(self.base.feature_dim, sum(c.widths()))
        self.inputs = (*self.base.inputs, *c.targets)
        self.probe_key = self.base.probe_key

    def loss(self, batch: Batch) -> torch.Tensor:
        c = self.config
        missing = [t for t in c.targets if t not in batch]
        if missing:
            raise KeyError(f"supervised: batch has no label column(s) {missing} (keys: {sorted(batch)})")
        out = self.head(self.base.features(batch)).split(c.widths(), dim=1)
        terms = {}
        for t, kind, logits in zip(c.targets, c.kinds, out, strict=True):
            y = torch.as_tensor(batch[t]).to(self.device, torch.float32).reshape(-1)
            ok = torch.isfinite(y)
            if not ok.any():
                continue
            if kind == "binary":
                terms[t] = F.binary_cross_entropy_with_logits(logits[ok, 0], y[ok])
            elif kind == "multiclass":
                terms[t] = F.cross_entropy(logits[ok], y[ok].long())
            else:
                loc, scale = c.scales.get(t, (0.0, 1.0))
                terms[t] = F.mse_loss(logits[ok, 0], (y[ok] - loc) / scale)
        if not terms:
            return self.head.weight.sum() * 0.0
        self.logs = {f"loss_{t}": float(v.detach()) for t, v in terms.items()}
        return torch.stack(list(terms.values())).mean()

    def features(self, batch: Batch) -> torch.Tensor:
        return self.base.features(batch)

    @property
    def feature_dim(self) -> int:
        return self.base.feature_dim

    def embeddings(self, batch: Batch) -> dict[str, torch.Tensor]:
        return self.base.embeddings(batch)

    def embed_inputs(self, batch: Batch, inputs: Mapping[str, Sequence[str]],
                     stand_in: Mapping[str, tuple[str, int]] | None = None) -> dict[str, torch.Tensor]:
        return self.base.embed_inputs(batch, inputs, stand_in)

    def after_step(self, step: int, max_steps: int) -> None:
        self.base.after_step(step, max_steps)


register("supervised", SupervisedConfig)(Supervised)
