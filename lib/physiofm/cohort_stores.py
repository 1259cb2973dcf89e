"""Segment stores of the built-in cohorts for leaderboards and calibration curves: for each cohort kind, a
pretraining store with a subject split and an independent probe store with its label table, through the
preprocessing of the papers that use the cohort.

==========  ==========================================  ============================================
cohort      preprocessing                               groups (batch keys)
==========  ==========================================  ============================================
``icu``     SyneCo's (filters, z-score; no 10-min rule)  ``ecg_ii``, ``ecg_v`` (1, 5000) 500 Hz,
                                                        ``ppg`` (1, 1250) 125 Hz
``ecg12``   hybrid_ecg's (12 leads, 250 Hz, mV)          ``ecg`` (12, 2500)
``psg``     MultiMAE's (FIR band-pass, 100 Hz, 30 s)     ``eeg``, ``eog``, ``emg``, ``ecg`` (1, 3000)
==========  ==========================================  ============================================

The PSG groups are divided by a fixed scale per channel (:data:`PSG_SCALE`: 50 µV for EEG, EOG and EMG,
1 mV for ECG) [D], so that every input is of order one while the amplitude differences between stages, ages
and windows (what the labels rest on) are kept; a per-window z-score would erase them.

Both stores are drawn from the same generator with different seeds, so no subject is in both: methods and
supervised references train on the pretraining cohort, probes are fitted and scored on the probe cohort
(the analogue of pretraining on one database and probing on a benchmark). ``derived`` label columns
(name -> a pandas expression over the index, e.g. ``older: "age >= 60"``) are added to both stores' index,
so supervised references can train on them too. Layout under ``out``::

    stores/pretrain/  stores/probe/   the segment stores
    splits.parquet                    train / val split of the pretraining store (probe rows have none)
    labels.parquet                    the probe store's label table (physiofm.evaluation.tasks.label_table)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from physiofm import sources
from physiofm.evaluation.tasks import label_table
from physiofm.io import write_parquet
from physiofm.preprocess import (
    MultiMAEPreprocess,
    SyneCoPreprocess,
    hybrid_ecg_config,
    hybrid_ecg_segments,
    multimae_segments,
    syneco_segments,
)
from physiofm.recording import Recording
from physiofm.sections import CohortSection, CohortStoresSection, Ecg12CohortSection, PsgCohortSection
from physiofm.segments import Segments
from physiofm.splits import read_splits, split_table, write_splits
from physiofm.store import SegmentStore, build_store

# Bump when this module changes what goes into a store, so stores of an earlier version are rebuilt.
STORE_VERSION = 1
PSG_SCALE = {"eeg": 50.0, "eog": 50.0, "emg": 50.0, "ecg": 1.0}  # µV, µV, µV, mV: inputs of order one
CohortSpec = CohortSection | PsgCohortSection | Ecg12CohortSection


def preprocessing(kind: str) -> tuple[Callable[..., Segments], dict]:
    """The segment function of a cohort kind and the config it runs with (for the store's fingerprint)."""
    if kind == "icu":
        cfg = SyneCoPreprocess(min_duration_s=0.0, record_cap={}, subject_cap={})
        return partial(syneco_segments, cfg=cfg), dataclasses.asdict(cfg)
    if kind == "ecg12":
        cfg = hybrid_ecg_config()
        return partial(hybrid_ecg_segments, cfg=cfg), dataclasses.asdict(cfg)
    if kind == "psg":
        cfg = MultiMAEPreprocess()
        process = partial(scaled_segments, process=partial(multimae_segments, cfg=cfg), scales=PSG_SCALE)
        return process, {**dataclasses.asdict(cfg), "scale": PSG_SCALE}
    raise ValueError(f"unknown cohort kind {kind!r}; the benchmark knows icu, ecg12, psg")


def cohort_kind(spec: CohortSpec) -> str:
    if isinstance(spec, PsgCohortSection):
        return "psg"
    return "ecg12" if isinstance(spec, Ecg12CohortSection) else "icu"


def scaled_segments(recordings: Iterable[Recording], process: Callable[..., Segments],
                    scales: Mapping[str, float], progress: bool = False) -> Segments:
    """``process(recordings)`` with each group divided by its fixed ``scales`` entry."""
    seg = process(recordings, progress=progress)
    arrays = {g: (a / scales[g]).astype(np.float32) for g, a in seg.arrays.items()}
    return dataclasses.replace(seg, arrays=arrays)


def derived_segments(recordings: Iterable[Recording], process: Callable[..., Segments],
                     derived: Mapping[str, str], progress: bool = False) -> Segments:
    """``process(recordings)`` with the ``derived`` columns (name -> pandas expression) added to its index."""
    seg = process(recordings, progress=progress)
    index = seg.index.copy()
    for name, expr in derived.items():
        try:
            index[name] = index.eval(expr).astype(float)
        except Exception as e:  # noqa: BLE001 - any pandas error: name the column and the expression
            raise ValueError(f"derived label {name!r} = {expr!r} cannot be computed from the index columns "
                             f"{sorted(index.columns)}: {e}") from e
    return dataclasses.replace(seg, index=index)


@dataclasses.dataclass(frozen=True)
class CohortData:
    """What a leaderboard reads: the data folder (stores + split), the probe store and its label table."""

    folder: Path
    probe: SegmentStore
    labels: pd.DataFrame


def build(spec: CohortStoresSection, out: Path, seed: int = 0, progress: bool = True) -> CohortData:
    """The two stores of ``spec`` under ``out`` (reused when built with the same settings), the pretraining
    split (drawn with ``seed``) and the probe labels."""
    pretrain, probe = spec.pretrain, spec.probe
    kind = cohort_kind(pretrain)
    if cohort_kind(probe) != kind:
        raise ValueError(f"pretraining ({kind}) and probe ({cohort_kind(probe)}) cohorts differ in kind")
    if pretrain.seed == probe.seed:
        raise ValueError(f"the pretraining and probe cohorts share seed {pretrain.seed}: they would hold the "
                         "same subjects")
    process, cfg = preprocessing(kind)
    derived = dict(spec.derived)
    stores = {}
    for name, cohort in (("pretrain", pretrain), ("probe", probe)):
        config = {"kind": kind, "cohort": cohort.model_dump(mode="json"), "preprocess": cfg,
                  "derived": derived, "store_version": STORE_VERSION}
        stores[name] = build_store(Path(out) / "stores" / name, sources.cohort(cohort).recordings,
                                   partial(derived_segments, process=process, derived=derived), config,
                                   subjects_per_shard=spec.store.subjects_per_shard,
                                   workers=spec.store.workers, progress=progress)
    write_splits(split_table({"pretrain": stores["pretrain"].index}, spec.split, seed), out)
    labels = label_table(stores["probe"].index)
    write_parquet(labels, Path(out) / "labels.parquet")
    return CohortData(Path(out), stores["probe"], labels)


def open_data(folder: Path) -> CohortData:
    """The :class:`CohortData` an earlier :func:`build` wrote to ``folder`` (for a later step)."""
    folder = Path(folder)
    if not (folder / "labels.parquet").is_file():
        raise FileNotFoundError(f"{folder}: no cohort stores here; run the step that builds them first")
    labels = pd.read_parquet(folder / "labels.parquet")
    return CohortData(folder, SegmentStore(folder / "stores" / "probe"), labels)


def summary(data: CohortData) -> pd.DataFrame:
    """Segments and subjects per split of the pretraining store, and of the probe store."""
    s = read_splits(data.folder)
    table = s.groupby("split").agg(segments=("row", "size"), subjects=("subject_id", "nunique"))
    table.loc["probe"] = [len(data.labels), data.labels["subject_id"].nunique()]
    return table
