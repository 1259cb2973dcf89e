"""Run the study: execute each paper's notebooks in order with papermill, skipping up-to-date steps.

A step is ``notebooks/<paper>/NN-<step>.ipynb``. It declares the earlier steps it needs in its notebook
metadata (``{"physiofm": {"needs": ["data"]}}``). A step is up to date when its notebook source, its params
(shared section + its own) and the artifacts of the steps it needs hash the same as at its last successful
run; the hashes live in ``build/<profile>/manifest.json``. A failed step blocks only the steps that need it.

Steps run concurrently (``jobs`` at a time, default one per core): each starts as soon as the steps it needs
have succeeded, and gets ``torch_threads`` = cores // jobs; of the steps ready at once, the one heading the
longest chain of remaining work (by the last recorded times) starts first. Worker threads only drive
papermill (each notebook runs in its own kernel process); the calling thread schedules, prints one status
line per running step and is the only writer of the manifest; a lock file keeps a second run of the same
profile out.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import sys
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from physiofm import environment
from physiofm import smoke as smoke_params
from physiofm.config import (
    CLOSING_PARTS,
    PAPERS,
    STUDY_PARTS,
    ParamsError,
    load_params,
    params_digest,
    params_path,
)
from physiofm.io import write_text
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
    known = [*STUDY_PARTS, *PAPERS, *CLOSING_PARTS]
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
            papers = list(dict.fromkeys(s.paper for s in steps))
            raise ValueError(f"--only {spec}: no such paper or step; known papers: {', '.join(papers)}; "
                             f"known steps: {', '.join(by_key)}")
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
        write_text(self.path, json.dumps(self.entries, indent=1, sort_keys=True))

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


_TERMINAL = re.compile(r"(\r|\n|\x1b\[A)")
_OTHER_ESCAPES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def terminal_text(text: str) -> str:
    """What a terminal would show after printing ``text``: carriage returns rewrite the current line,
    newlines move down, and the cursor-up escape (``ESC [ A``) moves up, as tqdm does for nested bars. Other
    escape sequences are dropped; empty lines are left out."""
    lines, row, rewrite = [""], 0, False
    for token in _TERMINAL.split(text):
        if token == "\r":
            rewrite = True
        elif token == "\n":
            row += 1
            if row == len(lines):
                lines.append("")
            rewrite = False
        elif token == "\x1b[A":
            row = max(0, row - 1)
        elif token:
            token = _OTHER_ESCAPES.sub("", token)
            lines[row] = token if rewrite else lines[row] + token
            rewrite = False
    shown = "\n".join(line.rstrip() for line in lines if line.strip())
    return shown + "\n" if shown and text.endswith("\n") else shown


def tidy_progress_output(path: Path) -> None:
    """Collapse the progress bars an executed notebook captured into their final state.

    A kernel without ipywidgets prints tqdm bars as a stream of carriage-return updates (nested bars also
    move the cursor up and down), one output each; the book would show every update. Consecutive stderr
    outputs of a cell are joined and rendered as a terminal would (:func:`terminal_text`), and tqdm's advice
    to install ipywidgets is dropped.
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
                keep = [
                    line
                    for line in terminal_text(out.text).split("\n")
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


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run(
    profile: str,
    only: list[str] | None = None,
    force: bool = False,
    data_root: str | None = None,
    root: Path | None = None,
    kernel_name: str | None = None,
    jobs: int | None = None,
    smoke: bool = False,
    stand_ins: bool = False,
) -> list[Outcome]:
    """Run the selected steps of the study under ``profile``; return one outcome per step, in step order.

    Up to ``jobs`` notebooks (default: the available cores) execute at once, each with ``torch_threads`` =
    max(1, cores // jobs); a step starts once the steps it needs have succeeded, so steps of different
    papers (and independent steps of one paper) overlap. This thread is the only writer of the manifest.

    ``smoke`` (``paper`` profile only): the notebooks read each paper's smoke params (:mod:`physiofm.smoke`:
    the paper profile with small models, budgets and probe grids) and write to ``build/smoke/``;
    ``stand_ins`` also applies the overlays' declared stand-ins and leaves out sources whose root fails.
    """
    root = root or repo_root()
    if (smoke or stand_ins) and profile != "paper":
        raise ValueError(f"--smoke cuts the paper profile's runs; it cannot be used with --profile {profile}")
    if stand_ins and not smoke:
        raise ValueError("--stand-ins applies to smoke runs only: add --smoke")
    steps, params = _validated(profile, only, root)
    cores = available_cores()
    jobs = cores if jobs is None else jobs
    if jobs < 1:
        raise ValueError(f"--jobs must be >= 1, got {jobs}")
    if not smoke:
        preflight_real_data(profile, steps, params, data_root)
    build, files = smoke_params.BUILD if smoke else profile, {}
    with _exclusive(build_dir(build, root)):
        if smoke:  # its own preflight, on the smoke params; their files are written under the lock
            prepared = smoke_params.prepare(list(params), [s.key for s in steps], data_root, stand_ins, root)
            params, files = prepared.params, prepared.files
        settings = _Settings(profile, root, data_root, kernel_name, torch_threads=max(1, cores // jobs),
                             build=build, params_files=files)
        manifest = Manifest(build_dir(build, root) / "manifest.json")
        outcomes = _Scheduler(steps, params, manifest, settings, jobs, force).run()
    return [outcomes[s.key] for s in steps]


def _validated(profile: str, only: list[str] | None, root: Path) -> tuple[list[Step], dict]:
    """The selected steps and every selected paper's validated params, before any notebook starts."""
    if profile not in PROFILES:
        raise ParamsError(f"unknown profile {profile!r}; expected one of {PROFILES}")
    steps = select(discover(root), only)
    params = {}
    for paper in dict.fromkeys(s.paper for s in steps):
        p = load_params(params_path(profile, paper, root), paper)
        missing = [s.name for s in steps if s.paper == paper and s.name not in type(p.steps).model_fields]
        if missing:
            raise ParamsError(f"{params_path(profile, paper, root)}: no 'steps' section for {missing}")
        params[paper] = p
    return steps, params


@contextmanager
def _exclusive(folder: Path):
    """Hold ``folder/.run.lock`` for the run: a second run of the same profile stops instead of racing."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".run.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"{folder}: another run of this profile is in progress") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@dataclass(frozen=True)
class _Settings:
    """What every step of one run is executed with."""

    profile: str
    root: Path
    data_root: str | None
    kernel_name: str | None
    torch_threads: int
    build: str = ""  # the folder under build/: the profile's, or "smoke"
    params_files: dict[str, Path] = field(default_factory=dict)  # paper -> params file, else the profile's

    @property
    def folder(self) -> str:
        return self.build or self.profile

    def params_file(self, paper: str) -> Path:
        return self.params_files.get(paper) or params_path(self.profile, paper, self.root)


class _CellCount:
    """A file-like sink for papermill's tqdm bar (``bar_format="{n}/{total}"``): remembers the last count,
    so that the scheduler can print one status line per running step instead of interleaved bars."""

    def __init__(self) -> None:
        self.text = "starting"

    def write(self, s: str) -> None:
        m = re.findall(r"(\d+)/(\d+)", s)
        if m:
            self.text = f"cell {m[-1][0]}/{m[-1][1]}"

    def flush(self) -> None:
        pass


def _kernel_manager(cwd: Path, root: Path) -> type:
    """A kernel manager class whose kernels start in ``cwd`` with ``PHYSIOFM_ROOT=root``.

    papermill's own ``cwd=`` changes the working directory of the whole runner process for the length of a
    notebook; with notebooks in several threads those changes interleave and leave the runner, and kernels
    started meanwhile, in another step's folder. Passing the folder to the kernel's launch touches only
    that kernel."""
    from jupyter_client.manager import AsyncKernelManager

    class InStepFolder(AsyncKernelManager):
        async def _async_pre_start_kernel(self, **kw):
            kw.setdefault("cwd", str(cwd))
            kw["env"] = {**(kw.get("env") or os.environ), "PHYSIOFM_ROOT": str(root)}
            return await super()._async_pre_start_kernel(**kw)

    return InStepFolder


def _execute(step: Step, settings: _Settings, cells: _CellCount) -> Path:
    """Execute one step's notebook with papermill (in a worker thread); return the executed copy's path.
    Raises what papermill raised; the partial notebook is still written and tidied."""
    import papermill as pm

    root, profile, folder = settings.root, settings.profile, settings.folder
    executed = build_dir(folder, root) / "notebooks" / step.paper / step.path.name
    executed.parent.mkdir(parents=True, exist_ok=True)
    artifacts_dir(folder, step.paper, step.name, root).mkdir(parents=True, exist_ok=True)
    try:
        pm.execute_notebook(
            str(step.path),
            str(executed),
            kernel_name=settings.kernel_name,
            progress_bar={"file": cells, "bar_format": "{n}/{total}", "mininterval": 0.5},
            kernel_manager_class=_kernel_manager(step.path.parent, root),
            # The kernel's own log (a start-up warning, the interrupt nbclient sends at shutdown) would
            # interleave with the status lines; a cell's error reaches the notebook and a dead kernel
            # fails the step all the same.
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            parameters={
                "profile": profile,
                "params_file": str(settings.params_file(step.paper)),
                "artifacts": str(artifacts_dir(folder, step.paper, root=root)),
                "data_root": settings.data_root,
                "torch_threads": settings.torch_threads,
            },
        )
    finally:
        if executed.is_file():
            tidy_progress_output(executed)
    return executed


def critical_path(steps: list[Step], manifest: Manifest) -> dict[str, float]:
    """Per step, the seconds from its start to the end of the longest chain of steps that need it, from
    each step's last recorded time (0 when it never ran)."""
    dependents: dict[str, list[str]] = {s.key: [] for s in steps}
    for s in steps:
        for n in s.needs:
            dependents[f"{s.paper}/{n}"].append(s.key)
    chain: dict[str, float] = {}
    for s in reversed(steps):  # a step's dependents come after it
        own = float(manifest.entries.get(s.key, {}).get("seconds", 0.0))
        chain[s.key] = own + max((chain[d] for d in dependents[s.key]), default=0.0)
    return chain


class _Scheduler:
    """Starts each step when the steps it needs are done, up to ``jobs`` at once; records every outcome.

    Worker threads only execute notebooks (each in its own kernel process); this object, on the calling
    thread, decides what to start, prints progress and writes the manifest, so no two writers race.
    """

    heartbeat_s = 30.0

    def __init__(self, steps: list[Step], params: dict, manifest: Manifest, settings: _Settings, jobs: int,
                 force: bool) -> None:
        self.steps, self.params, self.manifest = steps, params, manifest
        self.settings, self.jobs, self.force = settings, jobs, force
        self.outcomes: dict[str, Outcome] = {}
        self.running: dict[Future, tuple[Step, str, float, _CellCount]] = {}
        self.environment = environment.digest()

    def run(self) -> dict[str, Outcome]:
        print(f"running {len(self.steps)} step(s), {self.jobs} at a time, "
              f"{self.settings.torch_threads} torch thread(s) each", flush=True)
        # When more steps are ready than there are jobs, the longest remaining chain goes first.
        chain = critical_path(self.steps, self.manifest)
        pending = sorted(self.steps, key=lambda s: -chain[s.key])
        with ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="step") as pool:
            while pending or self.running:
                pending = self._start_ready(pending, pool)
                if not self.running:
                    if pending:  # cannot happen: needs are earlier steps of the same selection
                        raise RuntimeError(f"steps {[s.key for s in pending]} wait for steps never run")
                    break
                done, _ = wait(self.running, timeout=self.heartbeat_s, return_when=FIRST_COMPLETED)
                if not done:
                    self._print_status()
                for future in done:
                    self._finish(future)
        return self.outcomes

    def _label(self, step: Step) -> str:
        return f"[{self.steps.index(step) + 1}/{len(self.steps)}] {step.key}"

    def _start_ready(self, pending: list[Step], pool: ThreadPoolExecutor) -> list[Step]:
        """Start (or skip, or block) every pending step whose needs are settled; return the rest."""
        still = []
        for step in pending:
            needs = [self.outcomes.get(f"{step.paper}/{n}") for n in step.needs]
            if any(o is None for o in needs):
                still.append(step)
                continue
            bad = [o.key.partition("/")[2] for o in needs if o.status in ("failed", "blocked")]
            if bad:
                self.outcomes[step.key] = Outcome(step.key, "blocked", message=f"needs failed step(s) {bad}")
                print(f"{self._label(step)}: blocked (needs {bad})", flush=True)
                continue
            key_hash = self._input_hash(step)
            entry = self.manifest.entries.get(step.key, {})
            out_dir = artifacts_dir(self.settings.folder, step.paper, step.name, self.settings.root)
            if not self.force and entry.get("input_hash") == key_hash and entry.get("status") == "ok" \
                    and out_dir.is_dir():
                self.outcomes[step.key] = Outcome(step.key, "skipped", message="unchanged")
                print(f"{self._label(step)}: up to date, skipped", flush=True)
                continue
            if len(self.running) >= self.jobs:
                still.append(step)
                continue
            cells = _CellCount()
            self.running[pool.submit(_execute, step, self.settings, cells)] = (
                step, key_hash, time.perf_counter(), cells)
            print(f"{self._label(step)}: running {step.path.relative_to(self.settings.root)}", flush=True)
        return still

    def _input_hash(self, step: Step) -> str:
        folder, root = self.settings.folder, self.settings.root
        upstream = {
            n: self.manifest.artifacts_hash(f"{step.paper}/{n}", artifacts_dir(folder, step.paper, n, root))
            for n in step.needs
        }
        return _input_hash(step, params_digest(self.params[step.paper], step.name), upstream)

    def _print_status(self) -> None:
        now = time.perf_counter()
        for step, _, started, cells in self.running.values():
            print(f"  ... {step.key}: {cells.text}, {now - started:.0f} s", flush=True)

    def _finish(self, future: Future) -> None:
        step, key_hash, started, _ = self.running.pop(future)
        secs = time.perf_counter() - started
        folder, root = self.settings.folder, self.settings.root
        executed = build_dir(folder, root) / "notebooks" / step.paper / step.path.name
        exc = future.exception()
        if exc is not None:
            msg = _failure_message(exc)
            self.outcomes[step.key] = Outcome(step.key, "failed", secs, msg)
            self.manifest.entries[step.key] = {"status": "failed", "seconds": secs, "notebook": str(executed)}
            self.manifest.save()
            print(f"{self._label(step)}: FAILED after {secs:.1f} s\n{msg}\n  partially executed notebook: "
                  f"{executed}", file=sys.stderr, flush=True)
            return
        out_dir = artifacts_dir(folder, step.paper, step.name, root)
        sig = _stat_signature(out_dir)
        self.manifest.entries[step.key] = {
            "status": "ok",
            "input_hash": key_hash,
            "seconds": round(secs, 2),
            "notebook": str(executed),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "environment": self.environment,
            "jobs": self.jobs,
            "artifacts_hash": folder_digest(out_dir),
            "artifacts_stat": json.loads(json.dumps(sig)),
        }
        self.manifest.save()
        self.outcomes[step.key] = Outcome(step.key, "ran", secs)
        print(f"{self._label(step)}: done in {secs:.1f} s", flush=True)


def summary_table(outcomes: list[Outcome]) -> str:
    """A plain-text table: step, status, seconds."""
    w = max([len(o.key) for o in outcomes] + [4])
    rows = [f"{'step':<{w}}  {'status':<8}  {'seconds':>8}", "-" * (w + 20)]
    rows += [f"{o.key:<{w}}  {o.status:<8}  {o.seconds:>8.1f}" for o in outcomes]
    return "\n".join(rows)
