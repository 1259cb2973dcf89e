"""Frozen encoder -> embeddings for a dataset, cached on disk, optionally mean-pooled per subject.

``compute_embeddings(encoder, batches, encode=..., meta_keys=("subject", "label"), cache_dir=...)`` runs the
encoder in eval mode under ``torch.no_grad`` over batches (dicts of tensors) and returns an
:class:`Embeddings` (``X`` (N, D) float32, ``meta`` with one row per sample). The cache key hashes the
checkpoint file (or, without one, the encoder's state dict) together with ``dataset_key``, so a new checkpoint
or a new dataset never reuses stale embeddings. :func:`pool_by_subject` averages segment embeddings into one
row per subject, the PaPaGei / SyneCo protocol (optionally the first ``max_per_group`` segments only, as
SyneCo's VitalDB tasks use up to 50).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from physiofm.training.checkpoint import file_sha256, state_dict_sha256


@dataclass
class Embeddings:
    X: np.ndarray  # (N, D) float32
    meta: pd.DataFrame  # N rows: the requested per-sample batch fields
    from_cache: bool = False
    key: str = ""

    def __len__(self) -> int:
        return len(self.X)


def _default_encode(encoder: nn.Module, batch) -> torch.Tensor:
    return encoder(batch)


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


def embedding_cache_key(encoder: nn.Module, dataset_key: str, checkpoint: Path | None = None) -> str:
    """SHA-256 of (checkpoint file bytes, or the encoder's state dict) and the dataset key."""
    model_hash = (
        file_sha256(Path(checkpoint)) if checkpoint is not None else state_dict_sha256(encoder.state_dict())
    )
    return hashlib.sha256(f"{model_hash}|{dataset_key}".encode()).hexdigest()[:32]


def compute_embeddings(
    encoder: nn.Module,
    batches: Iterable,
    *,
    encode: Callable[[nn.Module, object], torch.Tensor] | None = None,
    meta_keys: Sequence[str] = (),
    cache_dir: Path | None = None,
    dataset_key: str | None = None,
    checkpoint: Path | None = None,
    device: str | torch.device = "auto",
    progress: bool = True,
) -> Embeddings:
    """Embeddings ``(N, D)`` of every sample in ``batches`` from a frozen ``encoder``.

    Args:
        encoder: the pretrained module (its train/eval mode is restored afterwards).
        batches: iterable of batch dicts (e.g. a DataLoader without shuffling).
        encode: ``encode(encoder, batch) -> (B, D)``; default ``encoder(batch)``.
        meta_keys: batch fields copied into ``meta`` (e.g. ``"subject"``, ``"label"``, ``"record_id"``).
        cache_dir, dataset_key: cache the result as ``cache_dir/<key>/``; the key hashes the checkpoint
            (or state dict) and ``dataset_key`` (names data, split and preprocessing). Both or neither.
        checkpoint: the file the encoder weights came from (hashing it is cheaper than the state dict).
    """
    if (cache_dir is None) != (dataset_key is None):
        raise ValueError("give both cache_dir and dataset_key to cache embeddings, or neither")
    key = ""
    if cache_dir is not None:
        key = embedding_cache_key(encoder, dataset_key, checkpoint)
        hit = Path(cache_dir) / key
        if (hit / "X.npy").is_file():
            return Embeddings(np.load(hit / "X.npy"), pd.read_parquet(hit / "meta.parquet"), True, key)

    encode = encode or _default_encode
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
        _write_cache(Path(cache_dir), key, out, dataset_key, checkpoint)
    return out


def _write_cache(cache_dir: Path, key: str, emb: Embeddings, dataset_key: str, checkpoint) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache_dir, prefix=f".{key}."))
    try:
        np.save(tmp / "X.npy", emb.X)
        emb.meta.to_parquet(tmp / "meta.parquet", index=False)
        (tmp / "info.json").write_text(
            json.dumps(
                {"dataset_key": dataset_key, "checkpoint": str(checkpoint), "shape": list(emb.X.shape)}
            )
        )
        os.replace(tmp, cache_dir / key)  # atomic; if another process won the race, keep theirs
    except OSError:
        if not (cache_dir / key / "X.npy").is_file():
            raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


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
    sums = np.zeros((len(subjects), X.shape[1]), dtype=np.float64)
    np.add.at(sums, codes, X)
    pooled = (sums / np.bincount(codes)[:, None]).astype(np.float32)
    grouped = meta.groupby(by, sort=False)
    varying = [c for c in meta.columns if c != by and (grouped[c].nunique(dropna=False) > 1).any()]
    if varying:
        warnings.warn(f"dropping meta column(s) {varying}: they vary within a {by}", stacklevel=2)
    first = grouped.first().loc[list(subjects)]
    first = first.rename_axis(by).reset_index()
    return Embeddings(
        pooled,
        first[[by] + [c for c in meta.columns if c not in varying and c != by]],
        emb.from_cache,
        emb.key,
    )
