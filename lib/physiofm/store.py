"""On-disk segment store: sharded float32 ``.npy`` arrays per channel group plus a parquet index.

Layout of a store directory::

    store.json                 groups (shape per segment, rate), shard table, funnel, build config
    index.parquet              one row per segment: subject_id, record_id, source, start_time, labels,
                               shard, row
    shards/00012.ecg_ii.npy    (N_12, C, T) float32, memory-mappable
    shards/00012.parquet       the shard's index rows
    shards/00012.json          written last: the shard's count, per-group checksum and funnel

A shard holds every segment of a fixed set of subjects, so per-subject caps stay exact when shards are
built in parallel. A shard is finished when its ``.json`` exists (all files are written to temporary
names and renamed), so an interrupted build resumes by skipping finished shards.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import zlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from physiofm.io import fresh_dir, mark_done, write_json, write_npy, write_parquet
from physiofm.recording import Recording, RecordingSet
from physiofm.sampler import PairedBatch
from physiofm.segments import Funnel, Segments, missing_as_nan

Process = Callable[[list[Recording]], Segments]

# Keys of a paired batch (a :class:`~physiofm.sampler.PairedBatch` read by :class:`SegmentDataset`): each
# group's partner segments under ``<group>_pair`` and the subjects' integer codes under ``subject``.
PAIR_SUFFIX = "_pair"
SUBJECT_KEY = "subject"

# Set by SegmentStore.build before the worker pool forks, so workers inherit the (possibly unpicklable)
# recording set and process function instead of receiving them through pickling.
_BUILD: dict[str, Any] = {}


def checksum(a: np.ndarray, chunk_rows: int = 4096) -> str:
    """CRC-32 of an array's bytes, read in chunks (works on memmaps without loading them whole)."""
    crc = 0
    for i in range(0, len(a), chunk_rows):
        crc = zlib.crc32(np.ascontiguousarray(a[i:i + chunk_rows]).view(np.uint8), crc)
    return f"{crc:08x}"


def _shard_name(k: int) -> str:
    return f"{k:05d}"


def _build_shard(k: int) -> dict:
    root, recordings, process, plan = _BUILD["root"], _BUILD["recordings"], _BUILD["process"], _BUILD["plan"]
    records = [recordings[i] for i in plan[k]]
    segs = process(records)
    shard_dir = root / "shards"
    name = _shard_name(k)
    meta = {"shard": k, "count": len(segs), "records": [r.record_id for r in records], "groups": {},
            "funnel": segs.funnel.to_dict()}
    for g, a in segs.arrays.items():
        a = np.ascontiguousarray(a, dtype=np.float32)
        write_npy(shard_dir / f"{name}.{g}.npy", a)
        meta["groups"][g] = {"shape": list(a.shape[1:]), "fs": float(segs.fs[g]), "checksum": checksum(a)}
    write_parquet(segs.index, shard_dir / f"{name}.parquet")
    write_json(shard_dir / f"{name}.json", meta, indent=None)
    return meta


def _plan(subjects: Sequence[str], subjects_per_shard: int) -> list[list[int]]:
    """Record positions per shard: subjects sorted, ``subjects_per_shard`` subjects per shard."""
    by_subject: dict[str, list[int]] = {}
    for i, s in enumerate(subjects):
        by_subject.setdefault(str(s), []).append(i)
    ordered = sorted(by_subject)
    return [[i for s in ordered[j:j + subjects_per_shard] for i in by_subject[s]]
            for j in range(0, len(ordered), subjects_per_shard)]


class SegmentStore:
    """A built store, opened read-only: ``index`` (DataFrame), ``groups``, :meth:`read`, :meth:`verify`."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        meta_path = self.root / "store.json"
        if not meta_path.exists():
            raise FileNotFoundError(f"{self.root}: not a finished segment store (no store.json)")
        self.meta = json.loads(meta_path.read_text())
        self.groups: dict[str, dict] = self.meta["groups"]
        # parquet hands a missing string or boolean back as None under pandas 2: the study's marker is NaN.
        self.index = missing_as_nan(pd.read_parquet(self.root / "index.parquet"))
        self._shard = self.index["shard"].to_numpy(np.int64)
        self._row = self.index["row"].to_numpy(np.int64)
        self._mm: dict[tuple[int, str], np.ndarray] = {}
        self._pid = os.getpid()

    def __len__(self) -> int:
        return len(self.index)

    def __getstate__(self) -> dict:
        """Pickled without its open memory maps: a worker process opens its own."""
        return {**self.__dict__, "_mm": {}}

    def __repr__(self) -> str:
        shapes = {g: tuple(m["shape"]) for g, m in self.groups.items()}
        return f"SegmentStore({str(self.root)!r}, {len(self)} segments, groups={shapes})"

    @property
    def funnel(self) -> Funnel:
        return Funnel.from_dict(self.meta["funnel"])

    def shard_array(self, k: int, group: str) -> np.ndarray:
        """The memory-mapped ``(N_k, C, T)`` array of one shard and group."""
        if os.getpid() != self._pid:  # a forked DataLoader worker opens its own maps
            self._mm, self._pid = {}, os.getpid()
        key = (k, group)
        if key not in self._mm:
            self._mm[key] = np.load(self.root / "shards" / f"{_shard_name(k)}.{group}.npy", mmap_mode="r")
        return self._mm[key]

    def read(self, indices: Sequence[int] | np.ndarray, groups: Sequence[str] | None = None,
             out: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Segments by global position -> group -> ``(B, C, T)`` float32, in the order asked.

        ``out`` may supply the destination arrays (e.g. views of shared-memory tensors). Indices sorted
        by (shard, row), as :meth:`SegmentDataset.loader` asks for them, are copied straight from the
        memory map into ``out`` with one ``np.take`` per shard; other orders take one extra copy.
        """
        idx = np.asarray(indices, dtype=np.int64)
        groups = list(self.groups) if groups is None else list(groups)
        if out is None:
            out = {g: np.empty((len(idx), *self.groups[g]["shape"]), np.float32) for g in groups}
        shard, row = self._shard[idx], self._row[idx]
        key = shard * (1 << 32) + row
        in_order = bool(np.all(key[1:] >= key[:-1]))
        order = np.arange(len(idx)) if in_order else np.argsort(key, kind="stable")
        bounds = np.flatnonzero(np.diff(shard[order])) + 1
        for chunk in np.split(order, bounds):
            if not len(chunk):
                continue
            k = int(shard[chunk[0]])
            for g in groups:
                mm = self.shard_array(k, g)
                if in_order:  # chunk is a contiguous run of out: no temporary
                    np.take(mm, row[chunk], axis=0, out=out[g][chunk[0]:chunk[-1] + 1])
                else:
                    out[g][chunk] = mm[row[chunk]]
        return out

    def verify(self, strict: bool = True) -> pd.DataFrame:
        """Recount and re-checksum every shard; one row per shard and group with an ``ok`` column.

        Raises ``ValueError`` naming the bad shards when ``strict`` and anything disagrees.
        """
        rows = []
        for sh in self.meta["shards"]:
            k, count = sh["shard"], sh["count"]
            n_index = int((self._shard == k).sum())
            for g in self.groups if count else []:
                path = self.root / "shards" / f"{_shard_name(k)}.{g}.npy"
                if not path.exists():
                    rows.append({"shard": k, "group": g, "count": count, "found": 0, "ok": False,
                                 "problem": "missing file"})
                    continue
                a = np.load(path, mmap_mode="r")
                found, crc = len(a), checksum(a)
                ok = found == count == n_index and crc == sh["groups"][g]["checksum"]
                problem = "" if ok else ("count" if found != count or n_index != count else "checksum")
                rows.append({"shard": k, "group": g, "count": count, "found": found, "ok": ok,
                             "problem": problem})
        report = pd.DataFrame(rows, columns=["shard", "group", "count", "found", "ok", "problem"])
        if strict and not report["ok"].all():
            bad = report[~report["ok"]]
            raise ValueError(f"{self.root}: shard check failed:\n{bad.to_string(index=False)}")
        return report

    # ------------------------------------------------------------------------------------------ build
    @classmethod
    def build(cls, root: str | Path, recordings: RecordingSet | Sequence[Recording], process: Process, *,
              subjects_per_shard: int = 16, workers: int = 1, config: dict | None = None,
              progress: bool = True) -> SegmentStore:
        """Build (or resume building) a store from recordings with ``process`` (e.g. ``syneco_segments``).

        Args:
            root: store directory (created).
            recordings: a :class:`RecordingSet` (its ``records`` table gives subjects without loading;
                the records its loader left out, ``info["excluded"]``, are counted in the funnel as drops
                into the ``records`` stage) or a list of recordings.
            process: records of some subjects -> :class:`Segments`; every shard must give the same
                groups, per-segment shapes and rates. Use ``functools.partial(syneco_segments, cfg=cfg)``.
            subjects_per_shard: subjects per shard.
            workers: worker processes (forked); 1 builds in this process.
            config: JSON-able description of the preprocessing, stored in ``store.json``.

        Shards whose ``.json`` already exists are kept; the shard plan must match the earlier run.
        If any shard fails, the others still finish and a ``RuntimeError`` names the failures.
        """
        root = Path(root)
        (root / "shards").mkdir(parents=True, exist_ok=True)
        if isinstance(recordings, RecordingSet):  # subjects from the table, without loading any signal
            table = recordings.records
            subjects, ids = table["subject_id"].astype(str).tolist(), table["record_id"].tolist()
        else:
            subjects, ids = [r.subject_id for r in recordings], [r.record_id for r in recordings]
        plan = _plan(subjects, subjects_per_shard)
        plan_path = root / "plan.json"
        if plan_path.exists():
            if json.loads(plan_path.read_text()) != plan:
                raise ValueError(f"{root}: an earlier build used a different shard plan (other records or "
                                 "subjects_per_shard); use a new directory or delete the old one")
        else:
            write_json(plan_path, plan, indent=None)
        (root / "store.json").unlink(missing_ok=True)  # a store is only complete once finalised below

        todo = [k for k in range(len(plan)) if not (root / "shards" / f"{_shard_name(k)}.json").exists()]
        _BUILD.update(root=root, recordings=recordings, process=process, plan=plan)
        errors: dict[int, BaseException] = {}
        bar = tqdm(total=len(plan), initial=len(plan) - len(todo), desc="shards", disable=not progress)
        try:
            if workers <= 1:
                for k in todo:
                    try:
                        _build_shard(k)
                    except Exception as e:  # keep going: finished shards stay for the next run
                        errors[k] = e
                    bar.update()
            else:
                ctx = multiprocessing.get_context("fork")
                with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                    futures = {pool.submit(_build_shard, k): k for k in todo}
                    for f in as_completed(futures):
                        if f.exception() is not None:
                            errors[futures[f]] = f.exception()
                        bar.update()
        finally:
            bar.close()
            _BUILD.clear()
        if errors:
            k, e = next(iter(sorted(errors.items())))
            first_ids = [str(ids[i]) for i in plan[k][:5]]
            raise RuntimeError(f"{root}: {len(errors)} shard(s) failed (finished shards are kept; rerun to "
                               f"resume); first, shard {k} with records {first_ids}: {e!r}") from e
        excluded = recordings.info.get("excluded") if isinstance(recordings, RecordingSet) else None
        return cls._finalise(root, len(plan), config, excluded)

    @classmethod
    def _finalise(cls, root: Path, n_shards: int, config: dict | None,
                  excluded: Mapping[str, int] | None = None) -> SegmentStore:
        shards = root / "shards"
        metas = [json.loads((shards / f"{_shard_name(k)}.json").read_text()) for k in range(n_shards)]
        groups: dict[str, dict] = {}
        for m in metas:
            for g, info in m["groups"].items():
                spec = {"shape": info["shape"], "fs": info["fs"]}
                if groups.setdefault(g, spec) != spec:
                    raise ValueError(f"{root}: shard {m['shard']} group {g!r} is {spec}, others {groups[g]}")
        for m in metas:
            if m["count"] and set(m["groups"]) != set(groups):
                raise ValueError(f"{root}: shard {m['shard']} has groups {sorted(m['groups'])}, "
                                 f"expected {sorted(groups)}")
        parts = []
        for m in metas:
            if m["count"]:
                part = pd.read_parquet(root / "shards" / f"{_shard_name(m['shard'])}.parquet")
                parts.append(part.assign(shard=m["shard"], row=np.arange(len(part))))
        index = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["shard", "row"])
        funnel = sum((Funnel.from_dict(m["funnel"]) for m in metas), Funnel())
        for reason, n in (excluded or {}).items():  # records the loader found but could not use
            funnel.drop("records", reason, int(n))
        write_parquet(index, root / "index.parquet")
        meta = {"groups": groups, "count": len(index), "funnel": funnel.to_dict(), "config": config or {},
                "shards": [{k: m[k] for k in ("shard", "count", "groups")} for m in metas]}
        write_json(root / "store.json", meta)
        return cls(root)


def _open(store: SegmentStore | str | Path) -> SegmentStore:
    return store if isinstance(store, SegmentStore) else SegmentStore(store)


def build_store(root: Path, recordings: RecordingSet, process: Process, config: dict, *,
                subjects_per_shard: int, workers: int, progress: bool = True) -> SegmentStore:
    """The store of ``recordings`` processed by ``process`` at ``root``: reused when it was built with the
    same ``config``, resumed when a build with it was interrupted, rebuilt from scratch otherwise.

    ``config`` must name everything the segments depend on (preprocessing, source, caps, a version).
    """
    root = Path(root)
    config = json.loads(json.dumps(config, default=str))
    if fresh_dir(root, config) and (root / "store.json").is_file():
        return SegmentStore(root)
    store = SegmentStore.build(root, recordings, process, subjects_per_shard=subjects_per_shard,
                               workers=workers, config=config, progress=progress)
    mark_done(root)
    return store


def open_stores(folder: Path) -> dict[str, SegmentStore]:
    """Every finished store directly under ``folder``, by folder name (sorted)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no segment stores here; run the data step first")
    found = {p.name: SegmentStore(p) for p in sorted(folder.iterdir()) if (p / "store.json").is_file()}
    if not found:
        raise FileNotFoundError(f"{folder}: no finished segment store")
    return found


def funnel_table(stores: Mapping[str, SegmentStore]) -> pd.DataFrame:
    """Stages x stores: how many records, spans, windows and kept segments, and the drop reasons."""
    cols = {}
    for name, store in stores.items():
        t = store.funnel.table().set_index("stage")
        cols[(name, "count")] = t["count"]
        cols[(name, "dropped (reasons)")] = [
            f"{d} ({r})" if d else "" for d, r in zip(t["dropped"], t["reasons"], strict=True)]
    return pd.DataFrame(cols)


def _shared_empty(shape: tuple[int, ...]) -> torch.Tensor:
    """An uninitialised float32 tensor in shared memory. ``torch.empty().share_memory_()`` would also
    copy the garbage into the new segment (3x slower); ``UntypedStorage._new_shared`` is what torch's
    own multiprocessing reductions use, with the public route as fallback."""
    new_shared = getattr(torch.UntypedStorage, "_new_shared", None)
    if new_shared is None:
        return torch.empty(shape, dtype=torch.float32).share_memory_()
    return torch.empty(0, dtype=torch.float32).set_(new_shared(4 * int(np.prod(shape))), 0, shape)


class SegmentDataset(torch.utils.data.Dataset):
    """Torch view of one store or of several: ``ds[i]`` -> ``{group: (C, T) tensor, "index": i, column:
    value}``.

    ``ds[[i, j, ...]]`` returns a whole batch ``{group: (B, C, T)}`` read with one batched memmap read per
    store, in the order asked; :meth:`loader` builds a DataLoader that uses it (a
    :class:`~torch.utils.data.BatchSampler` feeding index lists, ``batch_size=None``), the fast way to stream
    a store. Several stores (AnyPPG: one per pretraining source) appear as one dataset, store after store.

    ``ds[PairedBatch(positions, partners)]`` (:class:`~physiofm.sampler.PairedBatches`) is the batch of
    ``positions`` plus ``<group>_pair`` (B, C, T), the partners' segments row for row, and ``subject`` (B,)
    int64, the positions' codes of :meth:`subject_codes`.

    Args:
        store: a :class:`SegmentStore` or its directory, or a mapping name -> store.
        indices: the store rows this dataset exposes (e.g. one split); all rows when None. With several
            stores, a mapping name -> rows (a store without rows is left out).
        groups: channel groups to read (all of the first store's when None).
        columns: numeric index columns returned as tensors (e.g. labels), string columns as lists.
    """

    def __init__(self, store: SegmentStore | str | Path | Mapping[str, SegmentStore],
                 indices: Sequence[int] | np.ndarray | Mapping[str, np.ndarray] | None = None,
                 groups: Sequence[str] | None = None, columns: Sequence[str] = ()) -> None:
        stores = dict(store) if isinstance(store, Mapping) else {"": _open(store)}
        if not isinstance(indices, Mapping):
            indices = {name: indices for name in stores}
        rows = {n: np.arange(len(s)) if indices.get(n) is None else np.asarray(indices[n], dtype=np.int64)
                for n, s in stores.items() if n in indices}
        self.names = [n for n in stores if n in rows and (len(rows[n]) or len(stores) == 1)]
        self.stores = [stores[n] for n in self.names]
        self.rows = [rows[n] for n in self.names]
        if not self.stores:
            raise ValueError(f"SegmentDataset: no rows in any of the stores {sorted(stores)}")
        self.store, self.indices = self.stores[0], self.rows[0]  # the single-store view
        self.offsets = np.cumsum([0] + [len(r) for r in self.rows])
        self.groups = list(self.store.groups) if groups is None else list(groups)
        for s in self.stores:
            missing = [c for c in columns if c not in s.index.columns]
            if missing:
                raise KeyError(f"{s.root}: index has no column(s) {missing}")
        self.columns = {c: np.concatenate([s.index[c].to_numpy()[r] for s, r in zip(self.stores, self.rows)])
                        for c in columns}

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def subject_codes(self, column: str = "subject_id") -> np.ndarray:
        """(N,) int64 code of every position's subject; subjects of different stores never share a code."""
        keys = np.concatenate([np.char.add(f"{i}/", s.index[column].astype(str).to_numpy()[r].astype(str))
                               for i, (s, r) in enumerate(zip(self.stores, self.rows))])
        return np.unique(keys, return_inverse=True)[1].astype(np.int64).reshape(-1)

    def source_of(self, positions: np.ndarray) -> np.ndarray:
        """The store name of each dataset position."""
        return np.asarray(self.names)[np.searchsorted(self.offsets, positions, side="right") - 1]

    def _read(self, pos: np.ndarray, out: dict[str, np.ndarray]) -> None:
        """Rows at dataset positions ``pos`` into ``out`` (each store read forwards, then put in place)."""
        if len(self.stores) == 1:
            self.store.read(self.indices[pos], self.groups, out=out)
            return
        part = np.searchsorted(self.offsets, pos, side="right") - 1
        for k in np.unique(part):
            sel = np.flatnonzero(part == k)
            data = self.stores[k].read(self.rows[k][pos[sel] - self.offsets[k]], self.groups)
            for g in self.groups:
                out[g][sel] = data[g]

    def __getitem__(self, i: int | Sequence[int] | np.ndarray | PairedBatch) -> dict[str, Any]:
        if isinstance(i, PairedBatch):
            item = self[i.positions]
            partners = self[i.partners]
            item.update({g + PAIR_SUFFIX: partners[g] for g in self.groups})
            if not hasattr(self, "_subjects"):
                self._subjects = self.subject_codes()
            item[SUBJECT_KEY] = torch.from_numpy(self._subjects[np.asarray(i.positions, dtype=np.int64)])
            return item
        batched = not np.isscalar(i)
        pos = np.atleast_1d(np.asarray(i, dtype=np.int64))
        shapes = {g: (len(pos), *self.store.groups[g]["shape"]) for g in self.groups}
        if batched and torch.utils.data.get_worker_info() is not None:
            # In a DataLoader worker, read straight into shared memory: the batch then crosses to the
            # main process without the copy torch would otherwise make.
            tensors = {g: _shared_empty(s) for g, s in shapes.items()}
        else:
            tensors = {g: torch.from_numpy(np.empty(s, np.float32)) for g, s in shapes.items()}
        self._read(pos, {g: t.numpy() for g, t in tensors.items()})
        item: dict[str, Any] = {g: t if batched else t[0] for g, t in tensors.items()}
        rows = self.indices[pos] if len(self.stores) == 1 else pos
        item["index"] = torch.from_numpy(rows) if batched else int(rows[0])
        for c, values in self.columns.items():
            v = values[pos]
            if np.issubdtype(v.dtype, np.number) or v.dtype == bool:
                item[c] = torch.from_numpy(np.ascontiguousarray(v)) if batched else v[0].item()
            else:
                item[c] = v.tolist() if batched else v[0]
        return item

    def loader(self, batch_size: int, sampler: torch.utils.data.Sampler | None = None, shuffle: bool = False,
               drop_last: bool = False, num_workers: int = 0, seed: int = 0,
               **kwargs) -> torch.utils.data.DataLoader:
        """DataLoader yielding batch dicts ``{group: (B, C, T)}`` with one batched read per batch.

        ``sampler`` (e.g. :class:`~physiofm.sampler.CycleSampler`) yields dataset positions; they are
        grouped into batches of ``batch_size``, each sorted so the memory maps are read forwards.
        """
        if sampler is None:
            gen = torch.Generator().manual_seed(seed)
            sampler = (torch.utils.data.RandomSampler(self, generator=gen) if shuffle
                       else torch.utils.data.SequentialSampler(self))
        batches = _SortedBatches(torch.utils.data.BatchSampler(sampler, batch_size, drop_last))
        return torch.utils.data.DataLoader(self, sampler=batches, batch_size=None, num_workers=num_workers,
                                           persistent_workers=num_workers > 0, **kwargs)


def window_seconds(store: SegmentStore) -> float:
    """Length (s) of one stored segment: samples / rate of its first group."""
    spec = next(iter(store.groups.values()))
    return float(spec["shape"][-1]) / float(spec["fs"])


def adjacent_rows(index: pd.DataFrame, rows: np.ndarray, window_s: float,
                  tolerance_s: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """The rows among ``rows`` whose record has the next window in ``rows`` too, and that window's row.

    The next window starts ``window_s`` after the row's own start (``offset_s``) in the same record (windows
    tile a valid span back to back, :mod:`physiofm.segments`); a row whose successor is missing (the end of
    a span, or a successor left out of ``rows``) is not an anchor. Returns ``(anchors, successors)``, both
    (N,) store positions, in the order of ``rows``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    sub = index.iloc[rows]
    record = sub["record_id"].astype(str).to_numpy()
    offset = sub["offset_s"].to_numpy(float)
    order = np.lexsort((offset, record))
    rec_o, off_o, row_o = record[order], offset[order], rows[order]
    has_next = (rec_o[:-1] == rec_o[1:]) & (np.abs(off_o[1:] - off_o[:-1] - window_s) <= tolerance_s)
    anchors, successors = row_o[:-1][has_next], row_o[1:][has_next]
    keep = np.argsort(pd.Index(rows).get_indexer(anchors), kind="stable")
    return anchors[keep], successors[keep]


class PairedDataset(torch.utils.data.Dataset):
    """Two aligned datasets as one: ``ds[i]`` holds the items of ``first`` and, under ``prefix + key``, the
    channel groups of ``second`` at the same position (e.g. each window and the next window of its record,
    :func:`adjacent_rows`). Batched indexing (a list of positions) reads both in one go each."""

    def __init__(self, first: SegmentDataset, second: SegmentDataset, prefix: str = "next:") -> None:
        if len(first) != len(second):
            raise ValueError(f"PairedDataset: {len(first)} and {len(second)} rows; the two must align")
        self.first, self.second, self.prefix = first, second, prefix
        self.groups = first.groups

    def __len__(self) -> int:
        return len(self.first)

    def __getitem__(self, i):
        item = self.first[i]
        other = self.second[i]
        item.update({self.prefix + g: other[g] for g in self.second.groups})
        return item


class _SortedBatches(torch.utils.data.Sampler[list[int]]):
    """Batches of a batch sampler with each batch's positions sorted: the same batches, read forwards
    through the memory maps (order within a batch carries no meaning for training)."""

    def __init__(self, batches: torch.utils.data.BatchSampler) -> None:
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        for b in self.batches:
            yield sorted(b)
