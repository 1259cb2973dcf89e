"""The hybrid_ecg study's data step: sources -> 12 x 2,500 mV segments -> stores, splits and labels.

Preprocessing (§3.1): every record resampled to 250 Hz, 10 s (2,500 samples per lead), in mV ("MV-Unit 1.0"),
no filter, no normalisation (:func:`physiofm.preprocess.hybrid_ecg_segments`).

Layout of the data step's folder::

    stores/<source>/          one store per loadable pretraining source (group "ecg", (12, 2500))
    splits.parquet            the pretraining split table: whole patients per source
    downstream/<name>/        the probing / fine-tuning store (PTB-XL, or the built-in cohort)
    labels/downstream.parquet one row per downstream record: the four task columns, strat_fold and
                              ``split`` (test = the test folds; val = a stratified share of the pool's
                              patients; train = the rest of the pool)

The pretraining stores' index keeps each record's patient (``subject_id``), which the run loop's paired
batches read (hybrid_ecg's patient-level positive).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from physiofm import sources
from physiofm.evaluation.tasks import label_table
from physiofm.hybrid_ecg.params import DataStep, PreprocessSection
from physiofm.io import write_json, write_parquet
from physiofm.preprocess import ECG12Preprocess, hybrid_ecg_config, hybrid_ecg_segments
from physiofm.sections import TaskSection
from physiofm.splits import holdout_subjects, read_splits, split_table, write_splits
from physiofm.store import SegmentStore, build_store, open_stores

GROUP = "ecg"  # the store group and the methods' batch key: (12, 2500) mV
STORE_VERSION = 1  # part of every store's build config: bump when this module changes what a store holds


def preprocess_config(p: PreprocessSection) -> ECG12Preprocess:
    return hybrid_ecg_config(fs=p.fs, duration_s=p.duration_s, zscore=p.zscore)


def _store(root: Path, spec, p: DataStep, data_root: Path | None) -> SegmentStore:
    cfg = preprocess_config(p.preprocess)
    config = {"source": spec.model_dump(mode="json"), "preprocess": p.preprocess.model_dump(),
              "store_version": STORE_VERSION}
    return build_store(root, sources.recordings(spec, data_root), partial(hybrid_ecg_segments, cfg=cfg),
                       config, subjects_per_shard=p.store.subjects_per_shard, workers=p.store.workers)


def build_pretrain(p: DataStep, seed: int, out: Path,
                   data_root: Path | None = None) -> dict[str, SegmentStore]:
    """One store per loadable pretraining source under ``out/stores`` and the split table (whole patients,
    ``pretrain_split`` within each source: pretraining / validation loss / unused)."""
    stores = {s.name: _store(Path(out) / "stores" / s.name, s, p, data_root)
              for s in p.pretrain_sources if s.kind != "unavailable"}
    indexes = {n: s.index.assign(source=n) for n, s in stores.items()}
    write_splits(split_table(indexes, p.pretrain_split, seed), out)
    return stores


def downstream_labels(store: SegmentStore, p: DataStep, tasks: list[TaskSection],
                      seed: int) -> pd.DataFrame:
    """The label table of the downstream store with ``split``: the test folds, then a stratified
    ``val_fraction`` of the pool's patients (by their MI / STTC / CD / HYP signature), the rest train."""
    labels = label_table(store.index)
    s = p.downstream_split
    if s.fold_column not in labels:
        raise KeyError(f"downstream store has no {s.fold_column!r} column ({sorted(labels.columns)})")
    test = labels[s.fold_column].astype(int).isin(s.test_folds).to_numpy()
    strata = [t.target for t in tasks if isinstance(t.target, str)]
    val = np.zeros(len(labels), bool)
    val[~test] = holdout_subjects(labels[~test], s.val_fraction, seed, strata=strata)
    labels["split"] = np.where(test, "test", np.where(val, "val", "train"))
    return labels


def build_downstream(p: DataStep, tasks: list[TaskSection], seed: int, out: Path,
                     data_root: Path | None = None) -> tuple[SegmentStore, pd.DataFrame]:
    """The downstream store under ``out/downstream/<name>`` and its label table ``out/labels/downstream``."""
    store = _store(Path(out) / "downstream" / p.downstream.name, p.downstream, p, data_root)
    labels = downstream_labels(store, p, tasks, seed)
    write_parquet(labels, Path(out) / "labels" / "downstream.parquet")
    write_json(Path(out) / "downstream.json", {"name": p.downstream.name})
    return store, labels


def open_downstream(data_dir: Path) -> tuple[str, SegmentStore, pd.DataFrame]:
    """(name, store, label table) of a finished data step's downstream set."""
    data_dir = Path(data_dir)
    name = pd.read_json(data_dir / "downstream.json", typ="series")["name"]
    labels = pd.read_parquet(data_dir / "labels" / "downstream.parquet")
    return str(name), SegmentStore(data_dir / "downstream" / str(name)), labels


def open_pretrain(data_dir: Path) -> tuple[dict[str, SegmentStore], pd.DataFrame]:
    return open_stores(Path(data_dir) / "stores"), read_splits(data_dir)


# ------------------------------------------------------------------------------------------- tables
def sources_table(p: DataStep, published: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the paper's pretraining sources, Table 6 of the published file ``published``; what this profile
    reads for them)."""
    paper_names = {"mimic": "MIMIC-IV", "code15": "CODE-15", "biobank": "UK Biobank", "sami": "SaMi-Trop",
                   "ikem": "IKEM"}
    rows = []
    for key, name in paper_names.items():
        t6 = published["table_6"][key]
        rows.append({"paper source": name, "patients (paper)": t6["patients"], "ECGs (paper)": t6["samples"],
                     "rate (Hz, paper)": t6["fs"], "unit (mV, paper)": t6["mv_unit"]})
    table = pd.DataFrame(rows).set_index("paper source")
    ours = []
    for s in p.pretrain_sources:
        what = {"unavailable": f"not read: {getattr(s, 'reason', '')}",
                "registry": f"loader {getattr(s, 'dataset', '')} ({getattr(s, 'subdir', '')})",
                "synthetic_ecg12": f"built-in 12-lead cohort, seed {getattr(s, 'seed', '')}",
                }.get(s.kind, s.kind)
        ours.append({"this profile": s.name, "read as": what, "stands for": getattr(s, "note", "")})
    return table, pd.DataFrame(ours)


def pretrain_summary(stores: dict[str, SegmentStore], splits: pd.DataFrame) -> pd.DataFrame:
    """Per source and split: patients, records, records per patient, and the share of records whose patient
    has another record there (a true patient-level pair rather than a second view of the same record)."""
    rows = []
    for (store, split), g in splits.groupby(["store", "split"], sort=False):
        per = g.groupby("subject_id").size()
        rows.append({"source": store, "split": split, "patients": len(per), "records": len(g),
                     "records / patient": round(len(g) / max(len(per), 1), 2),
                     "records with a partner": round(float((g["subject_id"].map(per) > 1).mean()), 3)})
    return pd.DataFrame(rows)


def downstream_summary(labels: pd.DataFrame, tasks: list[TaskSection]) -> pd.DataFrame:
    """Per split: patients, records and each task's positives and case ratio (the layout of Table 7)."""
    rows = []
    for split in ("train", "val", "test"):
        g = labels[labels["split"] == split]
        row = {"split": split, "patients": g["subject_id"].nunique(), "records": len(g)}
        for t in tasks:
            y = g[t.target].astype(float)
            row[f"{t.name} cases"] = int(y.sum())
            row[f"{t.name} ratio"] = round(float(y.mean()), 3) if len(y) else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("split")


def example_records(store: SegmentStore, labels: pd.DataFrame, tasks: list[TaskSection], n: int,
                    seed: int) -> tuple[np.ndarray, list[str]]:
    """``n`` records (N, 12, T) mV, a positive of each task where possible, and their titles."""
    rng = np.random.default_rng(seed)
    rows, titles = [], []
    for t in tasks[:n]:
        pos = labels.index[labels[t.target].astype(float) > 0].to_numpy()
        if len(pos):
            rows.append(int(rng.choice(pos)))
            titles.append(f"{t.name}: {labels.loc[rows[-1], 'record_id']}")
    rows = rows[:n]
    return store.read(np.array(rows, dtype=np.int64))[GROUP], titles[:n]
