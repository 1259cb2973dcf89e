"""Published numbers next to ours: "published vs this study" tables.

A paper's numbers live in a YAML file under ``params/published/`` (the lead keeps them), e.g.::

    paper: syneco
    source: Table 1 (AUROC, logistic-regression probe)
    levels: [method, task]        # what the nesting under `values` means, outermost first
    fixed: {probe: lr, metric: auroc}   # columns shared by every number
    values:
      SyneCo: {ptbxl_super5: 0.842, ptbxl_sub23: 0.851}
      BYOL:   {ptbxl_super5: 0.840, ptbxl_sub23: 0.851}

:func:`load_published` turns it into a long table (method, task, probe, metric, value) and
:func:`published_vs_ours` joins it with our tidy results (mean ± std over seeds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

KEYS = ("method", "task", "probe", "metric")


def flatten_published(
    values: Mapping[str, Any], levels: Sequence[str], fixed: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """A nested dict ``{level0: {level1: ... value}}`` -> long DataFrame with one column per level + value."""
    rows: list[dict[str, Any]] = []

    def walk(node, path):
        if isinstance(node, Mapping):
            if len(path) == len(levels):
                raise ValueError(f"published values nest deeper than levels {list(levels)} at {path}")
            for k, v in node.items():
                walk(v, [*path, str(k)])
            return
        if len(path) != len(levels):
            raise ValueError(
                f"published value at {path} is not nested {len(levels)} levels deep ({list(levels)})"
            )
        rows.append(
            {**dict(zip(levels, path)), **(fixed or {}), "value": np.nan if node is None else float(node)}
        )

    walk(values, [])
    return pd.DataFrame(rows)


def load_published(path: Path) -> pd.DataFrame:
    """Read a ``params/published/*.yaml`` file (format in the module doc) into a long table."""
    path = Path(path)
    raw = yaml.safe_load(path.read_text())
    missing = {"levels", "values"} - set(raw or {})
    if missing:
        raise ValueError(f"{path}: published-numbers file lacks key(s) {sorted(missing)}")
    try:
        df = flatten_published(raw["values"], raw["levels"], raw.get("fixed"))
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from err
    df["paper"] = raw.get("paper", path.stem)
    df["source"] = raw.get("source", "")
    return df


def published_vs_ours(
    published: pd.DataFrame,
    ours: pd.DataFrame,
    *,
    index: str | Sequence[str] = "method",
    columns: str | Sequence[str] = ("task", "metric"),
    decimals: int = 3,
    render: bool = True,
) -> pd.DataFrame:
    """Join published numbers with our results (mean ± std over seeds) on the keys both tables have.

    Args:
        published: long table with some of ``method, task, probe, metric`` and ``value``.
        ours: tidy results (:mod:`physiofm.evaluation.results`), several seeds per key.
        index, columns: layout of the rendered table; each cell pair is ("published", "this study").
        render: ``False`` returns the numeric long table (published, ours_mean, ours_std, n_seeds, delta).
    """
    keys = [k for k in KEYS if k in published.columns and k in ours.columns]
    if not keys:
        raise ValueError(f"published and our results share none of the key columns {KEYS}")
    agg = ours.groupby(keys, dropna=False)["value"].agg(ours_mean="mean", ours_std="std", n_seeds="count")
    table = published.rename(columns={"value": "published"}).merge(agg.reset_index(), on=keys, how="left")
    table["delta"] = table["ours_mean"] - table["published"]
    if not render:
        return table
    index = [index] if isinstance(index, str) else list(index)
    columns = [columns] if isinstance(columns, str) else list(columns)
    other = [k for k in keys if k not in index + columns]
    if any(table.duplicated(index + columns)):
        raise ValueError(f"several rows per cell: add {other} to index or columns")

    def fmt(v: float) -> str:
        return "–" if pd.isna(v) else f"{v:.{decimals}f}"

    table["this study"] = [
        "not run" if pd.isna(m) else (fmt(m) if pd.isna(s) else f"{fmt(m)} ± {fmt(s)}")
        for m, s in zip(table["ours_mean"], table["ours_std"])
    ]
    table["published_str"] = table["published"].map(fmt)
    wide = table.pivot(index=index, columns=columns, values=["published_str", "this study"])
    wide = wide.rename(columns={"published_str": "published"}, level=0)
    wide.columns = wide.columns.set_names("source", level=0)
    # cells in the paper's order: (column keys..., source) with published before ours
    cells = table[columns].drop_duplicates().itertuples(index=False)
    order = [(src, *c) for c in cells for src in ("published", "this study")]
    wide = wide[order].reorder_levels([*range(1, len(columns) + 1), 0], axis=1)
    rows = table[index].drop_duplicates()
    return wide.loc[rows[index[0]].tolist() if len(index) == 1 else list(rows.itertuples(index=False))]
