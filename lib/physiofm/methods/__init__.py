"""The registry of pretraining methods: each method written once, chosen and configured by the papers.

Contract (the study's external checks call it)::

    names() -> list[str]                    every registered method
    build(name, config) -> Method           an nn.Module with .loss(batch) and .embed(batch)

A paper picks methods and passes their configs; it never defines one. See :mod:`physiofm.methods.base`.
"""

from physiofm.methods.base import Method, build, config_class, names, register

__all__ = ["Method", "build", "config_class", "names", "register"]
