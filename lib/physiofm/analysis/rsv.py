"""Relative source variance (Kleinman, Achille & Soatto 2023), as MultiMAE §4.4 / Fig 2D-F uses it.

For a representation f (per encoder layer: the token-mean output, D units), unit a and modality m:

    SV_a(m) = E_{x_-m} [ Var_{x_m} f(x_m, x_-m)_a ]

Vary modality m over ``n_samples`` windows while the other modalities stay fixed at one context window;
take the variance of each unit; average over ``n_contexts`` contexts. Reported two ways:

    rsv   = softmax_m SV_a(m)        the paper's definition (0.25 each = uniform over 4 modalities); a
                                     softmax of small variances sits near 1/M whatever the tuning, so also
    share = SV_a(m) / sum_m SV_a(m)  scale-free share of the unit's source variance.

Defaults follow the spec: 32 contexts x 64 varied samples. The same context and sample windows are used for
every modality, so the modalities are compared on common draws.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm


@dataclass
class SourceVariance:
    """Source variances ``sv`` (L, M, D): layer x modality x unit."""

    sv: np.ndarray
    modalities: tuple[str, ...]

    @property
    def rsv(self) -> np.ndarray:
        """Softmax over modalities, (L, M, D)."""
        z = self.sv - self.sv.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    @property
    def share(self) -> np.ndarray:
        """SV_m / sum_m SV, (L, M, D); NaN for a unit that no modality moves."""
        total = self.sv.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, self.sv / total, np.nan)

    def table(self) -> pd.DataFrame:
        """Long table: layer (1-based), modality, measure (rsv / share), mean over units and its 95 % CI
        (mean +- 1.96 SE over units; units without variance are left out of ``share``)."""
        rows = []
        for measure, values in (("rsv", self.rsv), ("share", self.share)):
            for layer in range(values.shape[0]):
                for i, m in enumerate(self.modalities):
                    v = values[layer, i]
                    v = v[np.isfinite(v)]
                    mean = float(v.mean()) if v.size else np.nan
                    half = 1.96 * float(v.std(ddof=1)) / np.sqrt(v.size) if v.size > 1 else np.nan
                    rows.append({"layer": layer + 1, "modality": m, "measure": measure, "mean": mean,
                                 "ci_low": mean - half, "ci_high": mean + half, "units": int(v.size)})
        return pd.DataFrame(rows)


Representation = Callable[[torch.Tensor], "torch.Tensor | Sequence[torch.Tensor]"]


def _as_layers(out) -> list[torch.Tensor]:
    layers = [out] if isinstance(out, torch.Tensor) else list(out)
    for i, z in enumerate(layers):
        if z.ndim != 2:
            raise ValueError(f"representation {i} must be (B, D), got {tuple(z.shape)}")
    return layers


@torch.no_grad()
def relative_source_variance(
    model: Representation | object,
    windows: torch.Tensor | np.ndarray,
    n_contexts: int = 32,
    n_samples: int = 64,
    modalities: Sequence[str] | None = None,
    generator: torch.Generator | None = None,
    batch_size: int = 256,
    progress: bool = True,
) -> SourceVariance:
    """Source variance of every unit of every layer to every modality.

    Args:
        model: an object with ``layer_means(x) -> [(B, D)] * L`` (e.g. a multimae method or
            :class:`physiofm.models.MultiMAE` in eval mode) or any callable x -> (B, D) or a list of them.
        windows: the pool of test windows (N, M, T*S); contexts and varied samples are drawn from it with
            replacement.
        modalities: names of the M modalities (default ``m0`` ...).
        generator: CPU torch generator for the draws.
        batch_size: windows per forward pass (rounded down to whole contexts).
    """
    f = getattr(model, "layer_means", model)
    if not callable(f):
        raise TypeError("model must have layer_means(x) or be callable x -> (B, D) / list of (B, D)")
    pool = torch.as_tensor(windows)
    if pool.ndim != 3 or pool.shape[0] < 2:
        raise ValueError(f"windows must be (N >= 2, M, T*S), got {tuple(pool.shape)}")
    if n_contexts < 1 or n_samples < 2:
        raise ValueError(f"need n_contexts >= 1 and n_samples >= 2, got {n_contexts}, {n_samples}")
    n, m = pool.shape[0], pool.shape[1]
    names = tuple(modalities) if modalities is not None else tuple(f"m{i}" for i in range(m))
    if len(names) != m:
        raise ValueError(f"{len(names)} modality names for {m} modalities")
    contexts = torch.randint(n, (n_contexts,), generator=generator)
    samples = torch.randint(n, (n_contexts, n_samples), generator=generator)
    per_batch = max(1, batch_size // n_samples)
    sv = None
    steps = [(i, c0) for i in range(m) for c0 in range(0, n_contexts, per_batch)]
    for i, c0 in tqdm(steps, desc="source variance", disable=not progress):
        ctx, smp = contexts[c0 : c0 + per_batch], samples[c0 : c0 + per_batch]
        x = pool[ctx][:, None].expand(-1, n_samples, -1, -1).clone()  # (C, S, M, L)
        x[:, :, i] = pool[smp, i]
        layers = _as_layers(f(x.flatten(0, 1)))
        var = torch.stack([z.reshape(len(ctx), n_samples, -1).double().var(dim=1, unbiased=False).sum(0)
                           for z in layers])  # (L, D): summed over these contexts
        if sv is None:
            sv = torch.zeros(len(layers), m, var.shape[-1], dtype=torch.float64)
        sv[:, i] += var.cpu()
    return SourceVariance((sv / n_contexts).numpy(), names)
