"""Run the study: execute each paper's notebooks in order with papermill, skipping up-to-date steps.

A step is ``notebooks/<paper>/NN-<step>.ipynb``. It declares the earlier steps it needs in its notebook
metadata (``{"physiofm": {"needs": ["data"]}}``). A step is up to date when its notebook source, its params
(shared section + its own) and the artifacts of the steps it needs hash the same as at its last successful
run; the hashes live in ``build/<profile>/manifest.json``. A failed step blocks only the steps that need it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from physiofm.config import PAPERS, STUDY_PARTS, ParamsError, load_params, params_digest, params_path
from physiofm.paths import PROFILES, artifacts_dir, build_dir, repo_root

STEP_FILE = re.compile(r"^(\d{2})-([a-z0-9_]+)\.ipynb$")


@dataclass
class Step:
    paper: str
    name: str
    path: Path
    needs: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.paper}/{self.name}"


@dataclass
class Outcome:
    key: str
    status: str  # ran | skipped | failed | blocked
    seconds: float = 0.0
    message: str = ""


def discover(root: Path, papers: list[str] | None = None) -> list[Step]:
    """All steps under ``root/notebooks``, papers in the book's order, steps in file order."""
    nb_root = root / "notebooks"
    found = sorted(p.name for p in nb_root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    known = [*STUDY_PARTS, *PAPERS]
    order = [p for p in known if p in found] + [p for p in found if p not in known]
    steps: list[Step] = []
    for paper in order:
        if papers is not None and paper not in papers:
            continue
        names: list[str] = []
        for f in sorted((nb_root / paper).glob("*.ipynb")):
            m = STEP_FILE.match(f.name)
            if not m:
                raise ValueError(
                    f"{f}: notebook names must look like NN-<step>.ipynb (lower case, digits, _)"
                )
            nb = nbformat.read(f, as_version=4)
            needs = list(nb.metadata.get("physiofm", {}).get("needs", []))
            unknown = [n for n in needs if n not in names]
            if unknown:
                raise ValueError(f"{f}: needs {unknown}, which are not earlier steps of {paper} ({names})")
            names.append(m.group(2))
            steps.append(Step(paper, m.group(2), f, needs))
    return steps


def select(steps: list[Step], only: list[str] | None) -> list[Step]:
    """The steps named by ``only`` (``paper`` or ``paper/step``) plus everything they need, in order."""
    if not only:
        return steps
    by_key = {s.key: s for s in steps}
    wanted: set[str] = set()
    for spec in only:
        paper, _, name = spec.partition("/")
        hits = [s for s in steps if s.paper == paper and (not name or s.name == name)]
        if not hits:
            raise ValueError(f"--only {spec}: no such paper or step; known: {sorted(by_key)}")
        wanted.update(s.key for s in hits)
    frontier = list(wanted)
    while frontier:
        s = by_key[frontier.pop()]
        for n in s.needs:
            k = f"{s.paper}/{n}"
            if k not in wanted:
                wanted.add(k)
                frontier.append(k)
    return [s for s in steps if s.key in wanted]


def notebook_digest(path: Path) -> str:
    """Hash of what a notebook does: cell types, sources and tags (outputs and ids ignored)."""
    nb = nbformat.read(path, as_version=4)
    cells = [(c.cell_type, c.source, sorted(c.get("metadata", {}).get("tags", []))) for c in nb.cells]
    payload = {"cells": cells, "physiofm": nb.metadata.get("physiofm", {})}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _stat_signature(folder: Path) -> list[tuple[str, int, int]]:
    return sorted(
        (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    )


def folder_digest(folder: Path) -> str:
    """Content hash of every file under ``folder`` (relative path + bytes)."""
    h = hashlib.sha256()
    if not folder.is_dir():
        return "missing"
    for p in sorted(q for q in folder.rglob("*") if q.is_file()):
        h.update(str(p.relative_to(folder)).encode())
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


class Manifest:
    """``build/<profile>/manifest.json``: the input hash of its last success and its outputs' hash."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict] = json.loads(path.read_text()) if path.is_file() else {}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.entries, indent=1, sort_keys=True))
        os.replace(tmp, self.path)

    def artifacts_hash(self, key: str, folder: Path) -> str:
        """The recorded content hash of a step's artifacts, re-hashed only when the files changed on disk."""
        entry = self.entries.get(key, {})
        sig = _stat_signature(folder) if folder.is_dir() else None
        if sig is not None and entry.get("artifacts_stat") == json.loads(json.dumps(sig)):
            return entry["artifacts_hash"]
        return folder_digest(folder)


def _input_hash(step: Step, params_hash: str, upstream: dict[str, str]) -> str:
    payload = {"notebook": notebook_digest(step.path), "params": params_hash, "upstream": upstream}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _failure_message(exc: BaseException) -> str:
    # papermill's execution error carries the failing cell's exception name, value and traceback.
    ename, evalue = getattr(exc, "ename", type(exc).__name__), getattr(exc, "evalue", str(exc))
    tb = getattr(exc, "traceback", None)
    tail = "\n".join(tb[-6:]) if tb else "".join(traceback.format_exception_only(exc))
    ansi = re.compile(r"\x1b\[[0-9;]*m")
    return ansi.sub("", f"{ename}: {evalue}\n{tail}")


def tidy_progress_output(path: Path) -> None:
    """Collapse the progress bars an executed notebook captured into their final state.

    A kernel without ipywidgets prints tqdm bars as a stream of carriage-return updates, one output each;
    the book would show every update. Consecutive stderr outputs of a cell are joined and rendered as a
    terminal would (the text after a line's last carriage return), and tqdm's advice to install ipywidgets
    is dropped.
    """
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs: list = []
        for out in cell.get("outputs", []):
            if out.output_type == "stream" and out.name == "stderr":
                if outputs and outputs[-1].output_type == "stream" and outputs[-1].name == "stderr":
                    outputs[-1].text += out.text
                    continue
                out = nbformat.from_dict(dict(out))
            outputs.append(out)
        for out in outputs:
            if out.output_type == "stream" and out.name == "stderr":
                lines = [line.rsplit("\r", 1)[-1] for line in out.text.split("\n")]
                keep = [
                    line
                    for line in lines
                    if "IProgress not found" not in line and "from .autonotebook import tqdm" not in line
                ]
                out.text = "\n".join(keep)
        cell.outputs = [o for o in outputs if not (o.output_type == "stream" and not o.text.strip())]
    nbformat.write(nb, path)


def preflight_real_data(profile: str, steps: list[Step], params: dict, data_root: str | None) -> None:
    """Before any notebook of a ``paper``-profile run: check every dataset root the steps read, print the
    table, and stop (:class:`~physiofm.preflight.PreflightError`) if a needed one fails or ``--data-root``
    is missing. Other profiles read only built-in data."""
    if profile != "paper":
        return
    from physiofm.preflight import PreflightError, check_sources, needed_sources

    report = check_sources(needed_sources(params, [s.key for s in steps]), data_root)
    print(report.table(), flush=True)
    if not report.ok:
        raise PreflightError(f"{report.summary()}; no notebook was started")


def run(
    profile: str,
    only: list[str] | None = None,
    force: bool = False,
    data_root: str | None = None,
    root: Path | None = None,
    kernel_name: str | None = None,
) -> list[Outcome]:
    """Run the selected steps of the study under ``profile``; return one outcome per step."""
    import papermill as pm

    if profile not in PROFILES:
        raise ParamsError(f"unknown profile {profile!r}; expected one of {PROFILES}")
    root = root or repo_root()
    papers = sorted({o.partition("/")[0] for o in only}) if only else None
    steps = select(discover(root, papers), only)
    # Validate every params file before any notebook starts.
    params = {}
    for paper in dict.fromkeys(s.paper for s in steps):
        p = load_params(params_path(profile, paper, root), paper)
        missing = [s.name for s in steps if s.paper == paper and s.name not in type(p.steps).model_fields]
        if missing:
            raise ParamsError(f"{params_path(profile, paper, root)}: no 'steps' section for {missing}")
        params[paper] = p
    preflight_real_data(profile, steps, params, data_root)

    manifest = Manifest(build_dir(profile, root) / "manifest.json")
    outcomes: dict[str, Outcome] = {}
    for i, step in enumerate(steps, 1):
        label = f"[{i}/{len(steps)}] {step.key}"
        bad = [
            n
            for n in step.needs
            if outcomes.get(f"{step.paper}/{n}", Outcome("", "ok")).status in ("failed", "blocked")
        ]
        if bad:
            outcomes[step.key] = Outcome(step.key, "blocked", message=f"needs failed step(s) {bad}")
            print(f"{label}: blocked (needs {bad})", flush=True)
            continue
        upstream = {
            n: manifest.artifacts_hash(f"{step.paper}/{n}", artifacts_dir(profile, step.paper, n, root))
            for n in step.needs
        }
        key_hash = _input_hash(step, params_digest(params[step.paper], step.name), upstream)
        out_dir = artifacts_dir(profile, step.paper, step.name, root)
        entry = manifest.entries.get(step.key, {})
        if (
            not force
            and entry.get("input_hash") == key_hash
            and entry.get("status") == "ok"
            and out_dir.is_dir()
        ):
            outcomes[step.key] = Outcome(step.key, "skipped", message="unchanged")
            print(f"{label}: up to date, skipped", flush=True)
            continue
        executed = build_dir(profile, root) / "notebooks" / step.paper / step.path.name
        executed.parent.mkdir(parents=True, exist_ok=True)
        out_dir.mkdir(parents=True, exist_ok=True)
        print(f"{label}: running {step.path.relative_to(root)} -> {executed.relative_to(root)}", flush=True)
        t0 = time.perf_counter()
        try:
            try:
                pm.execute_notebook(
                    str(step.path),
                    str(executed),
                    kernel_name=kernel_name,
                    progress_bar={"disable": False, "desc": step.key},
                    cwd=str(step.path.parent),
                    parameters={
                        "profile": profile,
                        "params_file": str(params_path(profile, step.paper, root)),
                        "artifacts": str(artifacts_dir(profile, step.paper, root=root)),
                        "data_root": data_root,
                    },
                )
            finally:
                if executed.is_file():
                    tidy_progress_output(executed)
        except Exception as exc:  # noqa: BLE001 - any failure of one step must not stop the others
            secs = time.perf_counter() - t0
            msg = _failure_message(exc)
            outcomes[step.key] = Outcome(step.key, "failed", secs, msg)
            manifest.entries[step.key] = {"status": "failed", "seconds": secs, "notebook": str(executed)}
            manifest.save()
            print(
                f"{label}: FAILED after {secs:.1f} s\n{msg}\n  partially executed notebook: {executed}",
                file=sys.stderr,
                flush=True,
            )
            continue
        secs = time.perf_counter() - t0
        sig = _stat_signature(out_dir)
        manifest.entries[step.key] = {
            "status": "ok",
            "input_hash": key_hash,
            "seconds": round(secs, 2),
            "notebook": str(executed),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "artifacts_hash": folder_digest(out_dir),
            "artifacts_stat": json.loads(json.dumps(sig)),
        }
        manifest.save()
        outcomes[step.key] = Outcome(step.key, "ran", secs)
        print(f"{label}: done in {secs:.1f} s", flush=True)
    return [outcomes[s.key] for s in steps]


def summary_table(outcomes: list[Outcome]) -> str:
    """A plain-text table: step, status, seconds."""
    w = max([len(o.key) for o in outcomes] + [4])
    rows = [f"{'step':<{w}}  {'status':<8}  {'seconds':>8}", "-" * (w + 20)]
    rows += [f"{o.key:<{w}}  {o.status:<8}  {o.seconds:>8.1f}" for o in outcomes]
    return "\n".join(rows)
