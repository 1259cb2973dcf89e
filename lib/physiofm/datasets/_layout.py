"""What a dataset root must hold, declared next to each loader, and the check that a root holds it.

Every loader module declares ``LAYOUT``: the files its docstring names (glob patterns under the root, with
the docstring's example path for each), the channels one loaded record must carry and their rates. A
loader that reads two published layouts (CPSC2018) declares a tuple of alternatives.

:func:`check` tries a root the way a run would: the folder exists, the required files are there, the
loader itself indexes the root, and one record reads with the declared channels and rates. It never
raises for a problem of the data; it reports it in a :class:`DatasetCheck`.
"""

from __future__ import annotations

import inspect
import re
import warnings
from dataclasses import dataclass, field, replace
from importlib import import_module
from pathlib import Path
from typing import Any

from ._common import DatasetWarning, canonical_channel

#: check statuses: ``ok``; ``missing`` (folder or a required file absent); ``unreadable`` (the loader or
#: the record read fails); ``wrong`` (reads, but no record, other channels or rates, or a bad option)
STATUSES = ("ok", "missing", "unreadable", "wrong")

#: the twelve standard leads, as CinC / PTB-XL / MIMIC-IV-ECG headers name them (case is not compared)
LEADS_12 = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
#: rates an ICU monitor's ECG / PPG channel may have for the preprocessing to use it (ECG band-pass up to
#: 40 Hz, PPG up to 8 Hz); MIMIC-III is 125 Hz, MIMIC-IV ~250 / ~125 Hz, VitalDB 500 Hz, VTaC 250 Hz
ICU_RATES = {"ecg_ii": (100.0, 1000.0), "ecg_v": (100.0, 1000.0), "ppg": (25.0, 1000.0)}

# sub-roots tried in turn when a layout has a ``sample_root``, until one yields a record
_MAX_SAMPLE_ROOTS = 20
_FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class FileSpec:
    """One file (or kind of file) of a layout.

    Attributes:
        pattern: glob relative to the root (``**`` = any depth); ``{option}`` is replaced by the loader
            option's value, one pattern per item when the option is a list.
        example: the path the loader docstring shows for it (default: ``pattern`` itself).
        required: False for files the docstring names that the loader can do without, and for signal
            files a header names (read in whatever WFDB format the header gives; the record read checks them).
    """

    pattern: str
    example: str = ""
    required: bool = True

    def __post_init__(self) -> None:
        if not self.example:
            object.__setattr__(self, "example", self.pattern)


def wfdb_files(pattern: str, example: str = "", required: bool = True) -> tuple[FileSpec, FileSpec]:
    """A WFDB record's header and signal file: ``pattern`` and ``example`` name the record without
    its ``.hea`` / ``.dat`` extension."""
    return tuple(FileSpec(pattern + ext, example and example + ext, required) for ext in (".hea", ".dat"))


@dataclass(frozen=True)
class Layout:
    """What a dataset root must hold and what one record of it must carry.

    Attributes:
        files: the docstring's files, as :class:`FileSpec`.
        channels: channel names one record must carry (case is not compared; a header name that maps to
            a canonical ``ecg_ii``/``ecg_v``/``ppg`` counts as that name); ``"{option}"`` expands a list
            option.
        rates: channel -> rate in Hz, a ``(low, high)`` range in Hz, or ``"{option}"``; key ``"*"`` applies
            to every channel of ``channels``.
        ignored: patterns of files the docstring names that the loader never reads.
        sample_root: glob of sub-folders the loader can read on their own (one subject of a 2-TB
            database); the record check loads these in turn instead of indexing the whole root.
        name: the alternative's name when a loader reads several layouts.
    """

    files: tuple[FileSpec, ...]
    channels: tuple[str, ...] = ()
    rates: dict[str, Any] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()
    sample_root: str | None = None
    name: str = ""

    @property
    def required(self) -> tuple[FileSpec, ...]:
        return tuple(f for f in self.files if f.required)

    def resolve(self, options: dict[str, Any]) -> Layout:
        """This layout with ``{option}`` fields filled from the loader's bound options."""
        files = tuple(replace(f, pattern=p, example=p if f.example == f.pattern else f.example)
                      for f in self.files for p in _expand(f.pattern, options))
        channels = tuple(c for ch in self.channels for c in _expand(ch, options))
        rates = {}
        for ch, rate in self.rates.items():
            rates[ch] = float(_expand(rate, options)[0]) if isinstance(rate, str) else rate
        return replace(self, files=files, channels=channels, rates=rates)


def _expand(template: str, options: dict[str, Any]) -> list[str]:
    names = _FIELD.findall(template)
    if not names:
        return [template]
    (name,) = names  # one placeholder per pattern keeps expansion unambiguous
    value = options[name]
    values = list(value) if isinstance(value, list | tuple) else [value]
    return [template.replace("{" + name + "}", str(v)) for v in values]


@dataclass
class DatasetCheck:
    """The outcome of :func:`check` for one dataset root.

    Attributes:
        dataset: registry name. path: the root checked. status: one of :data:`STATUSES`.
        missing: what is absent (folder, file patterns, channels). message: the problem in words.
        records: records the loader indexed in ``indexed`` (the root, or the first sub-folder of the
            layout's ``sample_root`` that holds a record). record: id of the record read.
        warnings: the loader's :class:`DatasetWarning` messages.
    """

    dataset: str
    path: Path
    status: str = "ok"
    missing: list[str] = field(default_factory=list)
    message: str = ""
    records: int | None = None
    indexed: Path | None = None
    record: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def layouts_of(name: str) -> tuple[Layout, ...]:
    """The layout(s) the loader of registry dataset ``name`` declares."""
    from . import _REGISTRY

    if name not in _REGISTRY:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(_REGISTRY)}")
    decl = getattr(import_module(f"physiofm.datasets.{_REGISTRY[name]}"), "LAYOUT", None)
    if decl is None:
        raise AttributeError(f"physiofm.datasets.{_REGISTRY[name]} declares no LAYOUT")
    return decl if isinstance(decl, tuple) else (decl,)


def bound_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """The loader's options with defaults filled in; an unknown option raises ``TypeError``."""
    from . import _REGISTRY

    loader = import_module(f"physiofm.datasets.{_REGISTRY[name]}").load
    bound = inspect.signature(loader).bind(Path("."), **options)
    bound.apply_defaults()
    return {k: v for k, v in list(bound.arguments.items())[1:]}


def first_match(root: Path, pattern: str) -> Path | None:
    """The first path under ``root`` that ``pattern`` matches (the glob stops there)."""
    return next(iter(root.glob(pattern)), None)


def _has_channel(have: list[str], want: str) -> bool:
    names = {h.lower() for h in have} | {(canonical_channel(h) or "").lower() for h in have}
    return want.lower() in names


def _rate_ok(rate: float, expected: Any) -> bool:
    if isinstance(expected, tuple):
        return expected[0] <= rate <= expected[1]
    return abs(rate - float(expected)) < 1e-6 * max(1.0, float(expected))


def _describe(expected: Any) -> str:
    return f"{expected[0]:g}-{expected[1]:g} Hz" if isinstance(expected, tuple) else f"{float(expected):g} Hz"


def check(name: str, root: str | Path, **options: Any) -> DatasetCheck:
    """Check that ``root`` holds dataset ``name`` as its loader needs it, with these loader ``options``.

    In order: the folder exists; every required file of the declared layout is there (all missing ones
    are listed); the loader indexes the root (or its first sample sub-roots) and finds a record; that
    record reads and carries the declared channels at the declared rates. Stops at the first failing
    stage. Reads one record, so a check of a large database costs seconds, not hours.
    """
    root = Path(root).expanduser()
    result = DatasetCheck(name, root)
    layouts = layouts_of(name)
    if not root.is_dir():
        what = "is a file, not a folder" if root.exists() else "does not exist"
        return replace(result, status="missing", missing=[f"{root}/"],
                       message=f"dataset folder for {name!r} {what}")
    try:
        bound = bound_options(name, options)
    except TypeError as exc:
        return replace(result, status="wrong", message=f"loader options {options}: {exc}")
    resolved = [lay.resolve(bound) for lay in layouts]
    try:
        absent = [[f.pattern for f in lay.required if first_match(root, f.pattern) is None]
                  for lay in resolved]
    except OSError as exc:  # an unreadable folder inside the root
        return replace(result, status="unreadable", message=f"{type(exc).__name__}: {exc}")
    chosen = next((lay for lay, miss in zip(resolved, absent) if not miss), None)
    if chosen is None:
        if len(resolved) == 1:
            missing = absent[0]
        else:
            missing = [f"{lay.name}: {', '.join(miss)}" for lay, miss in zip(resolved, absent)]
        return replace(result, status="missing", missing=missing,
                       message=f"file(s) of the {name} layout not found under {root}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DatasetWarning)
        outcome = _read_one(name, root, chosen, options, result)
    outcome.warnings = [str(w.message) for w in caught if issubclass(w.category, DatasetWarning)]
    if outcome.records == 0 and outcome.warnings:
        outcome.message += f"; the loader warned: {outcome.warnings[-1]}"
    return outcome


def _read_one(name: str, root: Path, layout: Layout, options: dict[str, Any],
              result: DatasetCheck) -> DatasetCheck:
    from . import load

    roots = [root]
    if layout.sample_root:
        subs = sorted(p for p in root.glob(layout.sample_root) if p.is_dir())
        roots = subs[:_MAX_SAMPLE_ROOTS] or [root]
    records, absent = None, None
    for sub in roots:
        try:
            records = load(name, sub, **options)
        except FileNotFoundError as exc:  # in a sub-folder: try the next one
            absent = exc
            continue
        except Exception as exc:  # noqa: BLE001 - any loader failure is this root's problem
            return replace(result, status="unreadable", message=f"{type(exc).__name__}: {exc}")
        if len(records):
            result = replace(result, indexed=sub)
            break
    if records is None and absent is not None:
        return replace(result, status="missing", missing=[str(absent)], message=str(absent))
    where = str(root)
    if layout.sample_root:
        where = f"{len(roots)} sub-folder(s) {layout.sample_root!r} of {root}"
    if records is None or not len(records):
        return replace(result, status="wrong", records=0,
                       message=f"the loader finds no record in {where} with options {options or {}}")
    result = replace(result, records=len(records))
    try:
        rec = records[0]
    except Exception as exc:  # noqa: BLE001
        return replace(result, status="unreadable", record=str(records.records["record_id"].iloc[0]),
                       message=f"{type(exc).__name__}: {exc}")
    result = replace(result, record=str(rec.record_id))
    lacking = [c for c in layout.channels if not _has_channel(rec.channels, c)]
    if lacking:
        return replace(result, status="wrong", missing=lacking,
                       message=f"record {rec.record_id} lacks channel(s) {lacking} (has {rec.channels})")
    bad = []
    for ch in layout.channels:
        expected = layout.rates.get(ch, layout.rates.get("*"))
        hit = next((c for c in rec.channels if _has_channel([c], ch)), None)
        if expected is not None and hit is not None and not _rate_ok(rec.fs[hit], expected):
            bad.append(f"{hit} at {rec.fs[hit]:g} Hz (expected {_describe(expected)})")
    if bad:
        return replace(result, status="wrong", message=f"record {rec.record_id}: {'; '.join(bad)}")
    return result


def doc_paths(module_doc: str) -> list[str]:
    """The ``root/...`` file paths a loader docstring names (``x.hea/.dat`` gives both files)."""
    out = []
    for m in re.finditer(r"root/(\S+)", module_doc):
        path = m.group(1).strip("`),;:")
        parts = path.split("/.")
        if "." not in parts[0].rsplit("/", 1)[-1]:
            continue  # a folder name, or a path with a space cut at the space
        out.append(parts[0])
        stem = parts[0].rsplit(".", 1)[0]
        out += [f"{stem}.{suffix}" for suffix in parts[1:]]
    return list(dict.fromkeys(out))

