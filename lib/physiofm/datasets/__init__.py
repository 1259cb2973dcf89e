"""Loaders for every public dataset the five papers use, behind one registry.

``load(name, root, **options)`` reads a local copy of dataset ``name`` exactly as its provider
publishes it and returns a :class:`~physiofm.recording.RecordingSet`: one row per record in
``.records`` (``record_id``, ``subject_id`` and one column per label / attribute), signals read lazily
on indexing. ``len()`` is the number of records. Each loader module's docstring gives the citation,
the download page, the expected directory layout, licence notes and its options.

Every set carries ``info["tasks"]``: task name -> ``{"type": "binary"|"multiclass"|"multilabel"|
"regression", "level": "record"|"annotation", "columns": [...], "papers": [...]}`` describing where
the papers' targets live (record-level columns of ``.records`` / ``Recording.labels``, or columns of
``Recording.annotations`` for time-varying targets).

Co-recorded ICU/OR loaders name channels ``ecg_ii``, ``ecg_v`` and ``ppg`` (SyneCo's three inputs) by
default; 12-lead and sleep loaders keep the header's channel names. ECG is always in mV.

Each loader module also declares ``LAYOUT`` (:class:`Layout`): the files its docstring names, the channels
one record carries and their rates. ``check(name, root, **options)`` tries a root against it with the
loader itself and returns a :class:`DatasetCheck` (status ``ok`` / ``missing`` / ``unreadable`` /
``wrong`` and what is missing), the building block of :mod:`physiofm.preflight`.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

from physiofm.recording import RecordingSet

from ._common import DatasetError, DatasetWarning
from ._layout import DatasetCheck, FileSpec, Layout, check

__all__ = ["DatasetCheck", "DatasetError", "DatasetWarning", "FileSpec", "Layout", "check", "load", "names"]

# registry name -> module in this package (each module defines ``load(root, **options)``)
_REGISTRY: dict[str, str] = {
    "ptbxl": "ptbxl",
    "chapman": "chapman",
    "georgia": "georgia",
    "cpsc2018": "cpsc2018",
    "csn": "csn",
    "mimic4_ecg": "mimic4_ecg",
    "code15": "code15",
    "mimic3_wave": "mimic3_wave",
    "mimic4_wave": "mimic4_wave",
    "vitaldb": "vitaldb",
    "vtac": "vtac",
    "dalia": "dalia",
    "ppgbp": "ppgbp",
    "wesad": "wesad",
    "ucibp": "ucibp",
    "butppg": "butppg",
    "gyroacc": "gyroacc",
    "deepbeat": "deepbeat",
    "physionet2018": "physionet2018",
}


def names() -> list[str]:
    """Registry names of every dataset loader."""
    return list(_REGISTRY)


def load(name: str, root: str | Path, **options: Any) -> RecordingSet:
    """Read dataset ``name`` from its local copy at ``root``; see the loader module for ``options``."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(_REGISTRY)}")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: dataset folder for {name!r} does not exist")
    module = import_module(f"physiofm.datasets.{_REGISTRY[name]}")
    return module.load(root, **options)
