"""Figures of the hybrid_ecg notebooks (matplotlib; each function returns its Figure)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from physiofm.hybrid_ecg.grid import AXES, AXIS_LABELS
from physiofm.synthetic.dipole import LEADS_12

TASKS = ("MI", "STTC", "CD", "HYP")
PAPER_GRID = ([60, 125, 250], [2, 4, 8], [256, 512, 1024])
COLOURS = {"CL": "tab:blue", "GL": "tab:orange", "HL": "tab:green", "SL": "tab:gray"}


def records(x: np.ndarray, titles: Sequence[str], fs: float,
            leads: Sequence[str] = ("II", "V1", "V5")) -> Figure:
    """A few records (N, 12, T) in mV, one row each, three leads side by side."""
    idx = [list(LEADS_12).index(lead) for lead in leads]
    fig, axes = plt.subplots(len(x), len(idx), figsize=(3.4 * len(idx), 1.5 * len(x) + 0.4), squeeze=False,
                             sharex=True)
    t = np.arange(x.shape[-1]) / fs
    for i in range(len(x)):
        for j, k in enumerate(idx):
            axes[i, j].plot(t, x[i, k], lw=0.6)
            if i == 0:
                axes[i, j].set_title(f"lead {leads[j]}")
        axes[i, 0].set_ylabel(f"{titles[i]}\nmV", fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    fig.tight_layout()
    return fig


def loss_curves(curves: pd.DataFrame) -> Figure:
    """Training loss against the step of every grid run, one panel per objective, one line per
    configuration."""
    curves = curves.assign(objective=curves["method"].str.split("_").str[0].str.upper())
    objectives = [o for o in ("CL", "GL", "HL") if o in set(curves["objective"])]
    fig, axes = plt.subplots(1, len(objectives), figsize=(4.2 * len(objectives), 3.2), squeeze=False)
    for ax, o in zip(axes[0], objectives):
        for run, g in curves[(curves["objective"] == o) & curves["loss"].notna()].groupby("method"):
            ax.plot(g["step"], g["loss"], lw=0.9, label=run.split("_", 1)[1].replace("_", " "))
        ax.set(title=o, xlabel="step", ylabel="training loss")
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def grid_boxes(ours: pd.DataFrame, paper: pd.DataFrame, objective: str,
               grid_values: Sequence[Sequence[int]],
               paper_values: Sequence[Sequence[int]] = PAPER_GRID) -> Figure:
    """Figures 3-4 analogue: LP AUROC per task (rows) grouped by each axis value (columns), for one
    objective; for each axis position the paper's box (Table 8) and ours, whiskers at min and max."""
    fig, axes = plt.subplots(len(TASKS), 3, figsize=(10, 2.1 * len(TASKS) + 0.6), squeeze=False)
    for i, task in enumerate(TASKS):
        for j, axis in enumerate(AXES):
            ax = axes[i, j]
            data, pos, colours = [], [], []
            for k in range(3):
                colour = COLOURS.get(objective, "C0")
                sources = ((paper, paper_values, "lightgray"), (ours, grid_values, colour))
                for off, (frame, values, colour) in enumerate(sources):
                    sel = frame[(frame["objective"] == objective.lower()) & (frame["task"] == task)
                                & (frame[axis] == values[j][k])]["value"]
                    data.append(sel.to_numpy() if len(sel) else np.array([np.nan]))
                    pos.append(3 * k + off)
                    colours.append(colour)
            box = ax.boxplot([d[~np.isnan(d)] if np.isfinite(d).any() else [np.nan] for d in data],
                             positions=pos, widths=0.8, whis=(0, 100), patch_artist=True)
            for patch, c in zip(box["boxes"], colours):
                patch.set_facecolor(c)
            ax.set_xticks([3 * k + 0.5 for k in range(3)],
                          [f"{paper_values[j][k]} | {grid_values[j][k]}" for k in range(3)], fontsize=7)
            if i == 0:
                ax.set_title(f"{AXIS_LABELS[axis]} (paper | ours)", fontsize=9)
            if j == 0:
                ax.set_ylabel(f"{task} AUROC")
    fig.suptitle(f"{objective}: grey = the paper (Table 8), colour = this study")
    fig.tight_layout()
    return fig


def risk_bars(ours: pd.DataFrame, paper: pd.DataFrame) -> Figure:
    """Stacked risk components per objective and task: the paper's, ours as 0-1 error and as 1 - AUROC
    (means over seeds); negative components stack below zero."""
    comps = ("approximation", "usability", "probe_generalization", "encoder_generalization")
    colours = dict(zip(comps, ("tab:blue", "tab:orange", "tab:green", "tab:red")))
    sources = (("paper", paper.rename(columns={"component": "metric"}).assign(error="paper")),
               ("0-1", ours[ours["error"] == "zero_one"]),
               ("1-AUROC", ours[ours["error"] == "one_minus_auroc"]))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharey=True)
    for ax, m in zip(axes, ("cl", "gl", "hl")):
        ticks, names = [], []
        for ti, task in enumerate(TASKS):
            for si, (name, frame) in enumerate(sources):
                x = ti * 4 + si
                f = frame[(frame["method"] == m) & (frame["task"].str.upper() == task)]
                up = down = 0.0
                for c in comps:
                    v = float(f.loc[f["metric"] == c, "value"].mean()) if len(f) else np.nan
                    if np.isnan(v):
                        continue
                    base = up if v >= 0 else down
                    ax.bar(x, v, bottom=base, color=colours[c], edgecolor="white", lw=0.3,
                           label=c.replace("_", " ") if (ti, si) == (0, 0) else None)
                    up, down = (up + v, down) if v >= 0 else (up, down + v)
                ticks.append(x)
                names.append(f"{task}\n{name}" if si == 1 else name)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_xticks(ticks, names, fontsize=6)
        ax.set_title(m.upper())
    axes[0].set_ylabel("risk (error)")
    axes[0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def scarcity_lines(long: pd.DataFrame, xlabel: str) -> Figure:
    """Criteria against the case ratio or label fraction per model: the paper's (dashed) and ours (solid);
    two panels because the scales differ."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    for ax, source in zip(axes, ("published", "this study")):
        d = long[long["source"] == source]
        for m, g in d.groupby("method"):
            g = g.sort_values("level")
            ax.plot(g["level"] * 100, g["value"], marker="o", ls="--" if source == "published" else "-",
                    color=COLOURS.get(m.upper(), "k"), label=m.upper())
        ax.set(xlabel=xlabel, ylabel="criteria (sum of 8 metrics)", title=source)
        ax.invert_xaxis()
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
