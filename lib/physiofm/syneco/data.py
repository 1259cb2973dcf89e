"""The SyneCo study's data step: recordings -> SyneCo preprocessing -> segment stores, splits and labels.

Two stores come out of the step, both written with :class:`physiofm.store.SegmentStore`:

* ``pretrain/``: the pretraining corpus (section 2.4): >= 10 min continuous spans, 10-s windows in which
  ECG-II, ECG-V and PPG are all valid, flatline QC, per-source caps, filters, z-score. Its subjects are
  split into pretrain / validation / held-out test per source (``splits.parquet``).
* ``downstream*/``: the probing data. On the built-in data, a second, independent synthetic cohort
  (the analogue of the paper's held-out VitalDB split and external benchmarks) through the same filters,
  without the 10-minute rule and without caps beyond ``downstream_max_segments`` per record. On real
  data, one store per benchmark dataset (short windows zero-padded to 10 s, as the paper does for
  PPG-DaLiA and PPG-BP).

``state.json`` next to each store holds the config it was built with; a changed config wipes the store
(a store build resumes only with an identical shard plan).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from physiofm.preprocess import SyneCoPreprocess, syneco_transform
from physiofm.recording import Recording, RecordingSet
from physiofm.segments import Funnel, Segments, segment_recordings
from physiofm.splits import check_disjoint, subject_splits
from physiofm.store import SegmentStore
from physiofm.syneco.params import CohortSection, DataStep, DownstreamSource, PreprocessSection
from physiofm.io import write_parquet as _wp
write_parquet_atomic = lambda df, p: _wp(df, p)  # noqa: E731 - temporary

# Channel group -> names a record may use for it: the loaders' canonical names first, then the
# synthetic cohort's ("II", "V", "PPG") and common monitor labels. A 12-lead ECG has no "V" channel,
# so its V lead is V5 (VitalDB's ECG_V5; the paper does not say which chest lead it used).
ALIASES: dict[str, tuple[str, ...]] = {
    "ecg_ii": ("ecg_ii", "II", "ECG_II", "ECG II"),
    "ecg_v": ("ecg_v", "V", "V5", "ECG_V5", "ECG_V", "ECG V"),
    "ppg": ("ppg", "PPG", "PLETH", "Pleth"),
}
ECG_GROUPS = ("ecg_ii", "ecg_v")
SPLIT_NAMES = ("pretrain", "val", "test")


def preprocess_config(p: PreprocessSection, seed: int = 0, channels: Sequence[str] = tuple(ALIASES),
                      **overrides: Any) -> SyneCoPreprocess:
    """The :class:`SyneCoPreprocess` of a params section for the channel groups ``channels``."""
    values = {**p.model_dump(), **overrides}
    return SyneCoPreprocess(
        ecg={g: ALIASES[g] for g in channels if g in ECG_GROUPS},
        ppg={g: ALIASES[g] for g in channels if g == "ppg"},
        seed=seed, **values,
    )


def fresh_dir(path: Path, config: dict[str, Any]) -> bool:
    """Make ``path`` hold work for ``config``: wipe it when its ``state.json`` names another config.

    Returns True when ``path`` already holds a finished result for this config (``state.json`` with
    ``"done": true``), so the caller may skip the work.
    """
    path = Path(path)
    state = path / "state.json"
    key = json.dumps(config, sort_keys=True, default=str)
    if state.is_file():
        old = json.loads(state.read_text())
        if old.get("config") == key:
            return bool(old.get("done"))
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    state.write_text(json.dumps({"config": key, "done": False}))
    return False


def mark_done(path: Path) -> None:
    state = Path(path) / "state.json"
    old = json.loads(state.read_text())
    tmp = state.with_suffix(".tmp")
    tmp.write_text(json.dumps({**old, "done": True}))
    tmp.replace(state)


# ------------------------------------------------------------------------------------------- sources
def synthetic_cohort(c: CohortSection):
    """:func:`physiofm.synthetic.icu_cohort` for a cohort section."""
    from physiofm.synthetic import ArtefactRates, icu_cohort

    return icu_cohort(c.n_subjects, c.seed, duration_s=c.duration_s, v_lead=c.v_lead,
                      alarms_per_hour=c.alarms_per_hour, artefacts=ArtefactRates().scaled(c.artefact_scale))


def chain(name: str, sets: Sequence[RecordingSet]) -> RecordingSet:
    """Several recording sets as one (records tables stacked; each row still loads from its own set)."""
    tables = [s.records.assign(_set=i, _pos=np.arange(len(s))) for i, s in enumerate(sets)]
    empty = pd.DataFrame(columns=["record_id", "subject_id"])
    table = pd.concat(tables, ignore_index=True) if tables else empty
    return RecordingSet(name, table, lambda row: sets[int(row["_set"])][int(row["_pos"])])


def real_pretrain_recordings(p: DataStep, data_root: Path) -> RecordingSet:
    """MIMIC-III / MIMIC-IV / VitalDB through ``physiofm.datasets.load`` (paper profile)."""
    from physiofm.datasets import load

    if data_root is None:
        raise ValueError("the data step reads real datasets (source: real) but no --data-root was given")
    sets = [load(s.dataset, Path(data_root) / s.subdir, **s.options) for s in p.pretrain_sources]
    return chain("syneco_pretrain", sets)


# ---------------------------------------------------------------------------------------------- build
def build_store(root: Path, recordings: RecordingSet, cfg: SyneCoPreprocess, *, subjects_per_shard: int,
                workers: int, process=None) -> SegmentStore:
    """A segment store of ``recordings`` preprocessed with ``cfg`` (resumes a half-built one)."""
    from physiofm.preprocess import syneco_segments

    process = process or partial(syneco_segments, cfg=cfg)
    config = {"preprocess": asdict(cfg)}
    return SegmentStore.build(root, recordings, process, subjects_per_shard=subjects_per_shard,
                              workers=workers, config=json.loads(json.dumps(config, default=str)))


def split_subjects(index: pd.DataFrame, fractions: dict[str, Sequence[float]], seed: int) -> pd.Series:
    """Pretrain / val / test name per store row, drawn over subjects separately for each source."""
    out = pd.Series(index=index.index, dtype=object, name="split")
    for source, rows in index.groupby("source").groups.items():
        if source not in fractions:
            raise KeyError(f"no split fractions for source {source!r}; have {sorted(fractions)}")
        part = index.loc[rows]
        out.loc[rows] = subject_splits(part, tuple(fractions[source]), by=None, seed=seed,
                                       names=SPLIT_NAMES).to_numpy()
    check_disjoint(index, out)
    return out


def write_splits(root: Path, index: pd.DataFrame, split: pd.Series) -> Path:
    df = pd.DataFrame({"row": np.arange(len(index)), "subject_id": index["subject_id"].astype(str).to_numpy(),
                       "source": index["source"].astype(str).to_numpy(), "split": split.to_numpy()})
    return write_parquet_atomic(df, Path(root) / "splits.parquet")


def read_splits(data_dir: Path) -> pd.DataFrame:
    path = Path(data_dir) / "splits.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no pretraining splits; run the data step first")
    return pd.read_parquet(path)


def split_table(index: pd.DataFrame, split: pd.Series) -> pd.DataFrame:
    """Subjects, records and segments per source and split (the layout of the paper's Table B)."""
    df = index.assign(split=split.to_numpy())
    g = df.groupby(["source", "split"])
    return pd.DataFrame({"subjects": g["subject_id"].nunique(), "records": g["record_id"].nunique(),
                         "segments": g.size(), "hours": (g.size() * 10 / 3600).round(2)}).reset_index()


def padded_segments(recordings, cfg: SyneCoPreprocess, window_s: float, pad_short: bool,
                    progress: bool = False) -> Segments:
    """Downstream records -> ``cfg.window_s`` segments: windows of ``window_s`` (records shorter than one
    window taken whole when ``pad_short``), SyneCo's filters and z-score, then zero-padded to the model's
    length. The paper pads PPG-DaLiA's 8-s windows and PPG-BP's ~2.1-s pulses to 10 s this way."""
    recordings = list(recordings)
    groups = {**cfg.ecg, **cfg.ppg}
    rates = {g: cfg.ecg_fs for g in cfg.ecg} | {g: cfg.ppg_fs for g in cfg.ppg}
    is_short = [pad_short and rec.duration() < window_s for rec in recordings]
    long = [r for r, s in zip(recordings, is_short) if not s]
    parts, funnel = [], Funnel()
    if long:
        segs = segment_recordings(long, groups, window_s, min_duration_s=cfg.min_duration_s,
                                  max_gap_s=cfg.max_gap_s, max_invalid=cfg.max_invalid,
                                  max_flatline=cfg.max_flatline, record_cap=cfg.record_cap or None,
                                  seed=cfg.seed, progress=progress)
        funnel = segs[0].funnel
        parts += [p for p in segs if len(p)]
    for rec in (r for r, s in zip(recordings, is_short) if s):  # one whole segment per short record
        one = segment_recordings([rec], groups, rec.duration() - 1e-6, max_gap_s=cfg.max_gap_s,
                                 max_invalid=cfg.max_invalid, max_flatline=cfg.max_flatline)
        funnel = funnel + one[0].funnel
        parts += [p for p in one if len(p)]
    done = []
    for p in parts:
        x = syneco_transform(p.arrays, p.fs, cfg)
        n = {g: int(round(cfg.window_s * rates[g])) for g in x}
        x = {g: np.pad(a[..., :n[g]], ((0, 0), (0, 0), (0, max(0, n[g] - a.shape[-1]))))
             for g, a in x.items()}
        done.append(Segments(x, p.index, rates, funnel))
    return Segments.concat(done, funnel=funnel)


def downstream_process(source: DownstreamSource, cfg: SyneCoPreprocess):
    return partial(padded_segments, cfg=cfg, window_s=source.window_s, pad_short=source.pad_short)


def channels_of(recordings: RecordingSet) -> list[str]:
    """The SyneCo channel groups the first record of a set provides."""
    rec: Recording = recordings[0]
    return [g for g, names in ALIASES.items() if any(n in rec.signals for n in names)]


# ---------------------------------------------------------------------------------------------- labels
def subject_table(index: pd.DataFrame, subjects: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per subject of a store index, with the subject attributes when given."""
    subj = index.groupby("subject_id", sort=True).agg(segments=("record_id", "size")).reset_index()
    if subjects is not None:
        subj = subj.merge(subjects, on="subject_id", how="left")
    return subj


def example_segments(store: SegmentStore, n: int,
                     seed: int = 0) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """``n`` segments of different subjects (arrays per group, their index rows) for plotting."""
    rng = np.random.default_rng(seed)
    first = store.index.reset_index().groupby("subject_id").first()["index"].to_numpy()
    rows = np.sort(rng.choice(first, size=min(n, len(first)), replace=False))
    return store.read(rows), store.index.iloc[rows].reset_index(drop=True)


def write_json(path: Path, obj: Any) -> None:
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=str))
    tmp.replace(path)


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


# ---------------------------------------------------------------------------------------- the step
def _build(root: Path, config: dict, recordings: RecordingSet, cfg: SyneCoPreprocess, p: DataStep,
           process=None) -> SegmentStore:
    if fresh_dir(root, config) and (root / "store" / "store.json").is_file():
        return SegmentStore(root / "store")
    store = build_store(root / "store", recordings, cfg, subjects_per_shard=p.store.subjects_per_shard,
                        workers=p.store.workers, process=process)
    mark_done(root)
    return store


def build_pretrain(p: DataStep, seed: int, out: Path, data_root: Path | None = None):
    """The pretraining store and its splits; returns ``(store, splits, cohort)`` (cohort None on real data).

    Written to ``out/pretrain/store`` and ``out/splits.parquet``.
    """
    cfg = preprocess_config(p.preprocess, seed)
    config = {"step": p.model_dump(exclude={"proofs", "example_segments", "downstream_cohort",
                                            "downstream_sources", "downstream_max_segments"}), "seed": seed}
    if p.source == "synthetic":
        cohort = synthetic_cohort(p.pretrain_cohort)
        recordings, fractions = cohort.recordings, {cohort.name: p.synthetic_split}
    else:
        cohort = None
        recordings = real_pretrain_recordings(p, data_root)
        fractions = {s.dataset: s.split for s in p.pretrain_sources}
    store = _build(Path(out) / "pretrain", config, recordings, cfg, p)
    split = split_subjects(store.index, fractions, seed)
    write_splits(out, store.index, split)
    return store, read_splits(out), cohort


def build_downstream(p: DataStep, seed: int, out: Path, data_root: Path | None = None,
                     pretrain_splits: pd.DataFrame | None = None) -> dict[str, SegmentStore]:
    """The probing stores (``out/downstream*/store``) and their label tables (``labels_<name>.parquet``).

    Always: one store ``downstream`` of the built-in downstream cohort, labelled by
    :func:`physiofm.syneco.tasks.synthetic_labels` (the analogue tasks and the synergy step). Real data in
    addition: one store per benchmark dataset plus ``vitaldb_test`` (the VitalDB subjects of the held-out
    test split, with the pretraining preprocessing).
    """
    from physiofm.syneco.tasks import synthetic_labels

    out = Path(out)
    stores: dict[str, SegmentStore] = {}
    base = {"seed": seed, "preprocess": p.preprocess.model_dump(), "max": p.downstream_max_segments}
    cohort = synthetic_cohort(p.downstream_cohort)
    cfg = preprocess_config(p.preprocess, seed, min_duration_s=0.0, subject_cap={},
                            record_cap={"*": p.downstream_max_segments})
    store = _build(out / "downstream", {**base, "cohort": p.downstream_cohort.model_dump()},
                   cohort.recordings, cfg, p)
    stores["downstream"] = store
    write_labels(out / "labels_downstream.parquet", synthetic_labels(store.index, cohort.subjects))
    if p.source == "synthetic":
        return stores
    from physiofm.datasets import load

    for s in p.downstream_sources:
        rs = load(s.dataset, Path(data_root) / s.subdir, **s.options)
        cfg = preprocess_config(p.preprocess, seed, channels=channels_of(rs), min_duration_s=0.0,
                                subject_cap={}, record_cap={"*": p.downstream_max_segments})
        stores[s.dataset] = _build(out / f"downstream_{s.dataset}", {**base, "source": s.model_dump()}, rs,
                                   cfg, p, process=downstream_process(s, cfg))
        write_labels(out / f"labels_{s.dataset}.parquet", real_labels(stores[s.dataset].index))
    vital = [s for s in p.pretrain_sources if s.dataset == "vitaldb"]
    if vital and pretrain_splits is not None:
        test = set(pretrain_splits.loc[(pretrain_splits["split"] == "test")
                                       & (pretrain_splits["source"] == "vitaldb"), "subject_id"])
        rs = load("vitaldb", Path(data_root) / vital[0].subdir, **vital[0].options)
        rs = rs.subset(rs.records["subject_id"].astype(str).isin(test).to_numpy())
        cfg = preprocess_config(p.preprocess, seed, record_cap={"*": p.downstream_max_segments})
        stores["vitaldb_test"] = _build(out / "downstream_vitaldb_test",
                                        {**base, "vitaldb": vital[0].model_dump()}, rs, cfg, p)
        write_labels(out / "labels_vitaldb_test.parquet", real_labels(stores["vitaldb_test"].index))
    return stores


def real_labels(index: pd.DataFrame) -> pd.DataFrame:
    """A real store's index as a label table: ``row`` (store position) plus every label column."""
    df = index.drop(columns=[c for c in ("shard",) if c in index]).reset_index(drop=True)
    df.insert(0, "row", np.arange(len(df)))
    df["subject_id"] = df["subject_id"].astype(str)
    return df


def write_labels(path: Path, labels: pd.DataFrame) -> Path:
    tmp = Path(path).with_suffix(".tmp")
    labels.to_parquet(tmp, index=False)
    tmp.replace(path)
    return Path(path)


def ecg_length(data_dir: Path) -> int:
    """Samples per ECG segment of the pretraining store (PPG is resampled to it for ECG-only models)."""
    return int(SegmentStore(Path(data_dir) / "pretrain" / "store").groups["ecg_ii"]["shape"][-1])


def open_downstream(data_dir: Path) -> dict[str, tuple[SegmentStore, pd.DataFrame]]:
    """Every downstream store of a finished data step with its label table."""
    data_dir = Path(data_dir)
    out = {}
    for labels in sorted(data_dir.glob("labels_*.parquet")):
        name = labels.stem.removeprefix("labels_")
        folder = data_dir / ("downstream" if name == "downstream" else f"downstream_{name}") / "store"
        out[name] = (SegmentStore(folder), pd.read_parquet(labels))
    if not out:
        raise FileNotFoundError(f"{data_dir}: no downstream label tables; run the data step first")
    return out


# ------------------------------------------------------------------------------------------ proofs
def first_records(cohort, n: int):
    """The first ``n`` records of a synthetic cohort as a cohort (its tables cut to match)."""
    import dataclasses

    rs = cohort.recordings.subset(np.arange(min(n, len(cohort.recordings))))
    ids, subjects = set(rs.records["record_id"]), set(rs.records["subject_id"])
    return dataclasses.replace(cohort, recordings=rs,
                               subjects=cohort.subjects[cohort.subjects["subject_id"].isin(subjects)],
                               labels=cohort.labels[cohort.labels["record_id"].isin(ids)],
                               events=cohort.events[cohort.events["record_id"].isin(ids)])


def structure_proofs(p: DataStep, out: Path) -> dict[str, pd.DataFrame]:
    """:mod:`physiofm.synthetic.proofs` on the first ``p.proofs.records`` records of the downstream cohort:
    detected vs latent heart rate, measured vs latent pulse-transit time, and the hand-made-feature
    classifier per channel set and label. Tables are cached in ``out/proofs/`` (reused when unchanged)."""
    from physiofm.synthetic import proofs

    folder = Path(out) / "proofs"
    names = ("heart_rate", "ptt", "structure")
    if fresh_dir(folder, {"cohort": p.downstream_cohort.model_dump(), "records": p.proofs.records}):
        return {n: pd.read_csv(folder / f"{n}.csv", index_col=0 if n == "structure" else None) for n in names}
    cohort = first_records(synthetic_cohort(p.downstream_cohort), p.proofs.records)
    tables = {"heart_rate": proofs.heart_rate_agreement(cohort), "ptt": proofs.ptt_agreement(cohort),
              "structure": proofs.information_structure(proofs.cohort_features(cohort))}
    for name, df in tables.items():
        df.to_csv(folder / f"{name}.csv", index=name == "structure")
    mark_done(folder)
    return tables
