"""MultiMAE's data step: PSG nights -> MultiMAE preprocessing -> one segment store, patient splits, labels.

Written to the step's folder::

    stores/psg/         30-s windows, groups eeg / eog / emg / ecg of (1, 3000) at 100 Hz (z-scored per night)
    splits.parquet      the split table: every unlabelled patient and 657/993 of the labelled ones "train"
                        (pretraining; the probe's training patients are drawn from the labelled ones),
                        117/993 "val", 219/993 "test" (§3.1; proportions of the labelled patients found)
    labels.parquet      one row per window: the store index with the task columns and ``split``
    arousal_rates.csv   the positive rate of every arousal rule (PhysioNet 2018: "any", "min_overlap",
                        "centre"; the paper's 2.7 % picks the rule)
    info.json           source, counts, the arousal rule in use
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np
import pandas as pd

from physiofm import sources
from physiofm.datasets.physionet2018 import arousal_labels, arousal_rule_rates, epoch_arousal
from physiofm.evaluation.tasks import label_table
from physiofm.io import read_json, write_csv, write_json, write_parquet
from physiofm.multimae.params import DataStep, PreprocessSection
from physiofm.multimae.tasks import STORE, TASKS
from physiofm.preprocess import MultiMAEPreprocess, multimae_segments
from physiofm.splits import split_table, write_splits
from physiofm.store import SegmentStore, build_store

STORE_VERSION = 1  # bump when this module changes what goes into the store


def preprocess_config(p: PreprocessSection) -> MultiMAEPreprocess:
    return MultiMAEPreprocess(channels={m: tuple(c) for m, c in p.channels.items()},
                              bands={m: tuple(b) for m, b in p.bands.items()}, fs_in=p.fs_in, factor=p.factor,
                              numtaps=p.numtaps, window_s=p.window_s, max_gap_s=p.max_gap_s, zscore=p.zscore)


def build(p: DataStep, seed: int, out: Path, data_root: Path | None = None,
          progress: bool = True) -> SegmentStore:
    """The store, the split table and the label table (with the arousal rule applied) of this profile."""
    cfg = preprocess_config(p.preprocess)
    config = {"preprocess": dataclasses.asdict(cfg), "source": p.source.model_dump(mode="json"),
              "store_version": STORE_VERSION}
    store = build_store(Path(out) / "stores" / STORE, sources.recordings(p.source, data_root),
                        functools.partial(multimae_segments, cfg=cfg), config,
                        subjects_per_shard=p.store.subjects_per_shard, workers=p.store.workers,
                        progress=progress)
    labels = label_table(store.index)
    if labels.empty:
        raise ValueError(f"{p.source.name}: no 30-s window passed preprocessing; see the store's funnel")
    labelled = labelled_patients(labels)
    kind = np.where(labels["subject_id"].map(labelled), "labelled", "unlabelled")
    fractions = {"labelled": tuple(np.asarray(p.labelled_split) / sum(p.labelled_split)),
                 "unlabelled": (1.0, 0.0, 0.0)}
    splits = split_table({STORE: store.index.assign(source=kind)}, fractions, seed)
    write_splits(splits, out)
    labels["split"] = splits["split"].to_numpy()
    labels["labelled"] = kind == "labelled"
    if "arousal_s" not in labels or "arousal_centre" not in labels:  # the built-in cohort: from its events
        labels = labels.join(cohort_arousal_columns(p, labels))
    rates = arousal_rates(p, labels)
    used = str(rates.index[rates["used"]][0])
    rule = "min_overlap" if used.startswith("min_overlap") else used
    scored = labels["stage_code"].notna()
    labels["arousal"] = arousal_labels(labels, rule, p.arousal_min_overlap_s).where(scored)
    write_parquet(labels, Path(out) / "labels.parquet")
    write_info(out, p, labels, rates)
    return store


def labelled_patients(labels: pd.DataFrame) -> pd.Series:
    """Subject -> True when any of its windows has a sleep stage (the challenge's scored records)."""
    return labels["stage_code"].notna().groupby(labels["subject_id"]).any()


def read_labels(data_dir: Path) -> pd.DataFrame:
    path = Path(data_dir) / "labels.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no label table; run the data step first")
    return pd.read_parquet(path)


def open_store(data_dir: Path) -> SegmentStore:
    return SegmentStore(Path(data_dir) / "stores" / STORE)


# --------------------------------------------------------------------------------------------- arousal
def cohort_arousal_columns(p: DataStep, labels: pd.DataFrame, fs: float = 100.0) -> pd.DataFrame:
    """``arousal_s`` and ``arousal_centre`` of every window of the built-in cohort, from its arousal events
    (the columns the PhysioNet 2018 loader reads from its per-sample arousal vector), on a ``fs`` grid."""
    cohort = sources.cohort(p.source)
    events = cohort.events[cohort.events["kind"] == "arousal"]
    window = p.preprocess.window_s
    n = int(round(window * fs))
    secs = np.full(len(labels), np.nan)
    centre = np.full(len(labels), np.nan)
    prefix = f"{p.source.name}/"
    for rid, rows in labels.groupby("record_id").indices.items():
        inner = str(rid).removeprefix(prefix)
        starts = labels["offset_s"].to_numpy(float)[rows]
        vector = np.zeros(int(round((starts.max() + window) * fs)))
        for onset, dur in events.loc[events["record_id"] == inner, ["onset", "duration"]].to_numpy(float):
            vector[int(onset * fs): int((onset + dur) * fs)] = 1
        first = np.round(starts * fs).astype(int)
        windows = vector[first[:, None] + np.arange(n)]
        secs[rows] = windows.sum(axis=1) / fs
        centre[rows] = epoch_arousal(windows.reshape(-1), fs, "centre", epoch_s=window)
    return pd.DataFrame({"arousal_s": secs, "arousal_centre": centre}, index=labels.index)


def arousal_rates(p: DataStep, labels: pd.DataFrame) -> pd.DataFrame:
    """Positive rate of each arousal rule over the scored windows, its distance to the paper's 2.7 %, the
    rule closest to it, and the rule this profile uses (``arousal_rule``; "closest": that one)."""
    scored = labels[labels["stage_code"].notna()]
    table = arousal_rule_rates(scored, p.arousal_min_overlap_s).rename("positive rate").to_frame()
    distance = (table["positive rate"] - p.target_arousal_rate).abs()
    table["distance to the paper's rate"] = distance
    table["closest"] = np.arange(len(table)) == int(np.argmin(distance.to_numpy()))  # a tie: the first
    if p.arousal_rule == "closest":
        table["used"] = table["closest"]
    else:
        table["used"] = [r == p.arousal_rule or r.startswith(f"{p.arousal_rule}_") for r in table.index]
    return table.rename_axis("rule")


# ----------------------------------------------------------------------------------------------- tables
def split_summary(labels: pd.DataFrame) -> pd.DataFrame:
    """Patients, windows and hours per split (labelled and unlabelled patients apart), and label shares."""
    rows = []
    for split in ("train", "val", "test"):
        for labelled in (True, False):
            g = labels[(labels["split"] == split) & (labels["labelled"] == labelled)]
            if g.empty:
                continue
            scored = g[g["stage_code"].notna()]
            rows.append({"split": split, "patients": "labelled" if labelled else "unlabelled",
                         "n patients": g["subject_id"].nunique(), "windows": len(g),
                         "hours": round(len(g) * 30 / 3600, 1),
                         "age >= 55 (share of patients)": g.groupby("subject_id")["old"].first().mean(),
                         "arousal windows (share)": scored["arousal"].mean() if len(scored) else np.nan})
    return pd.DataFrame(rows).set_index(["split", "patients"]).round(3)


def stage_counts(labels: pd.DataFrame) -> pd.DataFrame:
    """Windows per sleep stage and split (labelled windows)."""
    scored = labels[labels["stage_code"].notna()]
    counts = scored.groupby(["split", "stage"]).size().unstack("stage").fillna(0).astype(int)
    stages = [s for s in ("W", "N1", "N2", "N3", "REM") if s in counts]
    return counts[stages].reindex(["train", "val", "test"])


def write_info(out: Path, p: DataStep, labels: pd.DataFrame, rates: pd.DataFrame) -> dict:
    info = {"source": p.source.kind, "name": p.source.name, "windows": len(labels),
            "patients": int(labels["subject_id"].nunique()),
            "labelled_patients": int(labels.loc[labels["labelled"], "subject_id"].nunique()),
            "arousal_rule": str(rates.index[rates["used"]][0]),
            "closest_rule": str(rates.index[rates["closest"]][0]),
            "arousal_rate": float(labels["arousal"].mean()),
            "tasks": {k: list(t.columns) for k, t in TASKS.items()}}
    write_json(Path(out) / "info.json", info)
    write_csv(rates.reset_index(), Path(out) / "arousal_rates.csv")
    return info


def read_rates(data_dir: Path) -> pd.DataFrame:
    return pd.read_csv(Path(data_dir) / "arousal_rates.csv").set_index("rule")


def read_info(data_dir: Path) -> dict:
    return read_json(Path(data_dir) / "info.json")


def example_windows(store: SegmentStore, labels: pd.DataFrame, n: int,
                    seed: int) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """``n`` labelled windows of different stages and patients (arrays per modality, their label rows)."""
    scored = labels[labels["stage_code"].notna()]
    rng = np.random.default_rng(seed)
    picks = [rng.choice(g.index.to_numpy()) for _, g in scored.groupby("stage_code")]
    rest = rng.permutation(scored.index.difference(picks).to_numpy())
    chosen = np.sort(np.concatenate([picks, rest])[:n].astype(int))
    rows = scored.loc[chosen]
    return store.read(rows["row"].to_numpy()), rows.reset_index(drop=True)



def glue_arousal(data_dir: Path) -> None:
    """Hand the arousal rule in use and every rule's positive rate to the book (``myst_nb.glue`` keys
    ``arousal_rule``, ``arousal_rate`` and ``arousal_rate_<rule>``, rates as percentages)."""
    from myst_nb import glue

    info, rates = read_info(data_dir), read_rates(data_dir)
    glue("arousal_rule", info["arousal_rule"], display=False)
    glue("arousal_rate", f"{100 * info['arousal_rate']:.2f} %", display=False)
    for rule, rate in rates["positive rate"].items():
        glue(f"arousal_rate_{rule.split('_')[0]}", f"{100 * rate:.2f} %", display=False)
