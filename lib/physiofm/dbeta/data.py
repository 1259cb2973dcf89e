"""D-BETA's data step: the ECG-report corpus, its splits and assets, and the downstream sets.

Layout of the data step's artifact folder::

    stores/<source>/            the pretraining corpus: 12-lead ECGs (group "ecg12") and their cleaned
                                ``report`` in the index (paper: MIMIC-IV-ECG)
    splits.parquet              its subject split (train / val / test)
    assets/tokenizer.json       the WordPiece tokenizer fitted on the training reports (scratch text encoder)
    assets/report_bank.npz      N3S's bank: the unique reports of the train and val splits, their frozen
                                embeddings and corpus counts (physiofm.text.ReportBank)
    assets/<text model>         a link to a local text model directory (paper: Flan-T5-base)
    downstream/stores/<set>/    one store per downstream set, label columns in the index
    downstream/splits.parquet   their train / val / test rows (the set's own split, or a subject split)

Reports (§4.1.1): the report lines of a record merged into one text and cleaned ("lowercase, strip, and
punctuation removal", :func:`physiofm.text.clean_report`); a record whose cleaned report is empty is dropped
(funnel reason ``empty_report``), as are records holding NaN (``nan``). ECGs: 12 leads, no filter, no
normalisation (authors' config), at the profile's rate and length
(:class:`physiofm.preprocess.ECG12Preprocess`).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from physiofm import sources
from physiofm.dbeta.params import BankSpec, DataParams, PreprocessSpec
from physiofm.io import fresh_dir, mark_done, write_json
from physiofm.preprocess import ECG12Preprocess, dbeta_config, ecg12_segments
from physiofm.recording import Recording
from physiofm.segments import Segments
from physiofm.splits import read_splits, split_table, write_splits
from physiofm.store import SegmentStore, build_store, open_stores
from physiofm.text import (
    ReportBank,
    T5MeanEmbedder,
    TfidfSvdEmbedder,
    clean_report,
    fit_report_tokenizer,
    save_report_tokenizer,
)
from physiofm.training.run import ASSETS

STORE_VERSION = 1
GROUP = "ecg12"  # the batch key of the dbeta method
DOWNSTREAM = "downstream"


def preprocess_config(spec: PreprocessSpec) -> ECG12Preprocess:
    """The params section as :class:`~physiofm.preprocess.ECG12Preprocess` (group ``ecg12``)."""
    return dbeta_config(fs=spec.fs, duration_s=spec.duration_s)


def report_segments(recordings: Iterable[Recording], cfg: ECG12Preprocess, text_column: str,
                    progress: bool = False) -> Segments:
    """12-lead segments (:func:`physiofm.preprocess.ecg12_segments`) with the cleaned report of each record
    in the index column ``report``; records without report text are dropped."""
    segs = ecg12_segments(recordings, cfg, progress)
    if not len(segs):
        return segs
    if text_column not in segs.index:
        raise KeyError(f"the pretraining records carry no report column {text_column!r} "
                       f"(labels: {sorted(segs.index.columns)})")
    text = segs.index[text_column].map(lambda t: clean_report(t) if isinstance(t, str) else "")
    keep = (text.str.len() > 0).to_numpy()
    segs.funnel.drop("after_caps", "empty_report", int((~keep).sum()))
    segs.funnel.add("after_caps", -int((~keep).sum()))
    segs.index["report"] = text.to_numpy()
    return segs.select(keep)


def build_pretraining(params: DataParams, out: Path, seed: int, data_root: Path | None = None,
                      progress: bool = True) -> SegmentStore:
    """The ECG-report store under ``out/stores/<source>`` and its subject split ``out/splits.parquet``."""
    spec = params.pretrain
    cfg = preprocess_config(params.preprocess)
    config: dict[str, Any] = {**dataclasses.asdict(cfg), "source": spec.model_dump(mode="json"),
                              "text_column": params.text_column, "store_version": STORE_VERSION}
    process = functools.partial(report_segments, cfg=cfg, text_column=params.text_column)
    store = build_store(Path(out) / "stores" / spec.name, sources.recordings(spec, data_root), process,
                        config, subjects_per_shard=params.store.subjects_per_shard,
                        workers=params.store.workers, progress=progress)
    write_splits(split_table({spec.name: store.index.assign(source=spec.name)}, params.pretrain_split, seed),
                 out)
    return store


def corpus_reports(store: SegmentStore, splits: pd.DataFrame, parts: tuple[str, ...]) -> list[str]:
    """The cleaned reports of the store's rows in the split ``parts`` (duplicates kept: corpus counts)."""
    rows = splits.loc[splits["split"].isin(parts), "row"].to_numpy()
    return store.index["report"].to_numpy()[np.sort(rows)].tolist()


def report_embedder(spec: BankSpec, train_reports: list[str], seed: int, data_root: Path | None):
    """N3S's frozen embedder: Flan-T5-small's mean last hidden state (paper) or TF-IDF + SVD fitted on the
    unique training reports (demo)."""
    if spec.embedder == "t5_mean":
        if data_root is None:
            raise ValueError("the t5_mean report embedder reads a local model: run with --data-root")
        return T5MeanEmbedder(Path(data_root) / spec.model_subdir, spec.max_length)
    return TfidfSvdEmbedder(spec.dim, seed=seed).fit(sorted(set(train_reports)))


def _link(target: Path, link: Path) -> None:
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink(target, link, target_is_directory=True)


def build_assets(params: DataParams, out: Path, seed: int, data_root: Path | None = None) -> dict[str, Path]:
    """The tokenizer, the N3S report bank and the text-model links under ``out/assets`` (rebuilt only when the
    corpus or their settings change); returns name -> path."""
    store = next(iter(open_stores(Path(out) / "stores").values()))
    splits = read_splits(out)
    folder = Path(out) / ASSETS
    config = {"store": store.meta["shards"], "splits": pd.util.hash_pandas_object(splits).sum().item(),
              "tokenizer": params.tokenizer and params.tokenizer.model_dump(),
              "bank": params.bank.model_dump(),
              "text_models": [m.model_dump() for m in params.text_models], "seed": seed,
              "data_root": str(data_root)}
    if not fresh_dir(folder, config):
        train = corpus_reports(store, splits, ("train",))
        if params.tokenizer is not None:
            tok = fit_report_tokenizer(train, params.tokenizer.vocab_size, params.tokenizer.min_frequency)
            save_report_tokenizer(tok, folder / "tokenizer.json")
        embed = report_embedder(params.bank, train, seed, data_root)
        # Validation batches draw negatives too, so their reports are in the bank [D].
        ReportBank.from_reports(corpus_reports(store, splits, ("train", "val")), embed).save(
            folder / "report_bank.npz")
        for model in params.text_models:
            if data_root is None or not (Path(data_root) / model.subdir).is_dir():
                raise FileNotFoundError(f"text model {model.name!r}: no directory {model.subdir!r} under the "
                                        f"data root {data_root}")
            _link((Path(data_root) / model.subdir).resolve(), folder / model.name)
        mark_done(folder)
    from physiofm.training.run import data_assets
    return data_assets(out)


def build_downstream(params: DataParams, out: Path, seed: int, data_root: Path | None = None,
                     progress: bool = True) -> dict[str, SegmentStore]:
    """One store per loadable downstream set under ``out/downstream/stores`` (12 leads as in pretraining,
    label columns in the index) and ``out/downstream/splits.parquet``: a set's own ``split`` column, or a
    seeded subject split of ``split_fractions``."""
    cfg = preprocess_config(params.preprocess)
    root = Path(out) / DOWNSTREAM
    stores, parts = {}, []
    for spec in (s for s in params.downstream if s.kind != "unavailable"):
        config = {**dataclasses.asdict(cfg), "set": spec.model_dump(mode="json"),
                  "store_version": STORE_VERSION}
        store = build_store(root / "stores" / spec.name, sources.recordings(spec, data_root),
                            functools.partial(ecg12_segments, cfg=cfg), config,
                            subjects_per_shard=params.store.subjects_per_shard, workers=params.store.workers,
                            progress=progress)
        stores[spec.name] = store
        index = store.index.assign(source=spec.name)
        if spec.split_fractions is not None:
            parts.append(split_table({spec.name: index}, spec.split_fractions, seed))
        else:
            if "split" not in index:
                raise KeyError(f"downstream set {spec.name!r} has no split column: give split_fractions")
            parts.append(pd.DataFrame({"store": spec.name, "row": np.arange(len(index)),
                                       "subject_id": index["subject_id"].astype(str), "source": spec.name,
                                       "split": index["split"].to_numpy()}))
    write_splits(pd.concat(parts, ignore_index=True), root)
    write_json(root / "sets.json", {s.name: [t.model_dump() for t in s.tasks] for s in params.downstream
                                    if s.kind != "unavailable"})
    return stores


# --------------------------------------------------------------------------------------- descriptions
def corpus_table(store: SegmentStore, splits: pd.DataFrame, top: int = 10) -> dict[str, pd.DataFrame]:
    """What §A.2 says of MIMIC-IV-ECG, for this corpus: records, unique reports and the most common ones."""
    reports = store.index["report"]
    counts = reports.value_counts()
    summary = pd.DataFrame({
        "value": [len(reports), reports.nunique(), int(counts.iloc[0]),
                  round(100 * counts.iloc[0] / len(reports), 1),
                  round(float(reports.str.split().map(len).mean()), 1)]},
        index=["records with a report", "unique reports", "records sharing the most common report",
               "... as % of the records", "words per report (mean)"])
    top_reports = counts.head(top).rename_axis("report").reset_index(name="records")
    split = splits.groupby("split").agg(subjects=("subject_id", "nunique"), records=("row", "size"))
    return {"summary": summary, "top": top_reports, "split": split}


def n3s_examples(bank: ReportBank, k: int, n: int, seed: int) -> pd.DataFrame:
    """For ``n`` frequent reports: the report, one N3S negative (a random pick among the ``k`` least similar
    reports) and one random negative drawn by corpus frequency (the no-N3S ablation), with their cosine
    similarity in the bank's embedding space."""
    from physiofm.objectives.n3s import FarthestNegativeSampler

    sampler = FarthestNegativeSampler(bank.embeddings, min(k, len(bank) - 1))
    rng = np.random.default_rng(seed)
    order = np.argsort(-(bank.counts if bank.counts is not None else np.ones(len(bank))), kind="stable")[:n]
    unit = bank.embeddings / np.linalg.norm(bank.embeddings, axis=1, keepdims=True)
    far = sampler.sample(bank.embeddings[order], rng, exclude=order)
    p = None if bank.counts is None else bank.counts / bank.counts.sum()
    rand = rng.choice(len(bank), size=len(order), p=p)
    return pd.DataFrame({
        "report": [bank.texts[i] for i in order],
        "N3S negative": [bank.texts[j] for j in far],
        "cosine (N3S)": np.round((unit[order] * unit[far]).sum(1), 2),
        "random negative": [bank.texts[j] for j in rand],
        "cosine (random)": np.round((unit[order] * unit[rand]).sum(1), 2),
    })
