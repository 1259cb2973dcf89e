"""Preflight of a run on real data: every dataset root the selected steps will read, checked up front.

A ``paper``-profile run reads real databases under ``--data-root`` for hours or days; a missing folder
should stop it before the first notebook, with every problem listed at once. The sources are found
generically: any mapping in a selected step's validated params (or the paper's ``shared`` section) with
``dataset`` and ``subdir`` fields is a dataset read by :func:`physiofm.datasets.load`, with its
``options``; one with ``kind: unavailable`` is listed as unavailable, never checked. So a new paper needs
no code here.

Each distinct ``(dataset, subdir, options)`` is checked once with :func:`physiofm.datasets.check` (folder,
named files, one record's channels and rates) and the outcome is one table::

    data root: /data
    dataset                              path               status       missing / problem    read by
    -------                              ----               ------       -----------------    -------
    MC-MED                               -                  unavailable  no loader in ...     anyppg/data
    mimic3_wave (require=[ecg_ii, ppg])  mimic3wdb-matched  ok           record p000020/...   anyppg/data
    vitaldb (require=[ecg_ii, ppg])      vitaldb            missing      vitaldb/ (folder)    anyppg/data
    preflight: 1 of 2 needed dataset root(s) failed (vitaldb; see the table); 1 source(s) marked ...

``python -m physiofm check --profile paper --data-root R [--only ...]`` prints it on its own; the runner
prints it and stops before any notebook when a needed dataset fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from tqdm.auto import tqdm

from physiofm.config import PaperParams, load_params, params_path
from physiofm.datasets import DatasetCheck, check
from physiofm.paths import repo_root


class PreflightError(ValueError):
    """A run cannot start: a needed dataset root fails its check, or no ``--data-root`` was given."""


@dataclass
class Source:
    """One dataset root the selected steps read (or a source the params mark unavailable).

    Attributes:
        dataset: registry name; for an unavailable source, the paper's name for it.
        subdir: folder under the data root (None when unavailable).
        options: loader options.
        unavailable: the params' reason when the source cannot be read here, else None.
        readers: ``paper/step (params key)`` of every place that reads it.
    """

    dataset: str
    subdir: str | None
    options: dict[str, Any] = field(default_factory=dict)
    unavailable: str | None = None
    readers: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if not self.options:
            return self.dataset
        opts = ", ".join(f"{k}={_short(v)}" for k, v in self.options.items())
        return f"{self.dataset} ({opts})"


def _short(v: Any) -> str:
    return "[" + ", ".join(map(str, v)) + "]" if isinstance(v, list | tuple) else str(v)


def _plain(x: Any) -> Any:
    return x.model_dump() if isinstance(x, BaseModel) else x


def sources_in(section: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    """``(params key, mapping)`` of every dataset source in a params section, found by shape.

    A mapping with ``dataset`` and ``subdir`` keys is a registry source; one with ``kind: unavailable``
    is an unavailable one. Sources are not searched inside (their ``options`` are the loader's).
    """
    x = _plain(section)
    if isinstance(x, Mapping):
        if ("dataset" in x and "subdir" in x) or x.get("kind") == "unavailable":
            return [(where, dict(x))]
        return [hit for k, v in x.items() for hit in sources_in(v, f"{where}.{k}")]
    if isinstance(x, list | tuple):
        return [hit for i, v in enumerate(x) for hit in sources_in(v, f"{where}[{i}]")]
    return []


def needed_sources(params: Mapping[str, PaperParams], steps: Iterable[str]) -> list[Source]:
    """The dataset sources read by ``steps`` (``paper/step`` keys), each distinct one once.

    Walks each selected step's section and the ``shared`` section of every paper with a selected step.
    Sources with the same dataset, folder and options are merged; their readers are listed together.
    """
    found: dict[str, Source] = {}
    seen_shared: set[str] = set()
    for key in steps:
        paper, _, step = key.partition("/")
        p = params[paper]
        hits = sources_in(p.step(step), f"steps.{step}")
        if paper not in seen_shared:
            seen_shared.add(paper)
            hits += sources_in(p.shared, "shared")
        for where, src in hits:
            reader = f"{key} ({where})"
            if src.get("kind") == "unavailable":
                name = str(src.get("paper_name") or src.get("name"))
                ident = f"unavailable:{name}"
                found.setdefault(ident, Source(name, None, unavailable=str(src.get("reason", ""))))
            else:
                options = dict(src.get("options") or {})
                ident = json.dumps([src["dataset"], src["subdir"], options], sort_keys=True, default=str)
                found.setdefault(ident, Source(str(src["dataset"]), str(src["subdir"]), options))
            if reader not in found[ident].readers:
                found[ident].readers.append(reader)
    return list(found.values())


@dataclass
class Row:
    """A source and the outcome of its check (None for an unavailable source)."""

    source: Source
    check: DatasetCheck | None

    @property
    def status(self) -> str:
        return "unavailable" if self.check is None else self.check.status


@dataclass
class Preflight:
    """The checks of one run: ``rows``, ``failed`` (needed and not ok), ``ok`` and :meth:`table`."""

    data_root: Path | None
    rows: list[Row]

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if r.status not in ("ok", "unavailable")]

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        needed = [r for r in self.rows if r.check is not None]
        unavailable = len(self.rows) - len(needed)
        text = (f"preflight: {len(self.failed)} of {len(needed)} needed dataset root(s) failed"
                if self.failed else f"preflight: all {len(needed)} needed dataset root(s) are ok")
        if self.failed:
            text += f" ({', '.join(dict.fromkeys(r.source.dataset for r in self.failed))}; see the table)"
        if unavailable:
            text += f"; {unavailable} source(s) marked unavailable in the params (not checked)"
        return text

    def table(self) -> str:
        """Plain-text table: dataset (options), path under the data root, status, what is missing, readers."""
        head = ("dataset", "path", "status", "missing / problem", "read by")
        body = [(r.source.label, r.source.subdir or "-", r.status, _problem(r), _readers(r.source))
                for r in self.rows]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head) - 1)]

        def line(row: tuple[str, ...]) -> str:
            return "  ".join([*(c.ljust(w) for c, w in zip(row, widths)), row[-1]]).rstrip()

        out = [f"data root: {self.data_root}", line(head), line(tuple("-" * len(h) for h in head))]
        out += [line(row) for row in body] or ["(the selected steps read no dataset)"]
        return "\n".join([*out, self.summary()])


def _readers(source: Source) -> str:
    return ", ".join(dict.fromkeys(r.split(" ")[0] for r in source.readers))


def _problem(row: Row) -> str:
    if row.check is None:
        return row.source.unavailable or ""
    c = row.check
    if c.status == "ok":
        where = "" if c.indexed in (None, c.path) else f" in {c.indexed.relative_to(c.path)}"
        return f"record {c.record} read ({c.records} indexed{where})"
    if c.status == "missing" and c.missing:
        base = str(c.path)
        items = [m[len(base):].lstrip("/") or "(folder)" if m.startswith(base) else m for m in c.missing]
        if items == ["(folder)"]:
            return f"{row.source.subdir}/ (folder)"
        return "; ".join(items)
    return f"{', '.join(c.missing) + ': ' if c.missing else ''}{c.message}"


def check_sources(sources: list[Source], data_root: str | Path | None, progress: bool = True) -> Preflight:
    """Check every source under ``data_root``; without a data root, needed sources raise PreflightError."""
    needed = [s for s in sources if s.unavailable is None]
    if needed and data_root is None:
        names = ", ".join(dict.fromkeys(s.dataset for s in needed))
        readers = ", ".join(dict.fromkeys(r.split(" ")[0] for s in needed for r in s.readers))
        raise PreflightError(f"--data-root is required: the selected steps ({readers}) read "
                             f"{len(needed)} dataset root(s) from it ({names})")
    root = Path(data_root).expanduser().resolve() if data_root is not None else None
    rows = []
    for s in tqdm(sources, desc="preflight", disable=not progress or len(sources) < 2, leave=False):
        rows.append(Row(s, None if s.unavailable is not None else check(s.dataset, root / s.subdir,
                                                                          **s.options)))
    return Preflight(root, rows)


def preflight(profile: str, data_root: str | Path | None, only: list[str] | None = None,
              root: Path | None = None, progress: bool = True) -> Preflight:
    """What ``python -m physiofm check`` prints: the steps ``only`` selects (all when None, with the steps
    they need, as the runner selects them), their params validated, every dataset root they read checked
    under ``data_root``."""
    from physiofm.runner import discover, select

    root = root or repo_root()
    papers = sorted({o.partition("/")[0] for o in only}) if only else None
    steps = select(discover(root, papers), only)
    params = {paper: load_params(params_path(profile, paper, root), paper)
              for paper in dict.fromkeys(s.paper for s in steps)}
    return check_sources(needed_sources(params, [s.key for s in steps]), data_root, progress)
