"""The architecture grid (§3.3 RQ1, §4.1, App. C) and the paper's selection rule.

A configuration is (patch P, depth, width) with case index ``9 iP + 3 iDepth + iWidth`` (Tables 8-11); each
objective (CL, GL, HL) is pretrained on every configuration of the design:

* ``full``: all 27 configurations (81 models), the paper's grid;
* ``latin_square``: 9 configurations in which every value of every axis occurs three times, iWidth =
  (2 iP + iDepth + 1) mod 3. It holds both configurations the paper selects (case 1, 60 / 2 / 512; case 20,
  250 / 2 / 1024), so both can be compared with the paper's Tables 8-9;
* ``diagonal``: the 3 configurations iP = iDepth = iWidth (each value once; the ci profile's smoke test).

Selection (§4.1): "we chose the median AUROC as the primary performance metric and the range between the
minimum and maximum AUROC as the secondary stability metric", per axis, from box plots of linear-probe AUROC
(Figs. 3-4). The paper reads its box plots task by task; two readings of the rule are implemented:

* ``pooled``: for each axis value, the median of the LP AUROC of every configuration with that value and
  every task; the highest median wins, ties (within ``TIE``) broken by the smaller min-max range;
* ``per_task``: for each task, the value with the highest median (ties: smaller range) wins the task; the
  value winning most tasks is picked (ties: the ``pooled`` order).

The picked configuration is the winning value of each axis; in a Latin square it may not have been trained,
in which case the grid step trains it with the same budget (:func:`missing_runs`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from physiofm.hybrid_ecg.params import OBJECTIVES, GridSection
from physiofm.sections import MethodChoice, ViT1DSection

AXES = ("patch", "depth", "width")
AXIS_LABELS = {"patch": "patch size", "depth": "block depth", "width": "embedding size"}
TIE = 1e-4  # AUROC medians closer than this are a tie
PAPER_SELECTION = {"cl": (250, 2, 1024), "gl": (60, 2, 512), "hl": (60, 2, 512)}  # §4.1


@dataclass(frozen=True)
class Config:
    """One grid configuration: axis indices into the grid's value lists and the values themselves."""

    ip: int
    idepth: int
    iwidth: int
    patch: int
    depth: int
    width: int

    @property
    def case(self) -> int:
        """The paper's case index (Tables 8-11)."""
        return 9 * self.ip + 3 * self.idepth + self.iwidth

    @property
    def label(self) -> str:
        return f"{self.patch}/{self.depth}/{self.width}"

    def run_name(self, objective: str) -> str:
        return f"{objective}_p{self.patch}_d{self.depth}_w{self.width}"


def configs(grid: GridSection, design: str | None = None) -> list[Config]:
    """The configurations of the grid's design (or of ``design``), in case order."""
    design = design or grid.design
    out = []
    for ip, p in enumerate(grid.patch_sizes):
        for idp, d in enumerate(grid.depths):
            for iw, w in enumerate(grid.widths):
                if (design == "full" or (design == "latin_square" and iw == (2 * ip + idp + 1) % 3)
                        or (design == "diagonal" and ip == idp == iw)):
                    out.append(Config(ip, idp, iw, p, d, w))
    return out


def config_of(grid: GridSection, values: Sequence[int]) -> Config:
    """The configuration with (patch, depth, width) ``values``."""
    p, d, w = values
    return Config(grid.patch_sizes.index(p), grid.depths.index(d), grid.widths.index(w), p, d, w)


def encoder(base: ViT1DSection, config: Config) -> ViT1DSection:
    """The shared ViT-1D section with the configuration's patch, depth and width."""
    return base.model_copy(update={"patch_size": config.patch, "depth": config.depth, "width": config.width})


def runs(grid: GridSection, methods: Mapping[str, MethodChoice], base: ViT1DSection,
         objectives: Sequence[str] | None = None, cases: Sequence[int] | None = None
         ) -> list[tuple[str, MethodChoice, ViT1DSection]]:
    """``(run name, method choice, encoder)`` of every grid run (objective x configuration), optionally only
    some objectives and cases; the paper's out-of-memory cases are left out when ``skip_paper_oom``."""
    out = []
    for objective in objectives or OBJECTIVES:
        for c in configs(grid):
            if cases is not None and c.case not in cases:
                continue
            if grid.skip_paper_oom and c.case in grid.paper_oom.get(objective, []):
                continue
            out.append((c.run_name(objective), methods[objective], encoder(base, c)))
    return out


def design_table(grid: GridSection) -> pd.DataFrame:
    """One row per configuration of the design: case, axis values, and the objectives the paper could not
    train on it (out of memory)."""
    rows = []
    for c in configs(grid):
        oom = [m.upper() for m in OBJECTIVES if c.case in grid.paper_oom.get(m, [])]
        rows.append({"case": c.case, "patch": c.patch, "depth": c.depth, "width": c.width,
                     "out of memory in the paper": ", ".join(oom) or "–"})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------- selection
def with_axes(results: pd.DataFrame, grid: GridSection) -> pd.DataFrame:
    """Grid probe results (``method`` = run name) with objective, case and the three axis values."""
    rows = []
    lookup = {c.run_name(m): (m, c) for m in OBJECTIVES for c in configs(grid, "full")}
    for name in results["method"].unique():
        if name in lookup:
            m, c = lookup[name]
            rows.append({"method": name, "objective": m, "case": c.case, "patch": c.patch, "depth": c.depth,
                         "width": c.width})
    return results.merge(pd.DataFrame(rows), on="method")


def axis_summary(grid_auroc: pd.DataFrame) -> pd.DataFrame:
    """Per objective, axis and value: median, min, max and range of LP AUROC pooled over configurations and
    tasks, the per-task medians, and the number of tasks the value wins (``tasks_won``).

    ``grid_auroc``: one row per (objective, configuration, task) with columns objective, patch, depth, width,
    task, value (AUROC; the mean over probe seeds).
    """
    rows = []
    for objective, g in grid_auroc.groupby("objective", sort=False):
        for axis in AXES:
            per_task = g.groupby([axis, "task"])["value"].agg(["median", "min", "max"])
            per_task["range"] = per_task["max"] - per_task["min"]
            winners = {}
            for task, t in per_task.groupby(level="task"):
                t = t.droplevel("task")
                winners[task] = _best(t["median"], t["range"])
            for value, v in g.groupby(axis):
                rows.append({"objective": objective, "axis": axis, "value": value,
                             "median": v["value"].median(), "min": v["value"].min(), "max": v["value"].max(),
                             "range": v["value"].max() - v["value"].min(),
                             "tasks_won": sum(w == value for w in winners.values()),
                             **{f"median {t}": per_task.loc[(value, t), "median"]
                                for t in g["task"].unique() if (value, t) in per_task.index}})
    return pd.DataFrame(rows)


def _best(median: pd.Series, spread: pd.Series) -> int:
    """The index with the highest median; medians within TIE of it are decided by the smaller spread."""
    top = median[median >= median.max() - TIE]
    return int(spread.loc[top.index].idxmin())


def select(summary: pd.DataFrame, reading: str = "pooled") -> dict[str, tuple[int, int, int]]:
    """Objective -> (patch, depth, width) picked by the rule (see the module docstring)."""
    picks = {}
    for objective, g in summary.groupby("objective", sort=False):
        values = []
        for axis in AXES:
            a = g[g["axis"] == axis].set_index("value")
            pooled = _best(a["median"], a["range"])
            if reading == "pooled":
                values.append(pooled)
                continue
            most = a["tasks_won"].max()
            tied = a[a["tasks_won"] == most]
            values.append(pooled if pooled in tied.index else _best(tied["median"], tied["range"]))
        picks[str(objective)] = tuple(values)
    return picks


def published_grid(published: pd.DataFrame, grid_cases: Mapping[int, Sequence[int]]) -> pd.DataFrame:
    """The paper's Tables 8-9 (long: case, task, method, metric, value) as grid AUROC rows like ours."""
    auroc = published[(published["metric"] == "auroc") & published["value"].notna()]
    rows = []
    for r in auroc.itertuples(index=False):
        p, d, w = grid_cases[int(r.case)]
        rows.append({"objective": r.method, "case": int(r.case), "patch": p, "depth": d, "width": w,
                     "task": r.task, "value": float(r.value)})
    return pd.DataFrame(rows)


def selection_table(ours: Mapping[str, Sequence[int]],
                    theirs_by_rule: Mapping[str, Mapping[str, Sequence[int]]],
                    labels: Mapping[str, str]) -> pd.DataFrame:
    """Per objective: the paper's stated pick (§4.1), the rule applied to the paper's Tables 8-9 (each
    reading), and our pick."""
    rows = []
    for m in OBJECTIVES:
        row = {"objective": labels.get(m, m), "paper (§4.1)": "/".join(map(str, PAPER_SELECTION[m]))}
        for reading, picks in theirs_by_rule.items():
            row[f"rule on the paper's Table 8 ({reading})"] = "/".join(map(str, picks[m]))
        row["this study"] = "/".join(map(str, ours[m])) if m in ours else "–"
        rows.append(row)
    return pd.DataFrame(rows).set_index("objective")


def missing_runs(picks: Mapping[str, Sequence[int]], grid: GridSection,
                 trained: set[str]) -> dict[str, Config]:
    """Objective -> the picked configuration, for picks that no grid run trained."""
    out = {}
    for m, values in picks.items():
        c = config_of(grid, values)
        if c.run_name(m) not in trained:
            out[m] = c
    return out


def case_ranks(grid_auroc: pd.DataFrame) -> pd.DataFrame:
    """Per objective, the configurations ordered by their mean LP AUROC over tasks (best first)."""
    mean = grid_auroc.groupby(["objective", "case", "patch", "depth", "width"])["value"].mean()
    out = mean.rename("mean AUROC").reset_index().sort_values(["objective", "mean AUROC"],
                                                               ascending=[True, False])
    out["rank"] = out.groupby("objective").cumcount() + 1
    return out.reset_index(drop=True)


def best_case(grid_auroc: pd.DataFrame) -> dict[str, str]:
    """Objective -> the configuration with the highest mean LP AUROC (the paper's criteria rank by sum of
    AUROC and AUPRC; see the chapter)."""
    ranks = case_ranks(grid_auroc)
    first = ranks[ranks["rank"] == 1]
    return {r.objective: f"{r.patch}/{r.depth}/{r.width}" for r in first.itertuples(index=False)}

