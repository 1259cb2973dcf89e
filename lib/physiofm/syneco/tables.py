"""The paper's Tables 1-3 with its published numbers beside ours, and the paper's claims checked on ours.

``params/published/syneco.yaml`` nests table -> task -> method -> metric -> value (metric keys name the
probe: ``lr_auroc``, ``rf_mae``), the layout every paper's published numbers share; :func:`published` reads
one table with :func:`physiofm.evaluation.published.load_published` and
:func:`physiofm.evaluation.published_vs_ours` joins it with our tidy results, after our rows are renamed to
the paper's keys (analogue task -> paper task, e.g. ``byol_ecg`` -> ``byol`` in Table 1). The data
notebook's tables (Table B beside our splits, the downstream cohort's label shares) are here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from physiofm import splits as splits_module
from physiofm.evaluation import published_vs_ours
from physiofm.evaluation.published import load_published, published_path
from physiofm.io import write_csv
from physiofm.syneco.probing import RANDOM_INIT
from physiofm.syneco.tasks import PAPER_TABLES, THREE_CHANNEL, PaperTable, column_task

LOWER_IS_BETTER = {"mae"}


def published_raw(path: Path | None = None) -> dict:
    return yaml.safe_load(Path(path or published_path("syneco")).read_text())


def published(table_id: str, path: Path | None = None) -> pd.DataFrame:
    """Long table (task, method, metric, value) of one printed table, plus the numbers the running text
    gives for methods of that table the table itself does not print (SleepFM 2mod on PTB-XL, section 4.1)."""
    path = Path(path or published_path("syneco"))
    df = load_published(path, table_id).drop(columns="table")
    text = load_published(path, "text").drop(columns="table")
    methods = set(PAPER_TABLES[table_id].methods) if table_id in PAPER_TABLES else set()
    keep = text["task"].isin(df["task"]) & text["metric"].isin(df["metric"]) & text["method"].isin(methods)
    text = text[keep & ~text["method"].isin(df["method"])]
    return pd.concat([df, text], ignore_index=True)


def method_label(key: str, path: Path | None = None) -> str:
    labels = published_raw(path)["meta"]["method_labels"]
    return {RANDOM_INIT: "untrained SyneCo (ours)"}.get(key, labels.get(key, key))


def ours_as_paper(results: pd.DataFrame, table: PaperTable, source: str) -> pd.DataFrame:
    """Our results renamed to the paper's keys of ``table`` (task, method, metric = ``<probe>_<metric>``)."""
    back = {ours: key for key, ours in table.methods.items()}
    rows = []
    for paper_task, (probe, metric, _) in table.columns.items():
        task = column_task(table, paper_task, source)
        if task is None:
            continue
        sel = results[(results["task"] == task) & (results["probe"] == probe) & (results["metric"] == metric)]
        for _, r in sel.iterrows():
            method = back.get(r["method"], r["method"] if r["method"] == RANDOM_INIT else None)
            if method is None:
                continue
            if paper_task in table.only_three_channel and r["method"] not in (*THREE_CHANNEL, RANDOM_INIT):
                continue
            rows.append({"task": paper_task, "method": method, "metric": f"{probe}_{metric}",
                         "seed": r["seed"], "value": r["value"]})
    return pd.DataFrame(rows, columns=["task", "method", "metric", "seed", "value"])


def paper_table(results: pd.DataFrame, table_id: str, source: str, path: Path | None = None,
                decimals: int = 3) -> pd.DataFrame:
    """Table ``table_id`` in the paper's layout: one row per method, per column the paper's number and ours
    (mean ± std over seeds); our extra rows (the untrained reference) carry no published number."""
    table = PAPER_TABLES[table_id]
    pub = published(table_id, path)
    ours = ours_as_paper(results, table, source)
    # Every (method, column) cell exists: a method the paper prints only in some columns (SleepFM 2mod in
    # Table 1, from the running text) or not at all (our untrained reference) gets "–" where it has no number.
    metric_of = pub.drop_duplicates("task").set_index("task")["metric"]
    methods = list(dict.fromkeys([*pub["method"], *sorted(set(ours["method"]) - set(pub["method"]))]))
    grid = pd.DataFrame([{"task": t, "method": m, "metric": metric_of[t]}
                         for m in methods for t in table.columns])
    pub_full = grid.merge(pub, on=["task", "method", "metric"], how="left")
    wide = published_vs_ours(pub_full, ours, index="method", columns=("task", "metric"), decimals=decimals)
    wide = wide.droplevel("metric", axis=1)
    wide.index = [method_label(m, path) for m in wide.index]
    wide.index.name = "method"
    if source == "synthetic":  # name the analogue under each paper column
        wide.columns = pd.MultiIndex.from_tuples(
            [(f"{t} ↔ {table.columns[t][2] or 'no analogue'}", s) for t, s in wide.columns])
    return wide.replace({"not run": "–"})


def numeric(results: pd.DataFrame, table_id: str, source: str) -> pd.DataFrame:
    """Our means (rows: our method ids, columns: the table's paper tasks) of one table."""
    table = PAPER_TABLES[table_id]
    ours = ours_as_paper(results, table, source)
    if ours.empty:
        return pd.DataFrame()
    wide = ours.groupby(["method", "task"])["value"].mean().unstack("task")
    wide = wide.reindex(columns=[t for t in table.columns if t in wide.columns])
    fwd = {key: m for key, m in table.methods.items()}
    wide.index = [fwd.get(k, k) for k in wide.index]
    return wide


def _better(a: float, b: float, metric: str) -> bool:
    return a < b if metric in LOWER_IS_BETTER else a > b


def compare(results: pd.DataFrame, a: str, b: str, source: str, tables: Sequence[str] = tuple(PAPER_TABLES)
            ) -> pd.DataFrame:
    """Method ``a`` vs ``b`` on every column of ``tables`` both were evaluated on: both means and the
    paper's numbers, and whether ``a`` wins here and in the paper (lower MAE counts as better)."""
    rows = []
    for tid in tables:
        table = PAPER_TABLES[tid]
        back = {ours: key for key, ours in table.methods.items()}
        num = numeric(results, tid, source)
        pub = published(tid).set_index(["task", "method"])["value"]
        for paper_task, (_, metric, _) in table.columns.items():
            if paper_task not in num.columns or a not in num.index or b not in num.index:
                continue
            va, vb = num.loc[a, paper_task], num.loc[b, paper_task]
            if not (np.isfinite(va) and np.isfinite(vb)):
                continue
            pa, pb = (pub.get((paper_task, back.get(m, m)), np.nan) for m in (a, b))
            rows.append({"table": tid, "paper task": paper_task, "metric": metric, f"{a}": va, f"{b}": vb,
                         f"{a} wins here": _better(va, vb, metric),
                         f"paper: {a}": pa, f"paper: {b}": pb,
                         f"{a} wins in paper": _better(pa, pb, metric) if np.isfinite(pa) and np.isfinite(pb)
                         else None})
    return pd.DataFrame(rows)


def claims(results: pd.DataFrame, source: str) -> pd.DataFrame:
    """The paper's headline comparisons, counted column by column on our results and on the paper's."""
    spec = [
        ("SyneCo beats SleepFM Pair", "syneco", "sleepfm_pair", tuple(PAPER_TABLES)),
        ("SyneCo beats SleepFM LOO", "syneco", "sleepfm_loo", tuple(PAPER_TABLES)),
        ("fusion beats concatenation (SyneCo vs Stack)", "syneco", "stack", tuple(PAPER_TABLES)),
        ("three channels beat two (SyneCo vs SyneCo 2mod), ECG tasks", "syneco", "syneco_2mod", ("table_1",)),
        ("three channels beat two (SyneCo vs SyneCo 2mod), multi-channel", "syneco", "syneco_2mod",
         ("table_3",)),
        ("three channels beat two (SleepFM LOO vs SleepFM 2mod), ECG tasks", "sleepfm_loo", "sleepfm_2mod",
         ("table_1",)),
        ("three channels beat two (SleepFM LOO vs SleepFM 2mod), multi-channel", "sleepfm_loo",
         "sleepfm_2mod", ("table_3",)),
        ("SyneCo beats BYOL", "syneco", "byol_ecg", ("table_1",)),
        ("SyneCo beats BYOL", "syneco", "byol_ppg", ("table_2",)),
        ("SyneCo beats SimCLR", "syneco", "simclr_ecg", ("table_1",)),
        ("SyneCo beats SimCLR", "syneco", "simclr_ppg", ("table_2",)),
    ]
    rows = []
    for claim, a, b, tables in spec:
        c = compare(results, a, b, source, tables)
        if c.empty:
            continue
        paper = c[f"{a} wins in paper"].dropna()
        rows.append({"claim": claim, "tables": ", ".join(tables), "columns": len(c),
                     "wins here": int(c[f"{a} wins here"].sum()),
                     "wins in paper": f"{int(paper.sum())} of {len(paper)}" if len(paper) else "–"})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------ data notebook
def table_b(path: Path | None = None) -> pd.DataFrame:
    """The paper's Table B (database, split, subjects, records, segments, hours, cap per record)."""
    raw = published_raw(path)["table_b"]
    return pd.DataFrame([{"database": db, "split": sp, **vals} for db, parts in raw.items()
                         for sp, vals in parts.items()])


def split_counts(store, splits: pd.DataFrame, out: Path) -> pd.DataFrame:
    """Subjects, records, segments and hours per source and split of the pretraining store (Table B's
    layout), written to ``out/splits_table.csv``."""
    table = splits_module.split_counts(splits, {"pretrain": store.index}, segment_s=10.0)
    write_csv(table, Path(out) / "splits_table.csv")
    return table


SUBJECT_LABELS = ("af", "conduction", "st_change", "v_rprime", "stiff", "hypertensive_subject", "female",
                  "older")


def downstream_overview(labels: pd.DataFrame) -> list[pd.DataFrame]:
    """The built-in downstream cohort at a glance: its size, the share of subjects with each subject label,
    segments per activity and per alarm kind."""
    prevalence = labels.groupby("subject_id")[list(SUBJECT_LABELS)].first().mean()
    return [pd.DataFrame({"subjects": labels["subject_id"].nunique(), "segments": len(labels)},
                         index=["downstream"]),
            prevalence.rename("share of subjects with the label").to_frame().round(3),
            labels["activity"].value_counts().rename("segments per activity").to_frame(),
            labels["alarm"].value_counts().rename("segments per alarm kind").to_frame()]


def loss_terms(curves: pd.DataFrame,
               methods: Sequence[str] = ("syneco", "stack", "syneco_2mod")) -> pd.DataFrame:
    """SyneCo's loss and its two terms (fused, per-channel) at the first and last logged step of each
    fused run."""
    cols = [c for c in ("loss", "fused_loss", "mod_loss") if c in curves]
    tail = curves[curves["method"].isin(methods)].groupby("method")[cols]
    return pd.concat({"first": tail.first(), "last": tail.last()}, axis=1).round(3)


def ablation(results: pd.DataFrame, a: str, b: str, source: str, out: Path, name: str) -> pd.DataFrame:
    """:func:`compare` of ``a`` and ``b`` written to ``out/<name>.csv`` (empty when either was not run)."""
    if not {a, b} <= set(results["method"]):
        return pd.DataFrame({"note": [f"{a} or {b} was not trained in this profile"]})
    table = compare(results, a, b, source)
    write_csv(table, Path(out) / f"{name}.csv")
    return table


def write_claims(results: pd.DataFrame, source: str, out: Path) -> pd.DataFrame:
    """:func:`claims`, written to ``out/claims.csv``."""
    table = claims(results, source)
    write_csv(table, Path(out) / "claims.csv")
    return table


def write_paper_table(results: pd.DataFrame, table_id: str, source: str, out: Path) -> pd.DataFrame:
    """:func:`paper_table`, written to ``out/<table_id>.csv``."""
    table = paper_table(results, table_id, source)
    write_csv(table, Path(out) / f"{table_id}.csv", index=True)
    return table
