"""What a pretraining method is, and the registry that names them.

A :class:`Method` is one ``nn.Module`` that holds every trainable parameter of a method (encoders, heads,
projectors, learnable temperatures, EMA targets) and exposes:

* ``inputs``: the batch keys it reads, e.g. ``("ecg_ii", "ecg_v", "ppg")`` or ``("ecg12", "report")``;
* ``loss(batch) -> scalar tensor``: the pretraining objective on one batch (a dict of tensors). Terms worth
  logging go into ``self.logs`` (name -> float) during the call;
* ``embeddings(batch) -> {name: (B, D)}``: every frozen representation the method offers (per channel,
  fused, concatenated, ...), computed in eval mode without gradients;
* ``embed(batch) -> (B, D)``: the representation a probe reads, ``embeddings(batch)[self.probe_key]``;
* ``embed_inputs(batch, {name: keys}) -> {name: (B, D)}``: that representation from subsets of the inputs
  (the channels a task provides);
* ``after_step(step, max_steps)``: called after each optimiser update (EMA targets, clamps); a no-op here;
* ``features(batch) -> (B, feature_dim)``: the probe representation *with gradients*, in the current mode:
  what a supervised reference trains through (:mod:`physiofm.methods.supervised`) and what a supervised
  head is trained on when the method's model is fine-tuned or trained from scratch
  (:mod:`physiofm.evaluation.finetuning`); methods that do not offer it raise ``NotImplementedError``
  naming themselves;
* ``adjacent``: True when the loss also reads, for every window, the next window of its record under
  ``"next:<key>"`` (the run loop then batches adjacent pairs, :func:`physiofm.training.run.loaders`).

``register(name, config_cls)`` adds a builder ``config -> Method``; ``build(name, config)`` accepts a
``config_cls`` instance, a dict of its fields (unknown keys are an error) or None for its defaults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

Batch = Mapping[str, Any]


class Method(nn.Module):
    """Base class of every pretraining method (see the module docstring)."""

    inputs: tuple[str, ...] = ()
    probe_key: str = "embedding"
    adjacent: bool = False  # batches hold each window's successor under "next:<key>" (SimCLR-style positives)

    def __init__(self) -> None:
        super().__init__()
        self.logs: dict[str, float] = {}

    def loss(self, batch: Batch) -> torch.Tensor:
        raise NotImplementedError

    def embeddings(self, batch: Batch) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def embed(self, batch: Batch) -> torch.Tensor:
        """(B, D) frozen representation for probes: ``embeddings(batch)[self.probe_key]``."""
        return self.embeddings(batch)[self.probe_key]

    def embed_inputs(self, batch: Batch, inputs: Mapping[str, Sequence[str]],
                     stand_in: Mapping[str, tuple[str, int]] | None = None) -> dict[str, torch.Tensor]:
        """The probe representation from each named subset of the batch's keys: ``{name: (B, D)}``.

        A task may provide only some of a method's inputs (an ECG benchmark for a three-channel model);
        ``inputs`` names the key sets, e.g. ``{"ecg": ("ecg_ii", "ecg_v"), "all": (...)}``. Sets that hold
        none of :attr:`inputs` are left out. This default calls :meth:`embed` once per set; methods with
        per-channel encoders encode each channel once. ``stand_in`` (key -> (input it is read as, length))
        lets a method without a key read it through another input's encoder, used by
        :class:`~physiofm.methods.channels.ChannelMethod`.
        """
        out = {}
        for name, keys in inputs.items():
            sub = {k: batch[k] for k in keys if k in batch and k in self.inputs}
            if sub:
                out[name] = self.embed(sub)
        return out

    def after_step(self, step: int, max_steps: int) -> None:
        """Hook after each optimiser update; methods with EMA targets or clamped scales override it."""

    def features(self, batch: Batch) -> torch.Tensor:
        """(B, feature_dim) probe representation with gradients (see the module docstring)."""
        raise NotImplementedError(f"{type(self).__name__} offers no differentiable representation "
                                  "(features), so it cannot be trained supervised")

    @property
    def feature_dim(self) -> int:
        """Width of :meth:`features`."""
        raise NotImplementedError(f"{type(self).__name__} offers no differentiable representation")

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @contextmanager
    def evaluating(self):
        """Eval mode and no grad for the block, then the previous mode back."""
        was = self.training
        self.eval()
        try:
            with torch.no_grad():
                yield
        finally:
            self.train(was)


_REGISTRY: dict[str, tuple[Callable[[Any], Method], type]] = {}


def register(name: str, config_cls: type) -> Callable:
    """Decorator: register ``builder(config) -> Method`` (a function or a Method subclass) under ``name``."""

    def deco(builder: Callable[[Any], Method]) -> Callable[[Any], Method]:
        if name in _REGISTRY:
            raise ValueError(f"method {name!r} is registered twice")
        _REGISTRY[name] = (builder, config_cls)
        return builder

    return deco


def _load_all() -> None:
    # The method modules register themselves on import; importing them here keeps names() complete
    # without the registry importing every model at package import time of physiofm.methods.base.
    import importlib
    import pkgutil

    import physiofm.methods as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name != "base":
            importlib.import_module(f"physiofm.methods.{info.name}")


def names() -> list[str]:
    """Every registered method name, sorted."""
    _load_all()
    return sorted(_REGISTRY)


def config_class(name: str) -> type:
    """The config type ``build(name, ...)`` takes."""
    _load_all()
    if name not in _REGISTRY:
        raise KeyError(f"unknown pretraining method {name!r}; known: {sorted(_REGISTRY)}")
    return _REGISTRY[name][1]


def _as_config(cls: type, config: Any) -> Any:
    if config is None:
        return cls()
    if isinstance(config, cls):
        return config
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a {cls.__name__}, a dict or None, got {type(config).__name__}")
    if hasattr(cls, "model_validate"):  # a pydantic section
        return cls.model_validate(dict(config))
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} setting(s) {unknown}; known: {sorted(known)}")
    return cls(**dict(config))


def build(name: str, config: Any = None) -> Method:
    """A freshly initialised method ``name`` with ``config`` (instance, dict or None for the defaults)."""
    cls = config_class(name)
    builder, _ = _REGISTRY[name]
    method = builder(_as_config(cls, config))
    if not isinstance(method, Method):
        raise TypeError(f"builder of {name!r} returned {type(method).__name__}, not a physiofm Method")
    return method
