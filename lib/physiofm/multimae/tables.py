"""Tables 1-7 of the paper in its layout, the published number beside ours in every cell.

The published numbers are ``params/published/multimae.yaml`` (table -> task -> method -> metric, standard
deviations as ``<metric>_sd``); ours are the tidy results of the probing and fine-tuning steps with the
aggregate score added (:func:`physiofm.multimae.evaluate.with_aggregate`). Which of our rows fills a table:

=========  =====================================================================================
table      our rows
=========  =====================================================================================
1          scratch models ("scratch") and linear probes of the pretrained runs, large patient count
2, 5-7     linear probes, large patient count
3          linear probes, small patient count (the paper's 25)
4          full fine-tuning of the pretrained runs
=========  =====================================================================================
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from physiofm.multimae.tasks import RUN_LABELS

TABLES = ("table_1", "table_2", "table_3", "table_4", "table_5", "table_6", "table_7")


def published(path: Path) -> dict:
    return yaml.safe_load(Path(path).read_text())


def our_rows(results: pd.DataFrame, table: str, large: int, small: int,
             finetune_patients: int) -> pd.DataFrame:
    """The rows of our results that fill ``table`` (see the module docstring)."""
    linear = results["probe"].isin(["fc", "lr"])
    if table == "table_1":
        keep = (results["probe"] == "scratch") | (linear & (results["patients"] == large))
    elif table == "table_3":
        keep = linear & (results["patients"] == small)
    elif table == "table_4":
        keep = (results["probe"] == "finetune") & (results["patients"] == finetune_patients)
    else:
        keep = linear & (results["patients"] == large)
    return results[keep]


def _cell(mean: float, sd: float, decimals: int = 3) -> str:
    if mean is None or np.isnan(mean):
        return "–"
    if sd is None or np.isnan(sd):
        return f"{mean:.{decimals}f}"
    return f"{mean:.{decimals}f} ± {sd:.{decimals}f}"


def paper_table(results: pd.DataFrame, table: str, published_file: Path, large: int, small: int,
                finetune_patients: int) -> pd.DataFrame:
    """One table: rows the paper's methods (and ours it has no row for), columns (task, metric, source) with
    source "published" (mean ± sd over the paper's 5 seeds) and "this study" (mean ± sd over our seeds)."""
    pub = published(published_file)
    columns = [tuple(c) for c in pub["meta"]["columns"][table]]
    ours = our_rows(results, table, large, small, finetune_patients)
    stats = ours.groupby(["method", "task", "metric"])["value"].agg(["mean", "std", "count"])
    methods = list(dict.fromkeys(m for task, _ in columns for m in pub[table].get(task, {})))
    methods += [m for m in dict.fromkeys(ours["method"]) if m not in methods]
    rows = []
    for m in methods:
        row = {}
        for task, metric in columns:
            cell = pub[table].get(task, {}).get(m, {})
            row[(task, metric, "published")] = _cell(cell.get(metric, np.nan),
                                                     cell.get(f"{metric}_sd", np.nan))
            key = (m, task, metric)
            row[(task, metric, "this study")] = ("not run" if key not in stats.index
                                                 else _cell(stats.loc[key, "mean"], stats.loc[key, "std"]))
        rows.append(row)
    frame = pd.DataFrame(rows, index=pd.Index([RUN_LABELS.get(m, m) for m in methods], name="method"))
    frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["task", "metric", "source"])
    return frame


def numbers(results: pd.DataFrame, table: str, large: int, small: int,
            finetune_patients: int) -> pd.DataFrame:
    """Our mean per (method, task, metric) of the rows that fill ``table``, as numbers (for the claims)."""
    ours = our_rows(results, table, large, small, finetune_patients)
    return ours.groupby(["method", "task", "metric"])["value"].mean().rename("value").reset_index()
