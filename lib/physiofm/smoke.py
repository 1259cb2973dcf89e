"""Smoke runs of the ``paper`` profile: the paper's data, preprocessing, splits and code path with small
models, few steps and small probe grids, so that a paper runs in seconds to a minute on CPU.

``params/smoke/<paper>.yaml`` is an *overlay*: deep-merged over ``params/paper/<paper>.yaml`` (mappings
merged key by key, any other value replaced) and then validated with the paper's schema. It may set only
the keys :data:`ALLOWED` names (model widths and depths, step counts and batch sizes, probe grids, folds
and seeds, embedding batch sizes, workers and threads, and the size of a built-in synthetic cohort), each
under a mapping the paper profile already has, so a smoke run can never read other real data, preprocess
or split it differently, or train another set of runs. :func:`check_overlay` enforces this when the runner
reads an overlay; ``tests/test_smoke.py`` checks every committed overlay.

An overlay may also list ``stand_ins``: single values of the paper profile that the real samples cannot
meet, each with its reason::

    stand_ins:
      - {key: "steps.data.pretrain_sources[dataset=mimic3_wave].options.min_duration_s", value: 60.0,
         reason: "every real ICU sample is shorter than the paper's 10 min"}

They apply only to a run with ``--stand-ins`` (``python -m physiofm run --profile paper --smoke
--stand-ins --data-root R``), which also leaves out every dataset source whose preflight fails (a list
item of the params), instead of stopping. Both are printed before the first notebook and written at the
top of the params file the notebooks read (``build/smoke/params/<paper>.yaml``), so a stand-in run never
passes for the paper's own.

Artifacts, executed notebooks and the manifest of smoke runs live in ``build/smoke/`` (:data:`BUILD`),
apart from the paper profile's; no book is built from them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from physiofm.config import PaperParams, ParamsError, params_from_dict, params_path
from physiofm.io import write_text
from physiofm.paths import build_dir, repo_root

BUILD = "smoke"  # build/smoke/: never mixed with build/paper/

# Widths and depths of encoders and method heads (Net1D's stages, projector / predictor MLPs, transformer
# sizes). A key here sizes a model; it never changes what the model reads.
WIDTHS = ("base_filters", "filters", "blocks", "groups_width", "embed_dim", "projector_hidden",
          "projector_dim", "hidden", "dim", "width", "depth", "heads", "layers", "decoder_width",
          "decoder_depth", "decoder_heads", "decoder_dim", "ff_dim", "mlp_dim")
# The run loop's budget: step counts, batch sizes, validation / checkpoint cadence, loader workers.
TRAIN = ("max_steps", "warmup_steps", "val_every", "ckpt_every", "log_every", "patience", "batch_size",
         "val_segments", "val_max_batches", "num_workers", "gpus")
# Probe grids, folds, seeds and sizes, and the batch sizes of embedding passes.
PROBE = ("outer_folds", "inner_folds", "logreg_C", "logreg_solvers", "ridge_alpha", "ridge_solvers",
         "max_iter", "rf_n_estimators", "fc_max_epochs", "fc_patience", "embed_batch_size", "n_jobs", "seeds")

#: Dotted key patterns a smoke overlay may set, one per key level: ``a|b`` is one of these names, a
#: wildcard (``*``, ``*_cohort``) matches only keys the paper profile has.
ALLOWED: tuple[str, ...] = (
    "shared.runtime.torch_threads|device|workers",
    "shared.probe_seeds",
    "shared.encoder." + "|".join(WIDTHS),
    "shared.methods.*.config." + "|".join(WIDTHS),
    "steps.*.train." + "|".join(TRAIN),
    "steps.*." + "|".join(PROBE),
    "steps.*.store.workers",
    # The size of a built-in synthetic cohort and of the checks run on it, never of a real source (a smoke
    # run reads every real record): SyneCo's paper profile builds a 400-subject cohort for its synergy
    # chapter, which is no part of the real-data path and would cost minutes of CPU.
    "steps.*.*_cohort.n_subjects",
    "steps.*.proofs.records",
)


LEFT_OUT = "left out of this stand-in smoke run: its folder under --data-root fails the preflight"


class SmokeError(ParamsError):
    """A smoke overlay that sets a key outside :data:`ALLOWED`, or a stand-in that cannot be applied."""


@dataclass(frozen=True)
class StandIn:
    """One paper-profile value replaced in a ``--stand-ins`` run, and why."""

    key: str
    value: Any
    reason: str


@dataclass
class Overlay:
    """A parsed ``params/smoke/<paper>.yaml``: the size overlay and the declared stand-ins."""

    path: Path
    sizes: dict[str, Any]
    stand_ins: list[StandIn] = field(default_factory=list)


def overlay_path(paper: str, root: Path | None = None) -> Path:
    return (root or repo_root()) / "params" / "smoke" / f"{paper}.yaml"


# ------------------------------------------------------------------------------------------- key paths
_TOKEN = re.compile(r"([A-Za-z0-9_]+)((?:\[[^\]]+\])*)")


def parse_key(key: str) -> list[str | int | tuple[str, str]]:
    """``"a.b[2].c[dataset=x].d"`` -> ``["a", "b", 2, "c", ("dataset", "x"), "d"]``."""
    parts: list[str | int | tuple[str, str]] = []
    for token in key.split("."):
        m = _TOKEN.fullmatch(token)
        if not m:
            raise SmokeError(f"malformed key {key!r} at {token!r}")
        parts.append(m.group(1))
        for sel in re.findall(r"\[([^\]]+)\]", m.group(2)):
            if sel.isdigit():
                parts.append(int(sel))
            elif "=" in sel:
                name, value = sel.split("=", 1)
                parts.append((name, value))
            else:
                raise SmokeError(f"malformed key {key!r}: [{sel}] is neither a position nor field=value")
    return parts


def _child(node: Any, step: str | int | tuple[str, str], key: str) -> tuple[Any, str | int]:
    """(the child of ``node`` at ``step``, its key or position); a clear error when there is none."""
    if isinstance(step, str):
        if not isinstance(node, Mapping) or step not in node:
            raise SmokeError(f"{key}: the paper profile has no key {step!r} here")
        return node[step], step
    if not isinstance(node, list):
        raise SmokeError(f"{key}: {step!r} selects a list item, but the value there is not a list")
    if isinstance(step, int):
        if not 0 <= step < len(node):
            raise SmokeError(f"{key}: no item {step} in a list of {len(node)}")
        return node[step], step
    hits = [i for i, item in enumerate(node)
            if isinstance(item, Mapping) and str(item.get(step[0])) == step[1]]
    if len(hits) != 1:
        raise SmokeError(f"{key}: [{step[0]}={step[1]}] matches {len(hits)} list items (need exactly one)")
    return node[hits[0]], hits[0]


def set_key(raw: dict, key: str, value: Any) -> None:
    """Replace the value at ``key`` (which must exist) in the params mapping ``raw``."""
    *head, last = parse_key(key)
    node = raw
    for step in head:
        node, _ = _child(node, step, key)
    _, where = _child(node, last, key)
    node[where] = value


def leaf_keys(overlay: Mapping, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path of an overlay that ends in a value that is not a mapping."""
    out = []
    for k, v in overlay.items():
        path = (*prefix, str(k))
        out += leaf_keys(v, path) if isinstance(v, Mapping) and v else [path]
    return out


def allowed(path: Sequence[str], base: Mapping | None = None) -> bool:
    """Whether a smoke overlay may set ``path``: it matches a pattern of :data:`ALLOWED` and, with
    ``base`` (the paper profile's params), every key a ``*`` matches is one the paper profile has."""
    for pattern in ALLOWED:
        comps = pattern.split(".")
        if len(comps) != len(path) or not all(
                any(fnmatchcase(p, alt) for alt in c.split("|")) for c, p in zip(comps, path)):
            continue
        if base is None:
            return True
        node: Any = base
        ok = True
        for c, p in zip(comps, path):
            if any(ch in c for ch in "*?["):
                ok = isinstance(node, Mapping) and p in node
            if not ok or not isinstance(node, Mapping):
                break
            node = node.get(p, {})
        if ok:
            return True
    return False


def deep_merge(base: Mapping, overlay: Mapping) -> dict:
    """``base`` with ``overlay`` merged in: mappings key by key, every other value replaced (a list too)."""
    out = copy.deepcopy(dict(base))
    for k, v in overlay.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


# ---------------------------------------------------------------------------------------------- overlay
def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise SmokeError(f"{path}: no smoke overlay for this paper (params/smoke/<paper>.yaml)")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise SmokeError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(raw, dict):
        raise SmokeError(f"{path}: expected a mapping, got {type(raw).__name__}")
    return raw


def read_overlay(path: Path) -> Overlay:
    """Parse an overlay file (structure only; :func:`check_overlay` checks its keys against a profile)."""
    raw = _read_yaml(path)
    unknown = sorted(set(raw) - {"shared", "steps", "stand_ins"})
    if unknown:
        raise SmokeError(f"{path}: unknown top-level key(s) {unknown}; an overlay has shared, steps, "
                         f"stand_ins")
    stand_ins = []
    for i, s in enumerate(raw.get("stand_ins") or []):
        if not isinstance(s, Mapping) or set(s) != {"key", "value", "reason"} or not str(s["reason"]).strip():
            raise SmokeError(f"{path}: stand_ins[{i}] must be a mapping of key, value and a non-empty reason")
        parse_key(str(s["key"]))
        stand_ins.append(StandIn(str(s["key"]), s["value"], str(s["reason"]).strip()))
    sizes = {k: raw[k] for k in ("shared", "steps") if raw.get(k)}
    return Overlay(path, sizes, stand_ins)


def check_overlay(overlay: Overlay, base: Mapping) -> None:
    """Raise :class:`SmokeError` naming every overlay key outside :data:`ALLOWED` (or naming a run, step
    or section the paper profile ``base`` lacks), and every stand-in key ``base`` does not have."""
    bad = [".".join(p) for p in leaf_keys(overlay.sizes) if not allowed(p, base)]
    if bad:
        raise SmokeError(f"{overlay.path}: a smoke overlay may set only model widths and depths, step counts "
                         f"and batch sizes, probe grids, folds and seeds, and workers and threads "
                         f"(physiofm.smoke.ALLOWED) under keys the paper profile has; not {bad}")
    for s in overlay.stand_ins:
        try:
            set_key(copy.deepcopy(dict(base)), s.key, s.value)
        except SmokeError as e:
            raise SmokeError(f"{overlay.path}: stand-in {e}") from None


def smoke_raw(paper: str, root: Path | None = None, stand_ins: bool = False) -> tuple[dict, Overlay]:
    """The smoke params of ``paper`` as a plain mapping (paper profile + overlay, + stand-ins when asked),
    and the overlay they came from."""
    base_path = params_path("paper", paper, root)
    base = _read_yaml(base_path)
    overlay = read_overlay(overlay_path(paper, root))
    check_overlay(overlay, base)
    raw = deep_merge(base, overlay.sizes)
    for s in overlay.stand_ins if stand_ins else []:
        set_key(raw, s.key, s.value)
    return raw, overlay


def validated(raw: dict, paper: str, origin: Path) -> PaperParams:
    return params_from_dict(raw, paper, origin)


# ------------------------------------------------------------------------------------------ left out
def _where(reader: str) -> str:
    """``"syneco/data (steps.data.pretrain_sources[2])"`` -> ``"steps.data.pretrain_sources[2]"``."""
    return reader[reader.index("(") + 1:-1]


def leave_out(raw: dict, wheres: Sequence[str], reason: str) -> None:
    """Leave the sources at the params keys ``wheres`` (list items, e.g. ``steps.data.sources[3]``) out of
    ``raw``: a source with a ``kind`` (a :data:`~physiofm.sections.Source`) becomes ``kind: unavailable``
    with ``reason``, so the notebooks list it as such; any other is removed from its list. A source that is
    not a list item cannot be left out (:class:`SmokeError`)."""
    by_list: dict[str, list[int]] = {}
    for w in dict.fromkeys(wheres):
        m = re.fullmatch(r"(.+)\[(\d+)\]", w)
        if not m:
            raise SmokeError(f"{w}: this source is not an item of a list, so a stand-in run cannot leave "
                             "it out")
        by_list.setdefault(m.group(1), []).append(int(m.group(2)))
    for parent, items in by_list.items():
        node: Any = raw
        for step in parse_key(parent):
            node, _ = _child(node, step, parent)
        for i in sorted(items, reverse=True):
            item = node[i]
            if isinstance(item, Mapping) and "kind" in item:
                name = str(item.get("name") or item.get("dataset"))
                node[i] = {"kind": "unavailable", "name": name, "paper_name": name, "reason": reason}
            else:
                del node[i]


# -------------------------------------------------------------------------------------------- the run
@dataclass
class SmokeParams:
    """What the runner executes a smoke run with: per paper the validated params and the file written for
    the notebooks, and what ``--stand-ins`` changed."""

    params: dict[str, PaperParams]
    files: dict[str, Path]
    stand_ins: dict[str, list[StandIn]] = field(default_factory=dict)
    left_out: dict[str, list[str]] = field(default_factory=dict)

    def notice(self) -> str:
        """What a stand-in run changed, for the log (empty when nothing)."""
        lines = []
        for paper in self.params:
            for s in self.stand_ins.get(paper, []):
                lines.append(f"stand-in {paper}: {s.key} = {s.value!r} ({s.reason})")
            for src in self.left_out.get(paper, []):
                lines.append(f"left out {paper}: {src} (its dataset root fails the preflight)")
        return "\n".join(lines)


def prepare(papers: Sequence[str], step_keys: Sequence[str], data_root: str | Path | None,
            stand_ins: bool = False, root: Path | None = None) -> SmokeParams:
    """Smoke params of ``papers`` validated, the preflight of the steps ``step_keys`` run on them (and the
    table printed), then the params files written under ``build/smoke/params/``.

    Without ``stand_ins`` a failing dataset root stops the run (:class:`~physiofm.preflight.PreflightError`)
    as in the paper profile; with it the overlays' stand-ins are applied first and every source that still
    fails is left out (each listed), so the run reads exactly the sources the data root can supply.
    """
    from physiofm.preflight import PreflightError, check_sources, needed_sources

    root = root or repo_root()
    raws, overlays = {}, {}
    for paper in papers:
        raws[paper], overlays[paper] = smoke_raw(paper, root, stand_ins)
    origin = {p: overlay_path(p, root) for p in papers}
    params = {p: validated(raws[p], p, origin[p]) for p in papers}
    report = check_sources(needed_sources(params, step_keys), data_root)
    print(report.table(), flush=True)
    left: dict[str, list[str]] = {}
    if not report.ok and not stand_ins:
        raise PreflightError(f"{report.summary()}; no notebook was started")
    wheres: dict[str, list[str]] = {}
    for row in report.failed:
        for reader in row.source.readers:
            paper, where = reader.partition("/")[0], _where(reader)
            left.setdefault(paper, []).append(f"{row.source.label} at {where}")
            wheres.setdefault(paper, []).append(where)
    for paper, at in wheres.items():
        leave_out(raws[paper], at, LEFT_OUT)
        params[paper] = validated(raws[paper], paper, origin[paper])
    out = SmokeParams(params, {}, {p: overlays[p].stand_ins for p in papers if stand_ins}, left)
    folder = build_dir(BUILD, root) / "params"
    for paper in papers:
        header = [f"# Smoke params of {paper}, written by the runner: params/paper/{paper}.yaml with "
                  f"params/smoke/{paper}.yaml merged over it."]
        header += [f"# stand-in: {s.key} = {s.value!r} ({s.reason})" for s in out.stand_ins.get(paper, [])]
        header += [f"# left out: {src} (its dataset root fails the preflight)" for src in left.get(paper, [])]
        text = "\n".join(header) + "\n" + yaml.safe_dump(raws[paper], sort_keys=False, width=110)
        out.files[paper] = write_text(folder / f"{paper}.yaml", text)
    notice = out.notice()
    if notice:
        print(notice, flush=True)
    return out
