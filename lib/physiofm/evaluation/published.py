"""Published numbers next to ours: "published vs this study" tables.

Every paper's numbers live in ``params/published/<paper>.yaml`` in one layout, transcribed once and tested
against the paper text::

    meta: {...}                      # labels, captions, caveats (not numbers)
    table_1:                         # a printed table (or ``text``: numbers the prose gives)
      ptbxl_super5:                  # task, as our results name it (or the paper's key for it)
        syneco: {lr_auroc: 0.842}    # method -> metric -> value (null: printed as "-")
        byol: {lr_auroc: 0.840}

:func:`load_published` turns one table into a long frame (table, task, method, metric, value) and
:func:`published_vs_ours` joins it with our tidy results (mean ± std over seeds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from physiofm.paths import repo_root

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


def load_published(path: Path, table: str | None = None) -> pd.DataFrame:
    """One table of a ``params/published/*.yaml`` file (every table but ``meta`` when None) as a long frame
    with columns table, task, method, metric, value."""
    path = Path(path)
    raw = yaml.safe_load(path.read_text()) or {}
    names = [t for t in raw if t != "meta"] if table is None else [table]
    missing = [t for t in names if t not in raw]
    if missing:
        raise KeyError(f"{path}: no table(s) {missing}; tables: {[t for t in raw if t != 'meta']}")
    try:
        parts = [flatten_published(raw[t], ["task", "method", "metric"], {"table": t}) for t in names]
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from err
    return pd.concat(parts, ignore_index=True)[["table", "task", "method", "metric", "value"]]


def load_published_table(path: Path, table: str) -> pd.DataFrame:
    """One table of a published file with its own levels (``meta.levels[table]``, e.g. ``case, task, method,
    metric`` for a grid; ``task, method, metric`` when the file gives none) as columns, plus ``value``."""
    path = Path(path)
    raw = yaml.safe_load(path.read_text()) or {}
    if table not in raw or table == "meta":
        raise KeyError(f"{path}: no table {table!r}; tables: {[t for t in raw if t != 'meta']}")
    levels = list((raw.get("meta") or {}).get("levels", {}).get(table, ["task", "method", "metric"]))
    try:
        return flatten_published(raw[table], levels)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from err


def published_path(paper: str) -> Path:
    """``params/published/<paper>.yaml`` of this checkout."""
    return repo_root() / "params" / "published" / f"{paper}.yaml"


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
