"""AnyPPG's data step: sources -> preprocessed segment stores -> 8:1:1 subject splits per source.

Pretraining sources hold synchronized PPG-ECG pairs and go through :func:`physiofm.preprocess.anyppg_segments`
(10-s windows, > 25 % invalid dropped, PPG 0.5-8 Hz, ECG 0.5-40 Hz + 50 Hz notch, polarity, Zhao ECG SQI,
125 Hz, z-score); each gets its own :class:`~physiofm.store.SegmentStore` (so the funnel is per source) and
its own subject-level split. Probe sets are PPG-only (the paper's downstream datasets have no ECG) and go
through :func:`ppg_segments`, the PPG half of the same path.

Layout of the data step's artifact folder::

    stores/<source>/        one segment store per pretraining source (groups "ppg", "ecg", (1, 1250)), with
                            build_config.json: what it was built from (another config rebuilds it)
    probe_stores/<set>/     one store per probe set (group "ppg")
    splits.parquet          source, row (store position), subject_id, split

:class:`PairDataset` streams (PPG, ECG) batches from several stores for training and evaluation.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from physiofm.anyppg.params import DataParams, PreprocessSpec, RegistrySource, SyntheticSource
from physiofm.preprocess import AnyPPGPreprocess, anyppg_segments
from physiofm.recording import Recording, RecordingSet
from physiofm.segments import Funnel, Segments, segment_recordings
from physiofm.signals import cheby_bandpass, resample, zscore
from physiofm.splits import SPLITS, check_disjoint, subject_splits
from physiofm.store import SegmentStore
from physiofm.io import write_parquet as _wp
write_parquet_atomic = lambda df, p: _wp(df, p)  # noqa: E731 - temporary

PAIR_GROUPS = ("ppg", "ecg")
# Part of every store's build config: bump it when this module changes what goes into a store, so that
# stores built by an earlier version are rebuilt rather than reused.
STORE_VERSION = 2


# ------------------------------------------------------------------------------------------- sources
class _Renamed:
    """Picklable ``load_fn``: the wrapped set's recording under this source's name and subject ids."""

    def __init__(self, inner: RecordingSet, source: str) -> None:
        self.inner, self.source = inner, source
        self.by_id = {rid: i for i, rid in enumerate(inner.records["record_id"])}

    def __call__(self, row: pd.Series) -> Recording:
        rec = self.inner[self.by_id[row["inner_record_id"]]]
        ids = {"record_id": f"{self.source}/{rec.record_id}", "subject_id": f"{self.source}/{rec.subject_id}",
               "source": self.source}
        # labels are copied into the segment index after the ids, so a label named like an id must agree
        labels = {k: ids.get(k, v) for k, v in rec.labels.items()}
        return dataclasses.replace(rec, labels=labels, **ids)


def renamed(recordings: RecordingSet, source: str) -> RecordingSet:
    """``recordings`` with ``source`` set and record/subject ids prefixed by it (cohorts drawn with different
    seeds reuse the same ids, and a split must never merge two sources' subjects)."""
    table = recordings.records.rename(columns={"record_id": "inner_record_id"}).copy()
    table["record_id"] = source + "/" + table["inner_record_id"].astype(str)
    table["subject_id"] = source + "/" + table["subject_id"].astype(str)
    return RecordingSet(source, table, _Renamed(recordings, source), recordings.info)


def synthetic_cohort(spec: SyntheticSource, n_subjects: int | None = None):
    """The :class:`~physiofm.synthetic.Cohort` described by ``spec`` (optionally with fewer subjects)."""
    from physiofm.synthetic import ArtefactRates, icu_cohort

    rates = ArtefactRates(mains_hz=float(spec.mains_hz), scale=spec.artefact_scale)
    return icu_cohort(n_subjects or spec.n_subjects, spec.seed, duration_s=spec.duration_s,
                      alarms_per_hour=spec.alarms_per_hour, artefacts=rates)


def synthetic_recordings(spec: SyntheticSource) -> RecordingSet:
    """The synthetic ICU cohort described by ``spec`` (channels II, V, PPG), renamed to ``spec.name``."""
    return renamed(synthetic_cohort(spec).recordings, spec.name)


def synthetic_proofs(params: DataParams) -> dict[str, pd.DataFrame]:
    """What :mod:`physiofm.synthetic.proofs` measures on a cohort drawn like the first synthetic probe set.

    Returns ``agreement`` (median absolute error of heart rate and pulse-transit time measured from the
    signals against the latent values, clean blocks) and, when ``structure_subjects`` > 0, ``structure``
    (AUROC of one classifier on hand-made features of each channel set, per label).
    """
    from physiofm.synthetic import proofs

    spec = next((s for s in [*params.probe_sets, *params.sources] if s.kind == "synthetic_icu"), None)
    if params.proof is None or spec is None:
        return {}
    cohort = synthetic_cohort(spec)
    hr = proofs.heart_rate_agreement(cohort, records=params.proof.records)
    ptt = proofs.ptt_agreement(cohort, records=params.proof.records)
    out = {"agreement": pd.DataFrame({
        "quantity": ["heart rate (bpm), R peaks of lead II", "pulse-transit time (ms), R peak to PPG foot"],
        "clean blocks": [int(hr["clean"].sum()), int(ptt["clean"].sum())],
        "median |measured - latent|": [hr.loc[hr["clean"], "abs_error"].median(),
                                       ptt.loc[ptt["clean"], "abs_error_ms"].median()],
    }).set_index("quantity")}
    if params.proof.structure_subjects:
        small = synthetic_cohort(spec, params.proof.structure_subjects)
        feats = proofs.cohort_features(small)
        out["structure"] = proofs.information_structure(feats, labels=tuple(params.proof.structure_labels))
    return out


def registry_recordings(spec: RegistrySource, data_root: Path | None) -> RecordingSet:
    """A :func:`physiofm.datasets.load` dataset from ``data_root / spec.subdir``."""
    from physiofm.datasets import load

    if data_root is None:
        raise ValueError(f"source {spec.name!r} reads dataset {spec.dataset!r} from disk: run with "
                         f"--data-root pointing at the folder that holds {spec.subdir!r}")
    return renamed(load(spec.dataset, Path(data_root) / spec.subdir, **spec.options), spec.name)


def recordings_for(spec: SyntheticSource | RegistrySource, data_root: Path | None) -> RecordingSet:
    if spec.kind == "synthetic_icu":
        return synthetic_recordings(spec)
    if spec.kind == "registry":
        return registry_recordings(spec, data_root)
    raise ValueError(f"source {spec.name!r} is marked unavailable ({getattr(spec, 'reason', '')}); "
                     "it cannot be read")


# ----------------------------------------------------------------------------------------- preprocessing
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


def _config_json(cfg: AnyPPGPreprocess, extra: Mapping[str, Any]) -> dict[str, Any]:
    payload = {**dataclasses.asdict(cfg), **extra, "store_version": STORE_VERSION}
    return json.loads(json.dumps(payload, default=str))


def build_store(root: Path, recordings: RecordingSet, process, config: dict[str, Any], *,
                subjects_per_shard: int, workers: int, progress: bool = True) -> SegmentStore:
    """Build (or reuse, or resume) one store; a store built with another ``config`` is rebuilt."""
    root = Path(root)
    stamp = root / "build_config.json"
    if root.exists() and (not stamp.is_file() or json.loads(stamp.read_text()) != config):
        shutil.rmtree(root)
    if (root / "store.json").is_file():
        return SegmentStore(root)
    root.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(config, indent=1))
    return SegmentStore.build(root, recordings, process, subjects_per_shard=subjects_per_shard,
                              workers=workers, config=config, progress=progress)


def _build_stores(params: DataParams, specs, kind: str, key: str, process_for, out: Path, seed: int,
                  data_root: Path | None, progress: bool) -> dict[str, SegmentStore]:
    """One store per loadable spec under ``out/<kind>/<name>``, segmented by ``process_for(spec, cfg)``."""
    cfg = preprocess_config(params.preprocess, seed)
    stores = {}
    for spec in specs:
        if spec.kind == "unavailable":
            continue
        recs = recordings_for(spec, data_root)
        config = _config_json(cfg, {key: spec.model_dump(mode="json")})
        stores[spec.name] = build_store(out / kind / spec.name, recs, process_for(spec, cfg), config,
                                        subjects_per_shard=params.subjects_per_shard,
                                        workers=params.workers, progress=progress)
    return stores


def build_sources(params: DataParams, out: Path, seed: int, data_root: Path | None = None,
                  progress: bool = True) -> dict[str, SegmentStore]:
    """One PPG-ECG store per loadable pretraining source under ``out/stores``."""
    return _build_stores(params, params.sources, "stores", "source",
                         lambda spec, cfg: functools.partial(anyppg_segments, cfg=cfg),
                         out, seed, data_root, progress)


def build_probe_sets(params: DataParams, out: Path, seed: int, data_root: Path | None = None,
                     progress: bool = True) -> dict[str, SegmentStore]:
    """One PPG store per loadable probe set under ``out/probe_stores``."""
    return _build_stores(params, params.probe_sets, "probe_stores", "probe_set",
                         lambda spec, cfg: functools.partial(ppg_segments, cfg=cfg,
                                                             max_per_subject=spec.max_segments_per_subject),
                         out, seed, data_root, progress)


def open_stores(data_dir: Path, kind: str = "stores") -> dict[str, SegmentStore]:
    """The finished stores of a data step (``kind`` = ``"stores"`` or ``"probe_stores"``), by name."""
    base = Path(data_dir) / kind
    if not base.is_dir():
        raise FileNotFoundError(f"{base}: no {kind} here; run the anyppg data step first")
    found = {p.name: SegmentStore(p) for p in sorted(base.iterdir()) if (p / "store.json").is_file()}
    if not found:
        raise FileNotFoundError(f"{base}: no finished segment store")
    return found


# --------------------------------------------------------------------------------------------- splits
def make_splits(stores: Mapping[str, SegmentStore], fractions: Sequence[float], seed: int) -> pd.DataFrame:
    """``source, row, subject_id, split``: whole subjects drawn 8:1:1 within each source (paper, Methods)."""
    parts = []
    for name, store in stores.items():
        index = store.index.assign(source=name)
        split = subject_splits(index, fractions, by="source", seed=seed)
        check_disjoint(index, split)
        parts.append(pd.DataFrame({"source": name, "row": np.arange(len(index)),
                                   "subject_id": index["subject_id"].astype(str).to_numpy(),
                                   "split": split.to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def write_splits(splits: pd.DataFrame, out: Path) -> Path:
    return write_parquet_atomic(splits, Path(out) / "splits.parquet")


def read_splits(data_dir: Path) -> pd.DataFrame:
    path = Path(data_dir) / "splits.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no splits; run the anyppg data step first")
    return pd.read_parquet(path)


def split_summary(splits: pd.DataFrame) -> pd.DataFrame:
    """Subjects and segments per source and split (rows: source; columns: (count, split))."""
    g = splits.groupby(["source", "split"])
    table = pd.concat({"subjects": g["subject_id"].nunique(), "segments": g.size()}, axis=1).unstack("split")
    table = table.reindex(columns=pd.MultiIndex.from_product([["subjects", "segments"], SPLITS]))
    return table.fillna(0).astype(int)


def funnel_table(stores: Mapping[str, SegmentStore]) -> pd.DataFrame:
    """Stages x sources: how many records, spans, windows and kept segments; drop reasons per source."""
    cols = {}
    for name, store in stores.items():
        t = store.funnel.table().set_index("stage")
        cols[(name, "count")] = t["count"]
        cols[(name, "dropped (reasons)")] = [
            f"{d} ({r})" if d else "" for d, r in zip(t["dropped"], t["reasons"], strict=True)]
    return pd.DataFrame(cols)


# -------------------------------------------------------------------------------------------- batches
class PairDataset(torch.utils.data.Dataset):
    """Rows of several stores as one dataset; ``ds[[i, j, ...]]`` -> ``{group: (B, 1, T) float32}``.

    Args:
        stores: store per source.
        rows: per source, the store positions this dataset exposes (e.g. that source's train split).
        groups: channel groups to read (``("ppg", "ecg")`` pairs, or ``("ppg",)``).
    """

    def __init__(self, stores: Mapping[str, SegmentStore], rows: Mapping[str, np.ndarray],
                 groups: Sequence[str] = PAIR_GROUPS) -> None:
        self.names = [n for n in stores if len(rows.get(n, ()))]
        self.stores = [stores[n] for n in self.names]
        self.rows = [np.asarray(rows[n], dtype=np.int64) for n in self.names]
        self.groups = list(groups)
        self.offsets = np.cumsum([0] + [len(r) for r in self.rows])
        shapes = {g: tuple(s.groups[g]["shape"]) for s in self.stores for g in self.groups}
        self.shapes = shapes

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def source_of(self, positions: np.ndarray) -> np.ndarray:
        return np.asarray(self.names)[np.searchsorted(self.offsets, positions, side="right") - 1]

    def __getitem__(self, idx) -> dict[str, torch.Tensor]:
        idx = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        which = np.searchsorted(self.offsets, idx, side="right") - 1
        out = {g: np.empty((len(idx), *self.shapes[g]), np.float32) for g in self.groups}
        for s in np.unique(which):
            sel = np.flatnonzero(which == s)
            local = self.rows[s][idx[sel] - self.offsets[s]]
            order = np.argsort(local, kind="stable")  # read each memory map forwards
            data = self.stores[s].read(local[order], self.groups)
            for g in self.groups:
                out[g][sel[order]] = data[g]
        return {g: torch.from_numpy(a) for g, a in out.items()}


def split_rows(splits: pd.DataFrame, split: str,
               sources: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Per source, the store rows of one partition."""
    sel = splits[splits["split"] == split]
    names = list(sources) if sources is not None else list(dict.fromkeys(splits["source"]))
    return {n: sel.loc[sel["source"] == n, "row"].to_numpy(np.int64) for n in names}


class EpochBatches(torch.utils.data.Sampler):
    """Batches of position lists from ``sampler``; forwards ``set_epoch`` so the Trainer can reseed it."""

    def __init__(self, sampler: torch.utils.data.Sampler, batch_size: int, drop_last: bool) -> None:
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(torch.utils.data.BatchSampler(self.sampler, self.batch_size, self.drop_last))

    def __iter__(self) -> Iterator[list[int]]:
        yield from torch.utils.data.BatchSampler(self.sampler, self.batch_size, self.drop_last)


def loader(dataset: PairDataset, batch_size: int, *, shuffle: bool, drop_last: bool, seed: int = 0,
           num_workers: int = 0, max_batches: int | None = None) -> torch.utils.data.DataLoader:
    """Batches of ``dataset``, each read with one batched store read.

    Shuffled order comes from :func:`physiofm.training.epoch_sampler` (seeded by ``seed`` and the epoch,
    sharded across ranks under DDP), so a resumed run sees the same batches. ``max_batches`` keeps only
    the first batches of the unshuffled order (a validation subset that is the same at every evaluation).
    """
    from physiofm.training import epoch_sampler

    if shuffle:
        sampler = epoch_sampler(dataset, shuffle=True, seed=seed)
    else:
        sampler = torch.utils.data.SequentialSampler(dataset)
    batches = EpochBatches(sampler, min(batch_size, len(dataset)), drop_last)
    if max_batches is not None:
        if shuffle:
            raise ValueError("max_batches is for a fixed (unshuffled) subset")
        batches = list(batches)[:max_batches]
    return torch.utils.data.DataLoader(dataset, sampler=batches, batch_size=None, num_workers=num_workers)


def iter_batches(dataset: PairDataset, batch_size: int) -> Iterator[dict[str, torch.Tensor]]:
    """Every row of ``dataset`` once, in order, as batch dicts (for embedding)."""
    for i in range(0, len(dataset), batch_size):
        yield dataset[np.arange(i, min(i + batch_size, len(dataset)))]


def example_pairs(store: SegmentStore, n: int, seed: int) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """``n`` random preprocessed segments of a store (arrays ``(n, 1, T)`` per group) and their index rows."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(store), size=min(n, len(store)), replace=False))
    return store.read(rows), store.index.iloc[rows].reset_index(drop=True)
