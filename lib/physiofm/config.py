"""One configuration path: ``params/<profile>/<paper>.yaml`` -> typed, validated config -> the code.

A params file has a ``shared`` section and a ``steps`` section with one entry per notebook step::

    shared: {seed: 0, ...}
    steps:
      data: {...}
      pretrain: {...}

Each paper declares its schema as a pydantic model (``SCHEMAS`` below, or a ``schema: module:Class`` key at
the top of the file for studies outside the five papers). Unknown keys, wrong types and out-of-range values
raise :class:`ParamsError`, which names the file, the key and what was expected, before any notebook starts.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from physiofm.paths import PROFILES, artifacts_dir, repo_root

# The five papers in the order the book presents them, with the titles the book prints.
PAPERS: dict[str, str] = {
    "syneco": "Synergy-Aware Contrastive Pretraining for Co-recorded Physiological Signals (SyneCo)",
    "hybrid_ecg": "Foundation Models for ECG: Hybrid Self-Supervised Learning",
    "anyppg": "AnyPPG: an ECG-guided PPG foundation model",
    "multimae": "Promoting cross-modal representations in multimodal foundation models (MultiMAE)",
    "dbeta": "Boosting Masked ECG-Text Auto-Encoders as Discriminative Learners (D-BETA)",
}

# paper -> "module:Class" of its params schema (a PaperParams subclass).
SCHEMAS: dict[str, str] = {
    "syneco": "physiofm.syneco.params:SynecoParams",
    "anyppg": "physiofm.anyppg.params:AnyPPGParams",
    "dbeta": "physiofm.dbeta.params:DBetaParams",
    "hybrid_ecg": "physiofm.hybrid_ecg.params:HybridEcgParams",
    "multimae": "physiofm.multimae.params:MultiMAEParams",
    "cohorts": "physiofm.synthetic.params:CohortsParams",
    "benchmark": "physiofm.benchmark.params:BenchmarkParams",
}

# Study chapters that are not papers (``notebooks/<name>``), in the book's "The study" part.
STUDY_PARTS: dict[str, str] = {
    "cohorts": "The built-in data: cohorts with a known information structure",
}

# Study parts that come after the five papers (``notebooks/<name>``, chapter ``book/<name>.md``), in this
# order, each its own part of the book.
CLOSING_PARTS: dict[str, str] = {
    "benchmark": "Across the papers: every objective on one footing",
}


class ParamsError(ValueError):
    """A params file that cannot be used; the message names the file, the key and the expectation."""


class Section(BaseModel):
    """Base of every params section: unknown keys are errors, values are immutable after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PaperParams(Section):
    """A whole params file. Subclasses narrow ``shared`` and ``steps`` to their own sections."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: str | None = None
    shared: Section
    steps: Section
    # step settings (dotted paths under ``steps``) that name runs of ``shared.methods``: lists, or mappings
    # whose values are run names or empty; and names they may use besides (e.g. a random-init encoder)
    run_fields: ClassVar[tuple[str, ...]] = ()
    extra_runs: ClassVar[tuple[str, ...]] = ()

    def step(self, name: str) -> Section:
        if name not in type(self.steps).model_fields:
            raise KeyError(f"no step {name!r} in params; steps are {list(type(self.steps).model_fields)}")
        return getattr(self.steps, name)

    @model_validator(mode="after")
    def _named_runs_exist(self) -> PaperParams:
        """Every step setting of :attr:`run_fields` names only runs of ``shared.methods`` (or
        :attr:`extra_runs`); the error names the setting."""
        runs = set(getattr(self.shared, "methods", {})) | set(self.extra_runs)
        for where in self.run_fields:
            value: Any = self.steps
            for part in where.split("."):
                value = getattr(value, part)
            names = [v for v in (value.values() if isinstance(value, Mapping) else value) if v]
            bad = sorted(set(names) - runs)
            if bad:
                raise ValueError(f"steps.{where}: unknown run(s) {bad}; runs: {sorted(runs)}")
        return self


def _format_errors(path: Path, err: ValidationError) -> str:
    lines = [f"{path}: invalid params ({err.error_count()} problem(s))"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "<top level>"
        got = e.get("input")
        shown = "" if e["type"] == "missing" else f" (got {got!r})"
        lines.append(f"  - {key}: {e['msg']}{shown}")
    return "\n".join(lines)


def _schema_for(paper: str, raw: dict[str, Any], path: Path) -> type[PaperParams]:
    spec = raw.get("schema") or SCHEMAS.get(paper)
    if not spec:
        raise ParamsError(
            f"{path}: no params schema is registered for paper {paper!r}; "
            f"add it to physiofm.config.SCHEMAS or give a top-level 'schema: module:Class'"
        )
    module, _, cls = str(spec).partition(":")
    try:
        schema = getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError) as e:
        raise ParamsError(f"{path}: schema {spec!r} cannot be imported: {e}") from e
    if not (isinstance(schema, type) and issubclass(schema, PaperParams)):
        raise ParamsError(f"{path}: schema {spec!r} is not a physiofm.config.PaperParams subclass")
    return schema


def params_path(profile: str, paper: str, root: Path | None = None) -> Path:
    if profile not in PROFILES:
        raise ParamsError(f"unknown profile {profile!r}; expected one of {PROFILES}")
    return (root or repo_root()) / "params" / profile / f"{paper}.yaml"


def load_params(path: Path | str, paper: str | None = None) -> PaperParams:
    """Read and validate one params file. ``paper`` defaults to the file's stem."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: params file not found")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ParamsError(f"{path}: not valid YAML: {e}") from e
    return params_from_dict(raw, paper or path.stem, path)


def params_from_dict(raw: Any, paper: str, path: Path) -> PaperParams:
    """Validate a params mapping (read from, or derived from, the file ``path``, which errors name)."""
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping with 'shared' and 'steps', got {type(raw).__name__}")
    schema = _schema_for(paper, raw, path)
    data = {("schema_" if k == "schema" else k): v for k, v in raw.items()}
    try:
        return schema.model_validate(data)
    except ValidationError as e:
        raise ParamsError(_format_errors(path, e)) from None


def params_digest(params: PaperParams, step: str | None = None) -> str:
    """Content hash of the shared section and (optionally) one step: what a step's results depend on."""
    payload: dict[str, Any] = {"shared": params.shared.model_dump(mode="json")}
    if step is not None:
        payload["step"] = params.step(step).model_dump(mode="json")
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class StepContext:
    """What a notebook needs to run one step: its typed params and where to read and write.

    Attributes:
        paper, step, profile: identify the run.
        shared: the paper's validated ``shared`` section.
        params: the validated section of this step.
        out: this step's artifact folder (created), ``build/<profile>/artifacts/<paper>/<step>``.
        data_root: the real-dataset root for the ``paper`` profile, or None (built-in data).
        workers: processes for independent runs, embeddings and probes (:mod:`physiofm.parallel`):
            ``shared.runtime.workers``, but never more than the cores the runner gave this notebook.
        worker_threads: torch / BLAS threads of each such process.
    """

    paper: str
    step: str
    profile: str
    shared: Any
    params: Any
    out: Path
    data_root: Path | None
    params_file: Path
    workers: int = 1
    worker_threads: int = 1

    def step_params(self, step: str) -> Any:
        """The validated section of another step of the same params file (e.g. the pretraining seeds)."""
        return load_params(self.params_file, self.paper).step(step)

    def input(self, step: str) -> Path:
        """The artifact folder of an earlier step of the same paper; it must exist."""
        d = self.out.parent / step
        if not d.is_dir():
            raise FileNotFoundError(
                f"{self.paper}/{self.step} needs the artifacts of step {step!r} at {d}; "
                f"run it first: python -m physiofm run --profile {self.profile} "
                f"--only {self.paper}/{step}"
            )
        return d


def step_context(
    paper: str,
    step: str,
    profile: str = "demo",
    params_file: str | Path | None = None,
    artifacts: str | Path | None = None,
    data_root: str | Path | None = None,
    torch_threads: int | None = None,
) -> StepContext:
    """The config of one notebook step. The runner passes every argument; a notebook opened by hand in
    JupyterLab passes none and gets the ``demo`` profile from ``params/demo/<paper>.yaml``.

    ``torch_threads`` (the runner passes cores / jobs) sets this kernel's torch and BLAS thread pools
    (:func:`physiofm.runtime.set_threads`); without it the params file's ``shared.runtime.torch_threads``
    (:class:`physiofm.sections.RuntimeSection`) does, and without that the libraries keep their defaults.
    ``shared.runtime.workers`` worker processes serve independent runs, embeddings and probes; when the
    runner passes ``torch_threads`` there are at most that many, sharing those threads.
    """
    from physiofm.runtime import set_threads

    path = Path(params_file) if params_file else params_path(profile, paper)
    params = load_params(path, paper)
    runtime = getattr(params.shared, "runtime", None)
    threads = torch_threads or getattr(runtime, "torch_threads", None)
    if threads:
        set_threads(int(threads))
    # The runner's torch_threads is this notebook's share of the cores: worker processes (one thread each)
    # never outnumber it, so --jobs N notebooks with their workers never oversubscribe the machine.
    workers = getattr(runtime, "workers", 1)
    if torch_threads:
        workers = max(1, min(workers, int(torch_threads)))
    worker_threads = max(1, int(threads or 1) // workers) if torch_threads else int(threads or 1)
    base = Path(artifacts) if artifacts else artifacts_dir(profile, paper)
    out = base / step
    out.mkdir(parents=True, exist_ok=True)
    return StepContext(
        paper=paper,
        step=step,
        profile=profile,
        shared=params.shared,
        params=params.step(step),
        out=out,
        data_root=Path(data_root) if data_root else None,
        params_file=path,
        workers=workers,
        worker_threads=worker_threads,
    )
