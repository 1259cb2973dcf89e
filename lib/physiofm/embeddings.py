"""Frozen embeddings of stored segments, cached on disk under the hash of the weights that made them.

One cache serves every paper. An entry is a folder ``<cache_dir>/<key>/`` (``arrays.npz``: named (N, D)
float32 arrays; ``meta.parquet``: one row per sample when asked for; ``info.json``) written atomically. Its
key hashes the checkpoint file's bytes (or, for untrained weights, the state dict) together with a
``dataset_key`` naming the data, the rows and what was computed, so new weights or new data never reuse
stale embeddings.

* :func:`embed_segments`: a pretrained :class:`~physiofm.methods.Method` over a
  :class:`~physiofm.store.SegmentDataset`: the probe representation of each named channel set
  (``in:<set>``), each channel's own embedding (``ch:<channel>``) and any other named embeddings
  (``<name>``: e.g. CLIP's shared-space ``ppg_shared``);
* :func:`cached_embeddings`: that, through the cache; :func:`store_key` names a store's content;
* :func:`compute_embeddings`: any frozen encoder over any batches (``encode(encoder, batch)``), with
  per-sample meta columns, through the same cache;
* :func:`pool_by_subject`: the mean of each subject's segment embeddings;
* :func:`embed_runs` / :func:`read_run_embeddings`: every pretrained run of a study over one dataset, with a
  manifest of which cache entry each run and seed reads.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from physiofm.io import read_arrays, write_arrays, write_dir, write_json, write_parquet
from physiofm.parallel import parallel_map
from physiofm.store import SegmentDataset, SegmentStore
from physiofm.training.checkpoint import file_sha256, state_dict_sha256
from physiofm.training.run import load_method


# ------------------------------------------------------------------------------------------------ cache
def weights_hash(model: nn.Module, checkpoint: Path | None = None) -> str:
    """SHA-256 of the checkpoint file (cheap) or, without one, of the model's state dict."""
    return file_sha256(Path(checkpoint)) if checkpoint is not None else state_dict_sha256(model.state_dict())


def embedding_cache_key(model: nn.Module, dataset_key: str, checkpoint: Path | None = None) -> str:
    """The cache key of ``model``'s weights (see :func:`weights_hash`) and ``dataset_key``."""
    return hashlib.sha256(f"{weights_hash(model, checkpoint)}|{dataset_key}".encode()).hexdigest()[:32]


def store_key(store: SegmentStore) -> str:
    """Identity of a store's content: its build config and its shards' checksums."""
    shards = [(s["shard"], s["count"], {g: v["checksum"] for g, v in s["groups"].items()})
              for s in store.meta["shards"]]
    payload = json.dumps({"config": store.meta.get("config"), "shards": shards}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def read_cached(cache_dir: Path, key: str) -> tuple[dict[str, np.ndarray], pd.DataFrame | None] | None:
    """The arrays and meta of cache entry ``key``, or None when there is none."""
    folder = Path(cache_dir) / key
    if not (folder / "arrays.npz").is_file():
        return None
    meta = pd.read_parquet(folder / "meta.parquet") if (folder / "meta.parquet").is_file() else None
    return read_arrays(folder / "arrays.npz"), meta


def write_cached(cache_dir: Path, key: str, arrays: Mapping[str, np.ndarray], info: Mapping,
                 meta: pd.DataFrame | None = None) -> Path:
    """Store one entry atomically (a concurrent writer of the same key wins; its content is the same)."""

    def fill(tmp: Path) -> None:
        write_arrays(tmp / "arrays.npz", arrays)
        if meta is not None:
            write_parquet(meta, tmp / "meta.parquet")
        write_json(tmp / "info.json", dict(info))

    return write_dir(Path(cache_dir) / key, fill)


# ------------------------------------------------------------------------------------- stored segments
@torch.no_grad()
def embed_segments(method, data: SegmentDataset, *, batch_size: int,
                   inputs: Mapping[str, Sequence[str]] | None = None, keys: Sequence[str] = (),
                   stand_in: Mapping[str, tuple[str, int]] | None = None,
                   desc: str = "embed") -> dict[str, np.ndarray]:
    """Embeddings of every row of ``data`` in order, name -> (N, D) float32.

    ``inputs``: named channel sets -> ``in:<set>`` (the method's probe representation of just those
    channels; sets whose channels ``data`` lacks are skipped) and ``ch:<channel>``; ``keys``: entries of
    ``method.embeddings(batch)``. ``stand_in`` as in :meth:`physiofm.methods.Method.embed_inputs`.
    """
    usable = {k: v for k, v in (inputs or {}).items() if all(c in data.groups for c in v)}
    chunks: dict[str, list[np.ndarray]] = {}
    order = torch.utils.data.SequentialSampler(data)
    # disable=None: a bar on a terminal only; in an executed notebook every redraw would stay in the page
    for batch in tqdm(data.loader(batch_size, sampler=order), desc=desc, leave=False, disable=None):
        out = {}
        if usable:
            reps = method.embed_inputs(batch, usable, stand_in)
            out.update({k if k.startswith("ch:") else f"in:{k}": v for k, v in reps.items()})
        if keys:
            emb = method.embeddings(batch)
            out.update({k: emb[k] for k in keys})
        for k, v in out.items():
            chunks.setdefault(k, []).append(v.float().cpu().numpy())
    return {k: np.concatenate(v) for k, v in chunks.items()}


def cached_embeddings(method, checkpoint: Path | None, data: SegmentDataset, cache_dir: Path, *,
                      batch_size: int, inputs: Mapping[str, Sequence[str]] | None = None,
                      keys: Sequence[str] = (), stand_in: Mapping[str, tuple[str, int]] | None = None,
                      desc: str = "embed") -> tuple[dict[str, np.ndarray], str]:
    """:func:`embed_segments` through the cache; returns the arrays and their cache key."""
    dataset_key = json.dumps({"stores": [store_key(s) for s in data.stores], "names": data.names,
                              "rows": [hashlib.sha256(r.tobytes()).hexdigest()[:16] for r in data.rows],
                              "groups": data.groups, "inputs": inputs, "keys": list(keys),
                              "stand_in": stand_in}, sort_keys=True, default=str)
    key = embedding_cache_key(method, dataset_key, checkpoint)
    hit = read_cached(cache_dir, key)
    if hit is not None:
        return hit[0], key
    arrays = embed_segments(method, data, batch_size=batch_size, inputs=inputs, keys=keys, stand_in=stand_in,
                            desc=desc)
    write_cached(cache_dir, key, arrays, {"dataset_key": dataset_key, "checkpoint": str(checkpoint)})
    return arrays, key


# ------------------------------------------------------------------------------------- any encoder
@dataclass
class Embeddings:
    X: np.ndarray  # (N, D) float32
    meta: pd.DataFrame  # N rows: the requested per-sample batch fields
    from_cache: bool = False
    key: str = ""

    def __len__(self) -> int:
        return len(self.X)


def _to_device(batch, device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    return batch


def _column(value, n: int, key: str) -> list:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if len(value) != n:
        raise ValueError(f"batch field {key!r} has {len(value)} entries for {n} embeddings")
    if isinstance(value, np.ndarray):
        value = value.reshape(n, -1)
        return list(value[:, 0]) if value.shape[1] == 1 else list(value)
    return list(value)


def compute_embeddings(encoder: nn.Module, batches: Iterable, *,
                       encode: Callable[[nn.Module, object], torch.Tensor] | None = None,
                       meta_keys: Sequence[str] = (), cache_dir: Path | None = None,
                       dataset_key: str | None = None, checkpoint: Path | None = None,
                       device: str | torch.device = "auto", progress: bool = True) -> Embeddings:
    """Embeddings ``(N, D)`` of every sample in ``batches`` from a frozen ``encoder``.

    Args:
        encoder: the pretrained module (its train/eval mode is restored afterwards).
        batches: iterable of batch dicts (e.g. a DataLoader without shuffling).
        encode: ``encode(encoder, batch) -> (B, D)``; default ``encoder(batch)``.
        meta_keys: batch fields copied into ``meta`` (e.g. ``"subject"``, ``"label"``).
        cache_dir, dataset_key: cache the result; the key hashes the weights and ``dataset_key`` (which
            names data, split and preprocessing). Both or neither.
        checkpoint: the file the encoder weights came from (hashing it is cheaper than the state dict).
    """
    if (cache_dir is None) != (dataset_key is None):
        raise ValueError("give both cache_dir and dataset_key to cache embeddings, or neither")
    key = ""
    if cache_dir is not None:
        key = embedding_cache_key(encoder, dataset_key, checkpoint)
        hit = read_cached(cache_dir, key)
        if hit is not None:
            return Embeddings(hit[0]["X"], hit[1], True, key)
    encode = encode or (lambda model, batch: model(batch))
    if device == "auto":
        device = next((p.device for p in encoder.parameters()), torch.device("cpu"))
    was_training = encoder.training
    encoder.eval()
    chunks, meta = [], {k: [] for k in meta_keys}
    try:
        with torch.no_grad():
            for batch in tqdm(batches, desc="embed", disable=not progress, leave=False):
                z = encode(encoder, _to_device(batch, device))
                if z.ndim != 2:
                    raise ValueError(f"encode must return (B, D) embeddings, got shape {tuple(z.shape)}")
                chunks.append(z.float().cpu().numpy())
                for k in meta_keys:
                    if k not in batch:
                        raise KeyError(f"batch has no field {k!r} for meta (fields: {sorted(batch)})")
                    meta[k] += _column(batch[k], len(z), k)
    finally:
        encoder.train(was_training)
    if not chunks:
        raise ValueError("no batches to embed")
    out = Embeddings(np.concatenate(chunks).astype(np.float32), pd.DataFrame(meta), False, key)
    if cache_dir is not None:
        info = {"dataset_key": dataset_key, "checkpoint": str(checkpoint)}
        write_cached(cache_dir, key, {"X": out.X}, info, out.meta)
    return out


def pool_by_subject(emb: Embeddings, by: str = "subject", max_per_group: int | None = None) -> Embeddings:
    """Mean of each subject's valid (finite) segment embeddings; one row per subject, in first-seen order.

    Meta columns constant within every subject are kept (their first value); columns that vary within a
    subject cannot describe the subject and are dropped with a warning naming them.
    """
    if by not in emb.meta:
        raise KeyError(f"cannot pool by {by!r}: meta has columns {list(emb.meta.columns)}")
    meta = emb.meta.reset_index(drop=True)
    valid = np.isfinite(emb.X).all(1)
    meta, X = meta[valid], emb.X[valid]
    if max_per_group is not None:
        keep = meta.groupby(by, sort=False).cumcount().to_numpy() < max_per_group
        meta, X = meta[keep], X[keep]
    codes, subjects = pd.factorize(meta[by])
    pooled = subject_means(X, codes, len(subjects))
    grouped = meta.groupby(by, sort=False)
    varying = [c for c in meta.columns if c != by and (grouped[c].nunique(dropna=False) > 1).any()]
    if varying:
        warnings.warn(f"dropping meta column(s) {varying}: they vary within a {by}", stacklevel=2)
    first = grouped.first().loc[list(subjects)].rename_axis(by).reset_index()
    return Embeddings(pooled, first[[by] + [c for c in meta.columns if c not in varying and c != by]],
                      emb.from_cache, emb.key)


def subject_means(X: np.ndarray, codes: np.ndarray, n: int) -> np.ndarray:
    """(n, D) float32 means of the rows of ``X`` (N, D) grouped by ``codes`` in 0..n-1 (float64 sums)."""
    sums = np.zeros((n, X.shape[1]), dtype=np.float64)
    np.add.at(sums, codes, X)
    return (sums / np.bincount(codes, minlength=n)[:, None]).astype(np.float32)


# ------------------------------------------------------------------------------------- pretrained runs
MANIFEST = "manifest.json"


def embed_runs(jobs: Mapping[str, Mapping[int, tuple]], data: SegmentDataset, cache_dir: Path, *,
               batch_size: int, device: str | torch.device = "cpu",
               inputs: Mapping[str, Sequence[str]] | None = None, keys: Sequence[str] = (),
               stand_in: Mapping[str, tuple[str, int]] | None = None,
               workers: int = 1) -> dict[str, dict[int, dict]]:
    """Embeddings of ``data`` by every pretrained run, through the cache.

    ``jobs``: name -> {probe seed: (MethodChoice, encoder section, checkpoint or None, init seed)}; a run
    that serves several probe seeds is embedded once (a checkpoint of None is the untrained method,
    initialised with the init seed); distinct runs are embedded over ``workers`` processes (on the CPU).
    Returns name -> probe seed -> {embedding name: (N, D)} and writes
    ``cache_dir/manifest.json`` (name -> seed -> cache key); entries of older checkpoints are deleted.
    """
    def job(choice, ckpt, init_seed) -> tuple:  # a run that serves several probe seeds is embedded once
        return id(choice), str(ckpt), init_seed if ckpt is None else None

    distinct: dict[tuple, tuple] = {}
    for name, by_seed in jobs.items():
        for choice, encoder, ckpt, init_seed in by_seed.values():
            kw = dict(batch_size=batch_size, inputs=inputs, keys=keys, stand_in=stand_in,
                      desc=f"embed {name}")
            distinct.setdefault(job(choice, ckpt, init_seed),
                                (choice, encoder, ckpt, init_seed, device, data, cache_dir, kw))
    n = workers if str(device) == "cpu" else 1
    done = dict(zip(distinct, parallel_map(_embed_job, distinct.values(), n, desc="embed runs")))
    out: dict[str, dict[int, dict]] = {name: {} for name in jobs}
    manifest: dict[str, dict[int, str]] = {name: {} for name in jobs}
    for name, by_seed in jobs.items():
        for seed, (choice, _, ckpt, init_seed) in by_seed.items():
            out[name][seed], manifest[name][seed] = done[job(choice, ckpt, init_seed)]
    keep = {k for m in manifest.values() for k in m.values()}
    for stale in (p for p in Path(cache_dir).iterdir() if p.is_dir() and p.name not in keep):
        shutil.rmtree(stale, ignore_errors=True)
    write_json(Path(cache_dir) / MANIFEST, manifest)
    return out


def _embed_job(choice, encoder, ckpt: Path | None, init_seed: int, device, data: SegmentDataset,
               cache_dir: Path, kw: Mapping) -> tuple[dict[str, np.ndarray], str]:
    method = load_method(choice, encoder, ckpt, seed=init_seed, device=device)
    return cached_embeddings(method, ckpt, data, cache_dir, **kw)


def read_run_embeddings(cache_dir: Path) -> dict[str, dict[int, dict[str, np.ndarray]]]:
    """The embeddings :func:`embed_runs` wrote to ``cache_dir``: name -> probe seed -> arrays."""
    manifest = Path(cache_dir) / MANIFEST
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest}: no embeddings; run the probe step first")
    keys = json.loads(manifest.read_text())
    loaded = {k: read_cached(cache_dir, k)[0] for m in keys.values() for k in set(m.values())}
    return {name: {int(s): loaded[k] for s, k in m.items()} for name, m in keys.items()}
