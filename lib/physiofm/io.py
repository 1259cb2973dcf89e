"""Atomic file I/O: every result, table, cache and state file of the study is written through here.

A write goes to a temporary file in the destination folder, is flushed to disk and then moved over the
target with ``os.replace``, so a process killed at any instant leaves the old file or the new one, never a
truncated one. Folders of several files (an embedding cache entry) are filled under a temporary name and
renamed as a whole.

A *work folder* (:func:`fresh_dir` / :func:`mark_done`) holds the output of one piece of work together with
the config it was made with (``state.json``): asking for the same config again finds it (finished or half
done), asking with another config wipes it first. Stores, pretraining runs and cached proofs use it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

STATE = "state.json"


def atomic_write_bytes(path: Path, write: Callable[[IO[bytes]], Any]) -> Path:
    """Call ``write(file_object)`` on a temporary file beside ``path``, fsync it, then ``os.replace`` it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    return atomic_write_bytes(path, lambda f: f.write(data))


def write_text(path: Path, text: str) -> Path:
    return write_bytes(path, text.encode())


def write_json(path: Path, obj: Any, indent: int | None = 1) -> Path:
    """``obj`` as JSON (values JSON cannot hold are written with ``str``)."""
    return write_text(path, json.dumps(obj, indent=indent, default=str))


def read_json(path: Path) -> Any:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    return json.loads(path.read_text())


def write_parquet(df: pd.DataFrame, path: Path) -> Path:
    """A DataFrame as parquet, without its index."""
    return atomic_write_bytes(path, lambda f: df.to_parquet(f, index=False))


def write_csv(df: pd.DataFrame, path: Path, index: bool = False) -> Path:
    return write_bytes(path, df.to_csv(index=index).encode())


def write_npy(path: Path, array: np.ndarray) -> Path:
    return atomic_write_bytes(path, lambda f: np.save(f, array))


def write_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> Path:
    """Named arrays as one ``.npz`` (names may hold ``:``, kept as ``__`` inside the file)."""
    named = {k.replace(":", "__"): v for k, v in arrays.items()}
    return atomic_write_bytes(path, lambda f: np.savez(f, **named))


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays :func:`write_arrays` wrote, by their original names."""
    with np.load(path) as z:
        return {k.replace("__", ":"): z[k] for k in z.files}


def write_dir(path: Path, fill: Callable[[Path], Any]) -> Path:
    """Create folder ``path`` atomically: ``fill(tmp_folder)`` writes its files, then the folder is renamed.

    If another process created ``path`` first, its folder is kept and ours is dropped.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        fill(tmp)
        os.replace(tmp, path)
    except OSError:
        if not path.is_dir():
            raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return path


def config_key(config: Any) -> str:
    """The canonical JSON text of a config (sorted keys; non-JSON values as ``str``)."""
    return json.dumps(config, sort_keys=True, default=str)


def fresh_dir(path: Path, config: Any) -> bool:
    """Make work folder ``path`` hold work for ``config``; wipe it when its ``state.json`` names another.

    Returns True when ``path`` already holds a finished result for this config (see :func:`mark_done`), so
    the caller may skip the work; False when the work is to be done (from scratch or resumed).
    """
    path = Path(path)
    state = path / STATE
    key = config_key(config)
    if state.is_file():
        old = json.loads(state.read_text())
        if old.get("config") == key:
            return bool(old.get("done"))
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    write_json(state, {"config": key, "done": False}, indent=None)
    return False


def is_done(path: Path, config: Any) -> bool:
    """Whether ``path`` holds a finished result for ``config`` (read only; see :func:`fresh_dir`)."""
    state = Path(path) / STATE
    if not state.is_file():
        return False
    old = json.loads(state.read_text())
    return old.get("config") == config_key(config) and bool(old.get("done"))


def mark_done(path: Path) -> None:
    """Record in ``path/state.json`` that the work of its config is finished."""
    state = Path(path) / STATE
    write_json(state, {**read_json(state), "done": True}, indent=None)


def cached_frames(folder: Path, config: Any, compute: Callable[[], Mapping[str, pd.DataFrame]]
                  ) -> dict[str, pd.DataFrame]:
    """Tables that are slow to make, kept as ``<folder>/<name>.csv`` for ``config``: read back when the
    folder holds them for the same config, else made by ``compute()`` and written (an index is kept unless
    it is the default range)."""
    folder = Path(folder)
    if fresh_dir(folder, {"cached_frames": 1, "config": config}):  # the layout's version, then the config
        indexed = read_json(folder / "tables.json")
        return {n: pd.read_csv(folder / f"{n}.csv", index_col=0 if i else None) for n, i in indexed.items()}
    tables = dict(compute())
    indexed = {n: not isinstance(df.index, pd.RangeIndex) for n, df in tables.items()}
    for name, df in tables.items():
        write_csv(df, folder / f"{name}.csv", index=indexed[name])
    write_json(folder / "tables.json", indexed)
    mark_done(folder)
    return tables
