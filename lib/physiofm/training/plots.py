"""Figures of pretraining runs, the same for every paper: what :func:`physiofm.training.run.curves` returns,
drawn one panel per run."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure


def loss_curves(curves: pd.DataFrame, runs: Sequence[str] | None = None,
                labels: Mapping[str, str] | Callable[[str], str] | None = None, cols: int = 5) -> Figure:
    """Training loss (line, mean per logging window) and validation loss (dots) against the optimiser step,
    one panel per run, with a dotted line at the selected checkpoint (lowest validation loss).

    Args:
        curves: the tidy curves of :func:`physiofm.training.run.curves` (``method``, ``step``, ``loss``,
            ``val_loss``).
        runs: the runs to draw, in this order (default: every run of ``curves``, in order of appearance).
        labels: panel titles, a mapping or a function of the run name (default: the run name).
        cols: panels per row.
    """
    runs = list(runs) if runs is not None else list(dict.fromkeys(curves["method"]))
    title = labels if callable(labels) else (lambda r: (labels or {}).get(r, r))
    cols = max(1, min(cols, len(runs)))
    rows = -(-len(runs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.5 * rows), squeeze=False)
    for ax, run in zip(axes.flat, runs):
        c = curves[curves["method"] == run]
        ax.plot(c["step"], c["loss"], lw=0.9, label="train")
        v = c[c["val_loss"].notna()]
        ax.plot(v["step"], v["val_loss"], "o", ms=3, label="validation")
        if len(v):
            ax.axvline(v.loc[v["val_loss"].idxmin(), "step"], color="grey", ls=":", lw=1, label="selected")
        ax.set_title(title(run), fontsize=9)
        ax.set_xlabel("step", fontsize=8)
    for ax in list(axes.flat)[len(runs):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return fig
