"""AnyPPG's data step: sources -> preprocessed segment stores -> 8:1:1 subject splits per source.

Pretraining sources hold synchronized PPG-ECG pairs and go through :func:`physiofm.preprocess.anyppg_segments`
(10-s windows, > 25 % invalid dropped, PPG 0.5-8 Hz, ECG 0.5-40 Hz + 50 Hz notch, polarity, Zhao ECG SQI,
125 Hz, z-score); each gets its own :class:`~physiofm.store.SegmentStore` (so the funnel is per source) and
its own subject-level split. Probe sets are PPG-only (the paper's downstream datasets have no ECG) and go
through :func:`ppg_segments`, the PPG half of the same path.

Layout of the data step's artifact folder::

    stores/<source>/        one segment store per pretraining source (groups "ppg", "ecg", (1, 1250))
    probe_stores/<set>/     one store per probe set (group "ppg")
    splits.parquet          the split table (store, row, subject_id, source, split)
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from physiofm import sources
from physiofm.anyppg.params import DataParams, PreprocessSpec
from physiofm.preprocess import AnyPPGPreprocess, anyppg_segments
from physiofm.recording import Recording
from physiofm.segments import Funnel, Segments, segment_recordings
from physiofm.signals import cheby_bandpass, resample, zscore
from physiofm.splits import split_table, write_splits
from physiofm.store import SegmentStore, build_store, open_stores
from physiofm.synthetic import proofs

# Part of every store's build config: bump it when this module changes what goes into a store, so that
# stores built by an earlier version are rebuilt rather than reused.
STORE_VERSION = 2


def preprocess_config(spec: PreprocessSpec, seed: int) -> AnyPPGPreprocess:
    """The params section as :class:`~physiofm.preprocess.AnyPPGPreprocess`."""
    return AnyPPGPreprocess(
        ppg=tuple(spec.ppg_channels), ecg=tuple(spec.ecg_channels), window_s=spec.window_s,
        max_gap_s=spec.max_gap_s, max_invalid=spec.max_invalid, max_flatline=spec.max_flatline, fs=spec.fs,
        ppg_band=tuple(spec.ppg_band), ecg_band=tuple(spec.ecg_band), notch_freq=spec.notch_freq,
        polarity=spec.polarity, sqi=spec.sqi, sqi_reject=tuple(spec.sqi_reject),
        record_cap=spec.record_cap, subject_cap=spec.subject_cap, seed=seed)


def ppg_segments(recordings: Iterable[Recording], cfg: AnyPPGPreprocess,
                 max_per_subject: int | None = None, progress: bool = False) -> Segments:
    """PPG-only windows for probing: the PPG half of AnyPPG's path at each record's own rate.

    10-s windows with the same invalid/flatline rules, Chebyshev II 0.5-8 Hz, resampling to ``cfg.fs`` and a
    z-score over time -> ``{"ppg": (N, 1, window_s * fs)}``; ``max_per_subject`` keeps a seeded subset.
    """
    parts = segment_recordings(recordings, {"ppg": cfg.ppg}, cfg.window_s, min_duration_s=cfg.min_duration_s,
                               max_gap_s=cfg.max_gap_s, max_flatline=cfg.max_flatline,
                               max_invalid=cfg.max_invalid, subject_cap=max_per_subject, seed=cfg.seed,
                               progress=progress)
    funnel = parts[0].funnel if parts else Funnel()
    done = []
    for p in (p for p in parts if len(p)):
        x = cheby_bandpass(np.asarray(p.arrays["ppg"], np.float32), p.fs["ppg"], *cfg.ppg_band,
                           cfg.ppg_order, cfg.ppg_rs)
        x = zscore(resample(x, p.fs["ppg"], cfg.fs)).astype(np.float32)
        done.append(Segments({"ppg": x}, p.index, {"ppg": cfg.fs}, funnel))
    return Segments.concat(done, funnel=funnel)


def _build_stores(params: DataParams, specs, kind: str, key: str, process_for, out: Path, seed: int,
                  data_root: Path | None, progress: bool) -> dict[str, SegmentStore]:
    """One store per loadable spec under ``out/<kind>/<name>``, segmented by ``process_for(spec, cfg)``."""
    cfg = preprocess_config(params.preprocess, seed)
    stores = {}
    for spec in (s for s in specs if s.kind != "unavailable"):
        config: dict[str, Any] = {**dataclasses.asdict(cfg), key: spec.model_dump(mode="json"),
                                  "store_version": STORE_VERSION}
        stores[spec.name] = build_store(Path(out) / kind / spec.name, sources.recordings(spec, data_root),
                                        process_for(spec, cfg), config,
                                        subjects_per_shard=params.store.subjects_per_shard,
                                        workers=params.store.workers, progress=progress)
    return stores


def build_sources(params: DataParams, out: Path, seed: int, data_root: Path | None = None,
                  progress: bool = True) -> dict[str, SegmentStore]:
    """One PPG-ECG store per loadable pretraining source under ``out/stores``, and the split table: whole
    subjects drawn 8:1:1 within each source (paper, Methods)."""
    stores = _build_stores(params, params.sources, "stores", "source",
                           lambda spec, cfg: functools.partial(anyppg_segments, cfg=cfg),
                           out, seed, data_root, progress)
    indexes = {n: s.index.assign(source=n) for n, s in stores.items()}
    write_splits(split_table(indexes, params.split_fractions, seed), out)
    return stores


def build_probe_sets(params: DataParams, out: Path, seed: int, data_root: Path | None = None,
                     progress: bool = True) -> dict[str, SegmentStore]:
    """One PPG store per loadable probe set under ``out/probe_stores``."""
    return _build_stores(params, params.probe_sets, "probe_stores", "probe_set",
                         lambda spec, cfg: functools.partial(ppg_segments, cfg=cfg,
                                                             max_per_subject=spec.max_segments_per_subject),
                         out, seed, data_root, progress)


def open_probe_stores(data_dir: Path) -> dict[str, SegmentStore]:
    return open_stores(Path(data_dir) / "probe_stores")


def synthetic_proofs(params: DataParams) -> dict[str, pd.DataFrame]:
    """What :mod:`physiofm.synthetic.proofs` measures on a cohort drawn like the first synthetic probe set.

    Returns ``agreement`` (heart rate and pulse-transit time measured from the signals against the latent
    values, clean blocks) and, when ``structure_subjects`` > 0, ``structure`` (AUROC of one classifier on
    hand-made features of each channel set, per label).
    """
    spec = next((s for s in [*params.probe_sets, *params.sources] if s.kind == "synthetic_icu"), None)
    if params.proof is None or spec is None:
        return {}
    cohort = sources.cohort(spec)
    n = params.proof.records
    out = {"agreement": proofs.agreement_summary(proofs.heart_rate_agreement(cohort, records=n),
                                                 proofs.ptt_agreement(cohort, records=n))}
    if params.proof.structure_subjects:
        small = sources.cohort(spec, params.proof.structure_subjects)
        out["structure"] = proofs.information_structure(proofs.cohort_features(small),
                                                        labels=tuple(params.proof.structure_labels))
    return out


def example_pairs(store: SegmentStore, n: int, seed: int) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """``n`` random preprocessed segments of a store (arrays ``(n, 1, T)`` per group) and their index rows."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(store), size=min(n, len(store)), replace=False))
    return store.read(rows), store.index.iloc[rows].reset_index(drop=True)
