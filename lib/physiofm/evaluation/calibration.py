"""Calibration curves of a cohort's difficulty knobs: AUROC against effect size for the two references.

A leaderboard can only tell methods apart on tasks that an untrained encoder does not already solve and that
the same encoder trained supervised does. For each effect size ``s`` of a grid, the knob of every task
(:mod:`physiofm.synthetic.effects`) is set to ``s`` in both cohorts of a
:class:`~physiofm.sections.CohortStoresSection` (the tasks' labels are independent draws, so one cohort per
effect size serves every task), their stores are built, and a leaderboard with only its reference rows runs
(:func:`physiofm.evaluation.leaderboard.run`): the reference network untrained and trained supervised on the
tasks, probed by the leaderboard's probe. The curves show where a label is too easy (both near 1), too hard
(both near 0.5) or separates the two (the setting a benchmark wants).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from physiofm import cohort_stores
from physiofm.evaluation import leaderboard
from physiofm.io import write_csv
from physiofm.sections import CohortStoresSection, LeaderboardSection


def with_effects(spec: CohortStoresSection, effects: Mapping[str, float]) -> CohortStoresSection:
    """``spec`` with ``effects`` set in both cohorts (other knobs as they were)."""
    return spec.model_copy(update={
        name: getattr(spec, name).model_copy(update={"effects": {**getattr(spec, name).effects, **effects}})
        for name in ("pretrain", "probe")})


def calibrate(spec: CohortStoresSection, board: LeaderboardSection, knobs: Mapping[str, str],
              levels: Sequence[float], out: Path, *, probe_seeds: Sequence[int], seed: int = 0,
              device: str = "cpu", workers: int = 1, worker_threads: int = 1) -> pd.DataFrame:
    """One row per (effect, task, reference): ``auroc`` (R² for regression) mean and ``sd`` over probe seeds,
    with the task's ``knob``. ``knobs``: task -> its knob; ``board``: a leaderboard with a reference and no
    methods. Written to ``out/calibration.csv``."""
    if board.reference is None or board.methods:
        raise ValueError("a calibration board has a reference and no methods")
    missing = [t.name for t in board.tasks if t.name not in knobs]
    if missing:
        raise ValueError(f"calibration: no knob given for task(s) {missing}")
    rows = []
    for level in levels:
        folder = Path(out) / f"effect_{level:g}"
        data = cohort_stores.build(with_effects(spec, dict.fromkeys(set(knobs.values()), float(level))),
                                   folder / "data", seed, progress=False)
        b = leaderboard.run(board, data.folder, data.probe, data.labels, folder, probe_seeds=probe_seeds,
                            device=device, workers=workers, worker_threads=worker_threads)
        s = leaderboard.metric_of(b.results).groupby(["method", "task"])["value"].agg(["mean", "std"])
        for (method, task), r in s.iterrows():
            rows.append({"effect": float(level), "task": task, "knob": knobs[task], "reference": method,
                         "auroc": r["mean"], "sd": r["std"]})
    table = pd.DataFrame(rows)
    write_csv(table, Path(out) / "calibration.csv")
    return table


def curves_figure(table: pd.DataFrame, chosen: Mapping[str, float], title: str,
                  targets: tuple[float, float] = (0.75, 0.95)) -> Figure:
    """One panel per task: AUROC against effect size (log axis) for the untrained and the supervised
    reference (bars: the spread over probe seeds), the chosen setting of the task's knob as a vertical line,
    and the targets (random-init at most ``targets[0]``, supervised at least ``targets[1]``) as dashed
    lines."""
    tasks = list(dict.fromkeys(table["task"]))
    cols = min(4, len(tasks))
    rows = int(np.ceil(len(tasks) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.1 * cols, 2.5 * rows), squeeze=False, sharey=True)
    style = {"random_init": ("tab:grey", "untrained"), "supervised": ("tab:blue", "supervised")}
    for ax, task in zip(axes.flat, tasks, strict=False):
        d = table[table["task"] == task]
        for ref, (color, label) in style.items():
            r = d[d["reference"] == ref].sort_values("effect")
            ax.errorbar(r["effect"], r["auroc"], yerr=r["sd"], color=color, marker="o", ms=3, lw=1.2,
                        capsize=2, label=label)
        knob = d["knob"].iloc[0]
        if knob in chosen:
            ax.axvline(chosen[knob], color="tab:green", lw=1, label="benchmark setting")
        for y in targets:
            ax.axhline(y, color="k", lw=0.6, ls="--")
        ax.set_xscale("log")
        grid = np.sort(d["effect"].unique())
        ax.set_xticks(grid, [f"{e:g}" for e in grid])  # the grid's own values, not log decades
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_title(f"{task} (knob {knob})", fontsize=9)
        ax.set_xlabel("effect size")
    for ax in axes.flat[len(tasks):]:
        ax.axis("off")
    axes[0, 0].set_ylabel("AUROC")
    axes[0, 0].legend(fontsize=7, loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def at_setting(table: pd.DataFrame, chosen: Mapping[str, float],
               targets: tuple[float, float] = (0.75, 0.95)) -> pd.DataFrame:
    """Per task: the references' AUROC at the grid effect closest to the chosen setting of its knob, and
    whether each target holds there (untrained at most ``targets[0]``, supervised at least ``targets[1]``)."""
    rows = []
    for task, d in table.groupby("task", sort=False):
        knob = d["knob"].iloc[0]
        if knob not in chosen:
            continue
        effects = np.sort(d["effect"].unique())
        near = effects[np.argmin(np.abs(np.log(effects) - np.log(chosen[knob])))]
        r = d[d["effect"] == near].set_index("reference")["auroc"]
        untrained, supervised = r.get("random_init"), r.get("supervised")
        rows.append({"task": task, "knob": knob, "setting": chosen[knob], "nearest effect": near,
                     "untrained": untrained, "supervised": supervised,
                     f"untrained <= {targets[0]:g}": bool(untrained <= targets[0]),
                     f"supervised >= {targets[1]:g}": bool(supervised >= targets[1])})
    return pd.DataFrame(rows)
