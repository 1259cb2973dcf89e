"""Checkpoints written atomically, random-number-generator states, and content hashes.

A checkpoint is one ``torch.save`` file. It is written to a temporary file in the same folder, flushed to disk
and moved over the old one with ``os.replace``, so a run killed at any instant leaves either the previous or
the new checkpoint, never a truncated one. Only load checkpoints this project wrote: full training states
hold Python objects (RNG states, sampler states) and are read with ``weights_only=False``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from physiofm.io import atomic_write_bytes


def save_checkpoint(path: Path, state: Mapping[str, Any]) -> Path:
    """Write ``state`` (tensors, state dicts, plain Python values) to ``path`` atomically."""
    atomic_write_bytes(Path(path), lambda f: torch.save(dict(state), f))
    return Path(path)


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; a missing or unreadable file is a clear error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location=map_location, weights_only=False)
    except Exception as err:  # a foreign or damaged file: say which one
        raise RuntimeError(f"checkpoint {path} could not be read: {err}") from err


def load_model_weights(path: Path, model: torch.nn.Module, strict: bool = True) -> torch.nn.Module:
    """Load the ``model`` entry of a trainer checkpoint (last or best) into ``model``; returns ``model``."""
    state = load_checkpoint(path)
    if "model" not in state:
        raise KeyError(f"checkpoint {path} has no 'model' entry (keys: {sorted(state)})")
    model.load_state_dict(state["model"], strict=strict)
    return model


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (all CUDA devices included)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    """The global RNG states of Python, NumPy, torch CPU and (when present) every CUDA device."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore states captured by :func:`rng_state`."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class fork_rng:  # noqa: N801 - used like torch.random.fork_rng, as a context manager
    """Run a block with all global generators seeded by ``seed`` and restore them afterwards.

    Validation runs inside it, so evaluating never changes the training run's random stream.
    """

    def __init__(self, seed: int | None = None):
        self.seed = seed

    def __enter__(self):
        self._saved = rng_state()
        if self.seed is not None:
            seed_everything(self.seed)
        return self

    def __exit__(self, *exc):
        set_rng_state(self._saved)
        return False


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def state_dict_sha256(state_dict: Mapping[str, Any]) -> str:
    """SHA-256 over a state dict's names, dtypes, shapes and values (order-independent over names)."""
    h = hashlib.sha256()
    for name in sorted(state_dict):
        value = state_dict[name]
        h.update(name.encode())
        if isinstance(value, torch.Tensor):
            t = value.detach().cpu().contiguous()
            h.update(f"{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        else:
            h.update(repr(value).encode())
    return h.hexdigest()
