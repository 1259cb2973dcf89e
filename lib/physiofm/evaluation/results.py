"""The tidy results table every evaluation writes and every notebook and book page reads.

One row per (method, task, probe, metric, seed) with its ``value``; extra columns (dataset, fraction, fold,
case_ratio, ...) are allowed. Files are parquet or csv by suffix and are written atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pandas as pd

from physiofm.io import write_csv, write_parquet

RESULT_COLUMNS = ("method", "task", "probe", "metric", "seed", "value")


def results_frame(rows: Iterable[Mapping] | pd.DataFrame) -> pd.DataFrame:
    """Validate rows into a tidy results DataFrame (the six columns first, then any extras)."""
    df = pd.DataFrame(rows).copy() if not isinstance(rows, pd.DataFrame) else rows.copy()
    missing = [c for c in RESULT_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"results table lacks column(s) {missing}; required: {list(RESULT_COLUMNS)}")
    for c in ("method", "task", "probe", "metric"):
        df[c] = df[c].astype(str)
    df["seed"] = df["seed"].astype("int64")
    df["value"] = pd.to_numeric(df["value"], errors="raise").astype(float)
    return df[list(RESULT_COLUMNS) + [c for c in df.columns if c not in RESULT_COLUMNS]].reset_index(
        drop=True
    )


def write_results(df: pd.DataFrame, path: Path) -> Path:
    """Write a results table to ``path`` (``.parquet`` or ``.csv``) atomically; returns ``path``."""
    df, path = results_frame(df), Path(path)
    if path.suffix == ".parquet":
        write_parquet(df, path)
    elif path.suffix == ".csv":
        write_csv(df, path)
    else:
        raise ValueError(f"results file {path} must end in .parquet or .csv")
    return path


def read_results(path: Path) -> pd.DataFrame:
    """Read a table written by :func:`write_results` (validated on the way in)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"results file {path} does not exist")
    df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    try:
        return results_frame(df)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from err


def append_results(path: Path, new: pd.DataFrame) -> pd.DataFrame:
    """Add rows to a results file, replacing earlier rows with the same keys (every column except value)."""
    new = results_frame(new)
    if Path(path).is_file():
        old = read_results(path)
        keys = [c for c in new.columns if c != "value"]
        merged = pd.concat([old, new], ignore_index=True)
        merged = merged.drop_duplicates(subset=[k for k in keys if k in merged.columns], keep="last")
    else:
        merged = new
    write_results(merged, path)
    return results_frame(merged)


def cached_results(path: Path, config: str, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The results ``compute()`` makes, kept in ``path`` with a ``config`` column naming what they depend
    on: read back while that is unchanged, computed and written otherwise (slow probes rerun only when
    their features, labels or settings change)."""
    path = Path(path)
    if path.is_file():
        cached = read_results(path)
        if "config" in cached and (cached["config"] == config).all():
            return cached
    df = results_frame(compute().assign(config=config))
    write_results(df, path)
    return df
