"""The SyneCo study's data step: recordings -> SyneCo preprocessing -> segment stores, splits and labels.

Written to the step's folder (``physiofm.store.build_store`` reuses a store built with the same config):

* ``stores/pretrain/``: the pretraining corpus (section 2.4): >= 10 min continuous spans, 10-s windows in
  which ECG-II, ECG-V and PPG are all valid, flatline QC, per-source caps, filters, z-score. Its subjects are
  split into train / validation / held-out test per source (``splits.parquet``).
* ``stores/downstream/`` and ``labels/downstream.parquet``: the probing data of every profile, a second,
  independent built-in cohort (the analogue of the held-out VitalDB split and the external benchmarks)
  through the same filters, without the 10-minute rule, at most ``downstream_max_segments`` per record.
* real data in addition: one store per benchmark (short windows zero-padded to 10 s, as the paper does for
  PPG-DaLiA and PPG-BP; every window kept) with its label table and the loader's task list
  (``tasks/<name>.json``), and ``vitaldb_test``, the VitalDB subjects of the held-out split (up to
  ``downstream_max_segments`` segments per case).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from physiofm import sources
from physiofm.evaluation.tasks import label_table
from physiofm.io import cached_frames, read_json, write_json, write_parquet
from physiofm.preprocess import SyneCoPreprocess, syneco_segments, syneco_transform
from physiofm.recording import Recording, RecordingSet
from physiofm.segments import Funnel, Segments, segment_recordings
from physiofm.splits import read_splits, split_table, write_splits
from physiofm.store import SegmentStore, build_store
from physiofm.syneco.params import DataStep, DownstreamSource, PreprocessSection
from physiofm.syneco.tasks import synthetic_labels
from physiofm.synthetic import proofs

# Channel group -> names a record may use for it: the loaders' canonical names first, then the
# synthetic cohort's ("II", "V", "PPG") and common monitor labels. A 12-lead ECG has no "V" channel,
# so its V lead is V5 (VitalDB's ECG_V5; the paper does not say which chest lead it used).
ALIASES: dict[str, tuple[str, ...]] = {
    "ecg_ii": ("ecg_ii", "II", "ECG_II", "ECG II"),
    "ecg_v": ("ecg_v", "V", "V5", "ECG_V5", "ECG_V", "ECG V"),
    "ppg": ("ppg", "PPG", "PLETH", "Pleth"),
}
ECG_GROUPS = ("ecg_ii", "ecg_v")


def preprocess_config(p: PreprocessSection, seed: int = 0, channels: Sequence[str] = tuple(ALIASES),
                      **overrides: Any) -> SyneCoPreprocess:
    """The :class:`SyneCoPreprocess` of a params section for the channel groups ``channels``."""
    values = {**p.model_dump(), **overrides}
    return SyneCoPreprocess(ecg={g: ALIASES[g] for g in channels if g in ECG_GROUPS},
                            ppg={g: ALIASES[g] for g in channels if g == "ppg"}, seed=seed, **values)


def channels_of(recordings: RecordingSet) -> list[str]:
    """The SyneCo channel groups the first record of a set provides."""
    rec: Recording = recordings[0]
    return [g for g, names in ALIASES.items() if any(n in rec.signals for n in names)]


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


def _store(out: Path, name: str, recordings: RecordingSet, cfg: SyneCoPreprocess, p: DataStep,
           extra: dict, process=None) -> SegmentStore:
    config = {"preprocess": dataclasses.asdict(cfg), **extra}
    return build_store(Path(out) / "stores" / name, recordings, process or partial(syneco_segments, cfg=cfg),
                       config, subjects_per_shard=p.store.subjects_per_shard, workers=p.store.workers)


def build_pretrain(p: DataStep, seed: int, out: Path, data_root: Path | None = None):
    """The pretraining store and its split table; returns ``(store, splits)``."""
    cfg = preprocess_config(p.preprocess, seed)
    if p.source == "synthetic":
        cohort = sources.cohort(p.pretrain_cohort)
        recordings, fractions = cohort.recordings, {cohort.name: p.synthetic_split}
    else:
        recordings = sources.chain("syneco_pretrain", [sources.load_dataset(s, data_root)
                                                       for s in p.pretrain_sources])
        fractions = {s.dataset: s.split for s in p.pretrain_sources}
    source = p.pretrain_cohort.model_dump() if p.source == "synthetic" else [
        s.model_dump() for s in p.pretrain_sources]
    store = _store(out, "pretrain", recordings, cfg, p, {"source": source, "seed": seed})
    # SyneCo's split draws every source with the same seeded stream (seed_by_source=False), as it always has.
    write_splits(split_table({"pretrain": store.index}, fractions, seed, seed_by_source=False), out)
    return store, read_splits(out)


def build_downstream(p: DataStep, seed: int, out: Path, data_root: Path | None = None,
                     splits: pd.DataFrame | None = None) -> dict[str, SegmentStore]:
    """The probing stores and their label tables (``labels/<name>.parquet``): the built-in cohort's always;
    on real data each benchmark's and the VitalDB test subjects' too."""
    out, stores = Path(out), {}
    capped = dict(min_duration_s=0.0, subject_cap={}, record_cap={"*": p.downstream_max_segments})
    cohort = sources.cohort(p.downstream_cohort)
    cfg = preprocess_config(p.preprocess, seed, **capped)
    stores["downstream"] = _store(out, "downstream", cohort.recordings, cfg, p,
                                  {"cohort": p.downstream_cohort.model_dump(), "seed": seed})
    write_parquet(synthetic_labels(stores["downstream"].index, cohort.subjects),
                  out / "labels" / "downstream.parquet")
    if p.source == "synthetic":
        return stores
    for s in p.downstream_sources:
        stores[s.dataset] = _benchmark_store(s, p, seed, out, data_root)
    vital = [s for s in p.pretrain_sources if s.dataset == "vitaldb"]
    if vital and splits is not None:
        test = set(splits.loc[(splits["split"] == "test") & (splits["source"] == "vitaldb"), "subject_id"])
        rs = sources.load_dataset(vital[0], data_root)
        rs = rs.subset(rs.records["subject_id"].astype(str).isin(test).to_numpy())
        cfg = preprocess_config(p.preprocess, seed, record_cap={"*": p.downstream_max_segments})
        stores["vitaldb_test"] = _store(out, "vitaldb_test", rs, cfg, p, {"vitaldb": vital[0].model_dump()})
        _write_labels(out, "vitaldb_test", stores["vitaldb_test"], rs.info.get("tasks", {}))
    return stores


def _benchmark_store(s: DownstreamSource, p: DataStep, seed: int, out: Path,
                     data_root: Path | None) -> SegmentStore:
    """One benchmark's store (every window: App. D caps only the VitalDB cases) and label table."""
    rs = sources.load_dataset(s, data_root)
    cfg = preprocess_config(p.preprocess, seed, channels=channels_of(rs), min_duration_s=0.0, subject_cap={},
                            record_cap={})
    process = partial(padded_segments, cfg=cfg, window_s=s.window_s, pad_short=s.pad_short)
    store = _store(out, s.dataset, rs, cfg, p, {"source": s.model_dump(), "seed": seed}, process)
    _write_labels(out, s.dataset, store, rs.info.get("tasks", {}))
    return store


def _write_labels(out: Path, name: str, store: SegmentStore, tasks: dict) -> None:
    write_parquet(label_table(store.index), Path(out) / "labels" / f"{name}.parquet")
    write_json(Path(out) / "tasks" / f"{name}.json", tasks)


def open_downstream(data_dir: Path) -> dict[str, tuple[SegmentStore, pd.DataFrame]]:
    """Every downstream store of a finished data step with its label table."""
    labels = sorted((Path(data_dir) / "labels").glob("*.parquet"))
    if not labels:
        raise FileNotFoundError(f"{data_dir}: no downstream label tables; run the data step first")
    return {f.stem: (SegmentStore(Path(data_dir) / "stores" / f.stem), pd.read_parquet(f)) for f in labels}


def loader_tasks(data_dir: Path) -> dict[str, dict]:
    """Store name -> the loader's ``info["tasks"]`` of every real benchmark store."""
    return {f.stem: read_json(f) for f in sorted((Path(data_dir) / "tasks").glob("*.json"))}


def ecg_length(data_dir: Path) -> int:
    """Samples per ECG segment of the pretraining store (PPG is resampled to it for ECG-only models)."""
    return int(SegmentStore(Path(data_dir) / "stores" / "pretrain").groups["ecg_ii"]["shape"][-1])


def example_segments(store: SegmentStore, n: int,
                     seed: int = 0) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """``n`` segments of different subjects (arrays per group, their index rows) for plotting."""
    rng = np.random.default_rng(seed)
    first = store.index.reset_index().groupby("subject_id").first()["index"].to_numpy()
    rows = np.sort(rng.choice(first, size=min(n, len(first)), replace=False))
    return store.read(rows), store.index.iloc[rows].reset_index(drop=True)


def structure_proofs(p: DataStep, out: Path) -> dict[str, pd.DataFrame]:
    """:mod:`physiofm.synthetic.proofs` on the first ``p.proofs.records`` records of the downstream cohort:
    detected vs latent heart rate, measured vs latent pulse-transit time, and the hand-made-feature
    classifier per channel set and label (kept in ``out/proofs/``, reused while the cohort is the same)."""
    def compute() -> dict[str, pd.DataFrame]:
        cohort = sources.cohort(p.downstream_cohort).head(p.proofs.records)
        return {"heart_rate": proofs.heart_rate_agreement(cohort), "ptt": proofs.ptt_agreement(cohort),
                "structure": proofs.information_structure(proofs.cohort_features(cohort))}

    config = {"cohort": p.downstream_cohort.model_dump(), "records": p.proofs.records}
    return cached_frames(Path(out) / "proofs", config, compute)


def write_info(out: Path, p: DataStep, store: SegmentStore, downstream: dict[str, SegmentStore]) -> dict:
    """``out/info.json``: the data source and the store sizes, for the later steps."""
    info = {"source": p.source, "pretrain_segments": len(store),
            "downstream": {k: len(v) for k, v in downstream.items()}}
    write_json(Path(out) / "info.json", info)
    return info
