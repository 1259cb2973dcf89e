"""Checkpoints written atomically, random-number-generator states, and content hashes.

A checkpoint is one ``torch.save`` file. It is written to a temporary file in the same folder, flushed to disk
and moved over the old one with ``os.replace``, so a run killed at any instant leaves either the previous or
the new checkpoint, never a truncated one.

A checkpoint holds only tensors, numbers, strings, ``None`` and dicts / lists / tuples of them (RNG states
included: see :func:`rng_state`), so it is read with ``torch.load(weights_only=True)`` and loading one never
runs code from the file. :func:`save_checkpoint` refuses anything else, naming the entry, and
:func:`load_checkpoint` refuses a file whose pickle names any other Python object.
"""

from __future__ import annotations

import hashlib
import pickle
import random
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from physiofm.io import atomic_write_bytes

# What torch.load(weights_only=True) rebuilds without naming a Python object; exact types, because a NumPy
# float64 is a float subclass yet pickles as numpy.float64, which that loader refuses.
_PLAIN_LEAVES = (type(None), bool, int, float, complex, str, bytes, torch.dtype, torch.device, torch.Size)


def _check_plain(value: Any, where: str) -> None:
    """Raise TypeError naming the first entry under ``where`` that weights-only loading would refuse."""
    if isinstance(value, torch.Tensor) or type(value) in _PLAIN_LEAVES:
        return
    if type(value) in (dict, OrderedDict):
        for k, v in value.items():
            if type(k) not in _PLAIN_LEAVES:
                raise TypeError(f"{where}: key {k!r} is a {type(k).__module__}.{type(k).__qualname__}")
            _check_plain(v, f"{where}[{k!r}]")
        return
    if type(value) in (list, tuple):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}[{i}]")
        return
    raise TypeError(
        f"{where} is a {type(value).__module__}.{type(value).__qualname__}; a checkpoint holds only tensors, "
        "numbers, strings, None and dicts/lists/tuples of them (convert it, e.g. an ndarray with .tolist())"
    )


def save_checkpoint(path: Path, state: Mapping[str, Any]) -> Path:
    """Write ``state`` (tensors, state dicts, plain Python values) to ``path`` atomically.

    Anything :func:`load_checkpoint` would refuse (a NumPy array or scalar, a dataclass, any other object) is
    a TypeError naming the file and the entry, raised before the file is touched.
    """
    state = dict(state)
    try:
        _check_plain(state, "state")
    except TypeError as err:
        raise TypeError(f"checkpoint {path} not written: {err}") from None
    atomic_write_bytes(Path(path), lambda f: torch.save(state, f))
    return Path(path)


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``torch.load(weights_only=True)``: tensors and plain Python values only.

    A file whose pickle names any other Python object (code that would run on unpickling, a NumPy array, a
    checkpoint written before physiofm stored its RNG states as plain values) is refused with a RuntimeError
    naming the file and those objects; nothing from it is executed. A missing or damaged file is an error too.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:  # the weights-only unpickler met a global it does not allow
        try:  # lists the globals the pickle names, without importing or calling any of them
            names = ", ".join(torch.serialization.get_unsafe_globals_in_checkpoint(path)) or "unknown"
        except Exception:
            names = "unknown"
        old_format = (
            " A last.pt written before physiofm stored its RNG states as plain values holds a NumPy array:"
            " start that run again (its best.pt still loads)." if "numpy" in names else ""
        )
        raise RuntimeError(
            f"checkpoint {path} refused: it holds Python objects other than tensors and plain values "
            f"({names}); unpickling them could run code from the file. Load only checkpoints written by "
            f"this project or weights from their provider.{old_format}"
        ) from err
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
    """Global RNG states of Python, NumPy, torch CPU and (when present) every CUDA device, as plain values.

    ``python``: ``random.getstate()`` (a tuple of ints and a float or None); ``numpy``: the legacy MT19937
    state as ``[name, key (624 ints), pos, has_gauss, cached_gaussian]``, its key array as a list so the state
    can go into a weights-only checkpoint; ``torch`` / ``cuda``: uint8 tensors.
    """
    name, key, pos, has_gauss, cached = np.random.get_state(legacy=True)
    state = {
        "python": random.getstate(),
        "numpy": [str(name), key.tolist(), int(pos), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore states captured by :func:`rng_state` (also after a checkpoint round trip, on any device)."""
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))  # setstate needs tuples, a list would be refused
    name, key, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(key, dtype=np.uint32), pos, has_gauss, cached))
    # generator states must be CPU byte tensors; a checkpoint loaded with map_location="cuda" moved them
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


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
