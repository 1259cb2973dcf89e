"""The MultiMAE study's figures: example windows, loss curves, reconstructions (Fig 4), the mask-probability
sweep (Fig 3), attention rollout (Fig 2A-C), raw attention (Fig 6), RSV (Fig 2D-F) and t-SNE maps.

Each function returns a matplotlib figure; notebooks show it with :func:`physiofm.figures.show`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from physiofm.multimae.analysis import MODEL_LABELS
from physiofm.multimae.tasks import MODALITIES, MODALITY_LABELS, RUN_LABELS, STAGE_NAMES

COLOURS = {"eeg": "tab:blue", "eog": "tab:green", "emg": "tab:red", "ecg": "tab:purple"}
STAGE_COLOURS = {"W": "tab:orange", "N1": "tab:olive", "N2": "tab:cyan", "N3": "tab:blue", "REM": "tab:red"}


def plot_examples(arrays: Mapping[str, np.ndarray], rows: pd.DataFrame, fs: float) -> plt.Figure:
    """One column per window, one row per modality: the preprocessed 30-s windows (z-scored units)."""
    n = len(rows)
    fig, axes = plt.subplots(len(MODALITIES), n, figsize=(2.6 * n, 1.4 * len(MODALITIES)), sharex=True,
                             squeeze=False)
    t = np.arange(arrays[MODALITIES[0]].shape[-1]) / fs
    for j in range(n):
        row = rows.iloc[j]
        axes[0, j].set_title(f"{row['stage']} · arousal {int(row['arousal'])} · age {row['age']:.0f}",
                             fontsize=8)
        for i, m in enumerate(MODALITIES):
            axes[i, j].plot(t, arrays[m][j, 0], lw=0.4, color=COLOURS[m])
            axes[i, j].set_yticks([])
            if j == 0:
                axes[i, j].set_ylabel(MODALITY_LABELS[m])
        axes[-1, j].set_xlabel("time (s)")
    fig.tight_layout()
    return fig


def plot_curves(curves: pd.DataFrame) -> plt.Figure:
    """Training loss (per logging window) and validation loss per pretraining run, one panel per run."""
    runs = list(dict.fromkeys(curves["method"]))
    cols = min(5, len(runs))
    nrows = -(-len(runs) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.0 * cols, 2.4 * nrows), squeeze=False)
    for ax in axes.flat[len(runs):]:
        ax.axis("off")
    for ax, run in zip(axes.flat, runs):
        c = curves[curves["method"] == run]
        ax.plot(c["step"], c["loss"], lw=1, label="train")
        v = c[c["val_loss"].notna()]
        ax.plot(v["step"], v["val_loss"], "o-", ms=3, label="validation")
        ax.set_title(RUN_LABELS.get(run, run), fontsize=8)
        ax.set_xlabel("step", fontsize=8)
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_reconstructions(panels: Mapping[str, Mapping[str, np.ndarray]], fs: float, seconds: float,
                         window: int = 0) -> plt.Figure:
    """Fig 4: for each panel (a model and masking), every modality of one window: target (blue), prediction
    (orange), hidden seconds shaded; truncated at ``seconds``."""
    fig, axes = plt.subplots(len(MODALITIES), len(panels), figsize=(4.2 * len(panels), 1.5 * len(MODALITIES)),
                             sharex=True, squeeze=False)
    n = int(seconds * fs)
    t = np.arange(n) / fs
    for j, (title, out) in enumerate(panels.items()):
        axes[0, j].set_title(title, fontsize=8)
        for i, m in enumerate(MODALITIES):
            ax = axes[i, j]
            hidden = out["hidden"][window, i, :n]
            ax.fill_between(t, 0, 1, where=hidden, color="0.9", transform=ax.get_xaxis_transform(), lw=0)
            ax.plot(t, out["target"][window, i, :n], lw=0.5, color="tab:blue")
            ax.plot(t, np.where(hidden, out["prediction"][window, i, :n], np.nan), lw=0.6, color="tab:orange")
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(MODALITY_LABELS[m])
        axes[-1, j].set_xlabel("time (s)")
    fig.tight_layout()
    return fig


def plot_sweep(sweep: pd.DataFrame, metric: str = "accuracy") -> plt.Figure:
    """Fig 3: validation sleep-staging ``metric`` (mean and sd over seeds) against the masking ratio (A) and
    the masking probability with drop (B), one line per training-patient count."""
    panels = list(dict.fromkeys(sweep["panel"]))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.2), squeeze=False)
    sel = sweep[sweep["metric"] == metric]
    for ax, panel in zip(axes[0], panels):
        g = sel[sel["panel"] == panel]
        for k, gk in g.groupby("patients"):
            s = gk.groupby("x")["value"].agg(["mean", "std"]).reset_index()
            ax.errorbar(s["x"], s["mean"], yerr=s["std"].fillna(0), marker="o", capsize=3,
                        label=f"{k} training patients")
        ax.set_title(panel, fontsize=9)
        ax.set_xlabel("masking ratio" if panel.startswith("A")
                      else "masking probability p (one modality dropped)")
        ax.set_ylabel(f"validation {metric.replace('_', ' ')}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _blocks(ax, n: int, m: int = len(MODALITIES)) -> None:
    t = n // m
    for k in range(1, m):
        ax.axhline(k * t - 0.5, color="white", lw=0.6)
        ax.axvline(k * t - 0.5, color="white", lw=0.6)
    ticks = [k * t + t / 2 - 0.5 for k in range(m)]
    ax.set_xticks(ticks, [MODALITY_LABELS[x] for x in MODALITIES], fontsize=7)
    ax.set_yticks(ticks, [MODALITY_LABELS[x] for x in MODALITIES], fontsize=7)


def plot_rollout(maps: Mapping[str, np.ndarray], cap: float) -> plt.Figure:
    """Fig 2A-C: rollout from output tokens (rows) to input tokens (columns), modality-by-time blocks, the
    colour scale capped at ``cap``."""
    fig, axes = plt.subplots(1, len(maps), figsize=(4.0 * len(maps), 3.8), squeeze=False)
    for ax, (name, r), letter in zip(axes[0], maps.items(), "ABC"):
        im = ax.imshow(np.minimum(r, cap), vmin=0, vmax=cap, cmap="viridis")
        _blocks(ax, r.shape[0])
        ax.set_title(f"{letter}. {MODEL_LABELS.get(name, name)}", fontsize=9)
        ax.set_xlabel("input token (modality, 1-s steps)", fontsize=8)
        ax.set_ylabel("output token", fontsize=8)
    fig.colorbar(im, ax=axes[0].tolist(), fraction=0.02, label=f"rollout (capped at {cap})")
    return fig


def plot_raw_attention(raw: Mapping[str, np.ndarray]) -> plt.Figure:
    """Fig 6: raw attention W_l per layer (averaged over heads and windows), one row per model."""
    depth = max(w.shape[0] for w in raw.values())
    fig, axes = plt.subplots(len(raw), depth, figsize=(2.6 * depth, 2.6 * len(raw)), squeeze=False)
    for i, (name, w) in enumerate(raw.items()):
        for layer in range(depth):
            ax = axes[i, layer]
            if layer >= w.shape[0]:
                ax.axis("off")
                continue
            ax.imshow(w[layer], cmap="viridis", vmin=0, vmax=float(np.quantile(w[layer], 0.99)))
            _blocks(ax, w.shape[-1])
            ax.set_title(f"{MODEL_LABELS.get(name, name)}, layer {layer + 1}", fontsize=7)
    fig.tight_layout()
    return fig


def plot_rsv(table: pd.DataFrame, measure: str) -> plt.Figure:
    """Fig 2D-F: mean over units of ``measure`` (rsv: softmax; share: SV_m / sum SV) per modality against the
    encoder layer, with the 95 % CI over units, one panel per model; the dotted line is 1/4 (uniform)."""
    models = list(dict.fromkeys(table["model"]))
    fig, axes = plt.subplots(1, len(models), figsize=(4.0 * len(models), 3.0), squeeze=False, sharey=True)
    sel = table[table["measure"] == measure]
    for ax, model, letter in zip(axes[0], models, "DEF"):
        for m in MODALITIES:
            g = sel[(sel["model"] == model) & (sel["modality"] == m)]
            ax.plot(g["layer"], g["mean"], marker="o", ms=3, color=COLOURS[m], label=MODALITY_LABELS[m])
            ax.fill_between(g["layer"], g["ci_low"], g["ci_high"], color=COLOURS[m], alpha=0.2, lw=0)
        ax.axhline(0.25, color="grey", ls=":", lw=1)
        ax.set_title(f"{letter}. {model}", fontsize=9)
        ax.set_xlabel("encoder layer")
        ax.set_xticks(sorted(sel["layer"].unique()))
    axes[0, 0].set_ylabel("RSV (softmax over modalities)" if measure == "rsv" else "share of source variance")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_tsne(points: pd.DataFrame, colour: str, methods: Sequence[str]) -> plt.Figure:
    """t-SNE maps of each run's frozen embeddings, side by side, coloured by ``colour`` (sleep stage or the
    patient's age group)."""
    cols = min(5, len(methods))
    nrows = -(-len(methods) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(2.8 * cols, 2.8 * nrows), squeeze=False)
    for ax in axes.flat[len(methods):]:
        ax.axis("off")
    if colour == "stage":
        palette = STAGE_COLOURS
        order = [s for s in STAGE_NAMES if s in set(points["stage"])]
    else:
        palette = {0: "tab:blue", 1: "tab:red"}
        order = [0, 1]
    for ax, m in zip(axes.flat, methods):
        g = points[points["method"] == m]
        for value in order:
            h = g[g[colour] == value]
            ax.scatter(h["x"], h["y"], s=3, color=palette[value], label=str(value))
        ax.set_title(RUN_LABELS.get(m, m), fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    names = {0: "under 55", 1: "55 or over"}
    handles = [plt.Line2D([], [], marker="o", ls="", color=palette[v], label=names.get(v, str(v)))
               for v in order]
    fig.legend(handles=handles, loc="lower center", ncol=len(order), fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig
