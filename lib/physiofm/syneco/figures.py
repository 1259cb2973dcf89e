"""Figures of the SyneCo study's notebooks (matplotlib; each function returns its Figure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from physiofm.store import SegmentStore
from physiofm.syneco.data import example_segments

CHANNEL_LABELS = {"ecg_ii": "ECG II", "ecg_v": "ECG V", "ppg": "PPG"}


def segments(store: SegmentStore, n: int, seed: int, label_cols: Sequence[str] = ()) -> Figure:
    """``n`` segments of different subjects of ``store``, one row each, one column per channel: the z-scored
    model inputs over their 10 s."""
    arrays, index = example_segments(store, n, seed)
    fs = {g: m["fs"] for g, m in store.groups.items()}
    groups = [g for g in ("ecg_ii", "ecg_v", "ppg") if g in arrays]
    fig, axes = plt.subplots(len(index), len(groups), figsize=(4.2 * len(groups), 1.5 * len(index) + 0.4),
                             squeeze=False, sharex=True)
    for i in range(len(index)):
        tag = ", ".join(f"{c}={index[c].iloc[i]}" for c in label_cols if c in index)
        for j, g in enumerate(groups):
            x = arrays[g][i, 0]
            axes[i, j].plot(np.arange(x.size) / fs[g], x, lw=0.6)
            axes[i, j].set_yticks([])
            if i == 0:
                axes[i, j].set_title(CHANNEL_LABELS.get(g, g))
        axes[i, 0].set_ylabel(f"{index['subject_id'].iloc[i]}\n{tag}", fontsize=7, rotation=0, ha="right",
                              va="center")
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    fig.tight_layout()
    return fig


def proof_agreement(proof: Mapping[str, pd.DataFrame]) -> Figure:
    """Detected vs latent heart rate and measured vs latent pulse-transit time per clean block, with the
    identity line (an empty panel with a note when the profile skips the proofs)."""
    if not proof:
        return skipped()
    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    for ax, (df, latent, measured, unit, title) in zip(axes, (
            (proof["heart_rate"], "latent_hr", "detected_hr", "bpm", "heart rate: detected vs latent"),
            (proof["ptt"], "latent_ptt_ms", "measured_ptt_ms", "ms", "pulse-transit time"))):
        d = df[df["clean"]] if "clean" in df else df
        ax.scatter(d[latent], d[measured], s=4, alpha=0.5)
        lo = float(np.nanmin([d[latent].min(), d[measured].min()]))
        hi = float(np.nanmax([d[latent].max(), d[measured].max()]))
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set(xlabel=f"latent ({unit})", ylabel=f"measured ({unit})", title=title)
    fig.tight_layout()
    return fig


def proof_structure(proof: Mapping[str, pd.DataFrame]) -> Figure:
    """AUROC of the hand-made-feature classifier per label (rows) and channel set (columns)."""
    if not proof:
        return skipped()
    return heatmap(proof["structure"], "AUROC of hand-made features, by channel set", vmin=0.4, vmax=1.0)


def skipped(note: str = "skipped in this profile (params: proofs.records = 0)") -> Figure:
    """A small figure that only says why there is nothing to plot."""
    fig, ax = plt.subplots(figsize=(5, 1))
    ax.text(0.5, 0.5, note, ha="center", va="center")
    ax.axis("off")
    return fig


def heatmap(table: pd.DataFrame, title: str, vmin: float = 0.4, vmax: float = 1.0, fmt: str = "{:.2f}",
            cmap: str = "viridis") -> Figure:
    """Annotated heatmap of a numeric table (rows x columns)."""
    values = table.to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(1.0 + 0.9 * table.shape[1], 0.8 + 0.42 * table.shape[0]))
    im = ax.imshow(values, vmin=vmin, vmax=vmax, cmap=cmap, aspect="auto")
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns], rotation=40, ha="right")
    ax.set_yticks(range(table.shape[0]), [str(r) for r in table.index])
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isfinite(values[i, j]):
                ax.text(j, i, fmt.format(values[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if values[i, j] < (vmin + vmax) / 2 else "black")
    fig.colorbar(im, ax=ax, fraction=0.04)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def ablation_bars(table: pd.DataFrame, a: str, b: str) -> Figure:
    """AUROC of ``a`` and ``b`` on every AUROC column of an ablation table (:func:`.tables.ablation`)."""
    if a not in table:
        return skipped(f"{a} or {b} was not trained in this profile")
    auc = table[table["metric"] == "auroc"].set_index("paper task")[[a, b]]
    return paired_bars(auc, f"{a} vs {b} (AUROC)", "AUROC")


def paired_bars(table: pd.DataFrame, title: str, ylabel: str) -> Figure:
    """Grouped bars: rows of ``table`` on the x axis, one bar per column."""
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(table), 3.2))
    width = 0.8 / max(1, table.shape[1])
    for j, col in enumerate(table.columns):
        ax.bar(np.arange(len(table)) + j * width, table[col].to_numpy(dtype=float), width, label=str(col))
    ax.set_xticks(np.arange(len(table)) + width * (table.shape[1] - 1) / 2, [str(i) for i in table.index],
                  rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
