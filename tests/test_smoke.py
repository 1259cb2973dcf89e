"""Smoke overlays (``params/smoke/<paper>.yaml``) cut only sizes, and ``run --smoke`` keeps its own build.

Every committed overlay sets only keys of :data:`physiofm.smoke.ALLOWED` (model widths and depths, step
counts and batch sizes, probe grids, folds and seeds, embedding batch sizes, workers and threads, and the
size of a built-in synthetic cohort), so the merged params differ from the paper profile's exactly there:
never in a data source, a preprocessing value, a split or the set of runs. Stand-ins change the paper
profile's values only in a ``--stand-ins`` run. The runner writes a smoke run to ``build/smoke`` with the
merged params file, runs the preflight as for the paper profile, and with ``--stand-ins`` leaves out (and
lists) the sources whose roots fail instead of stopping.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_notebook

from physiofm import smoke
from physiofm.config import load_params
from physiofm.preflight import PreflightError
from physiofm.runner import run

sys.path.insert(0, str(Path(__file__).parent / "datasets"))
from test_ds_icu import write_mimic3  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
OVERLAYS = sorted((REPO / "params" / "smoke").glob("*.yaml"))


def _leaves(x, prefix=()) -> dict[tuple[str, ...], object]:
    """Every leaf of a params mapping (list items by position) -> its value."""
    if isinstance(x, dict):
        return {k: v for key, val in x.items() for k, v in _leaves(val, (*prefix, str(key))).items()}
    if isinstance(x, list) and any(isinstance(v, dict | list) for v in x):
        return {k: v for i, val in enumerate(x) for k, v in _leaves(val, (*prefix, f"[{i}]")).items()}
    return {prefix: x}


def _changed(a: dict, b: dict) -> set[tuple[str, ...]]:
    la, lb = _leaves(a), _leaves(b)
    return {k for k in la.keys() | lb.keys() if la.get(k, "<absent>") != lb.get(k, "<absent>")}


def test_there_are_overlays_for_the_papers_with_a_paper_profile_smoke_run() -> None:
    assert {p.stem for p in OVERLAYS} >= {"syneco", "anyppg"}


@pytest.mark.parametrize("path", OVERLAYS, ids=lambda p: p.stem)
def test_an_overlay_changes_only_allowed_keys_of_the_paper_profile(path: Path) -> None:
    paper = path.stem
    base = yaml.safe_load((REPO / "params" / "paper" / f"{paper}.yaml").read_text())
    overlay = smoke.read_overlay(path)
    smoke.check_overlay(overlay, base)
    merged, _ = smoke.smoke_raw(paper, REPO)
    changed = _changed(base, merged)
    assert changed, "an overlay that cuts nothing"
    for key in changed:
        # a replaced list (e.g. Net1D's filters) shows as its items: the list's own key is the one allowed
        own = tuple(k for k in key if not k.startswith("["))
        assert smoke.allowed(own, base), f"{path}: the smoke params differ from the paper profile at {key}"
    params = smoke.validated(merged, paper, path)
    assert type(params) is type(load_params(REPO / "params" / "paper" / f"{paper}.yaml", paper))
    # the stand-ins, and only they, change a value outside ALLOWED
    stand, _ = smoke.smoke_raw(paper, REPO, stand_ins=True)
    smoke.validated(stand, paper, path)
    declared = {_resolved(base, s.key) for s in overlay.stand_ins}
    assert _changed(merged, stand) <= declared


def _resolved(base: dict, key: str) -> tuple[str, ...]:
    """A stand-in key as a :func:`_leaves` path: ``[field=value]`` selectors resolved to ``[position]``."""
    out, node = [], base
    for step in smoke.parse_key(key):
        if isinstance(step, tuple):
            step = next(i for i, item in enumerate(node) if str(item.get(step[0])) == step[1])
        out.append(f"[{step}]" if isinstance(step, int) else step)
        node = node[step]
    return tuple(out)


@pytest.mark.parametrize("key, value", [
    ("steps.data.preprocess.window_s", 5.0),                       # preprocessing
    ("steps.data.preprocess.min_duration_s", 60.0),                # (only a stand-in may)
    ("steps.data.pretrain_sources", []),                           # data
    ("steps.data.split_fractions", [0.5, 0.5, 0.0]),               # splits
    ("steps.pretrain.train.lr", 1.0),                              # optimisation, not a budget
    ("shared.encoder.kernel_size", 3),                             # not a width or depth
    ("shared.methods.new_run.config.hidden", 8),                   # a run the paper profile lacks
    ("steps.probe.probes", ["lr"]),                                # which probes, not their size
    ("steps.nope.train.max_steps", 1),                             # a step the paper profile lacks
])
def test_an_overlay_key_outside_the_allowed_set_is_refused(tmp_path: Path, key: str, value) -> None:
    base = yaml.safe_load((REPO / "params" / "paper" / "syneco.yaml").read_text())
    nested: dict = value
    for k in reversed(key.split(".")):
        nested = {k: nested}
    path = tmp_path / "syneco.yaml"
    path.write_text(yaml.safe_dump(nested))
    with pytest.raises(smoke.SmokeError, match=r"may set only .* not \['" + key.replace(".", r"\.")):
        smoke.check_overlay(smoke.read_overlay(path), base)


def test_allowed_keys_and_wildcards_need_the_paper_profiles_keys() -> None:
    base = yaml.safe_load((REPO / "params" / "paper" / "syneco.yaml").read_text())
    assert smoke.allowed(("shared", "encoder", "filters"), base)
    assert smoke.allowed(("shared", "methods", "byol_ecg", "config", "hidden"), base)
    assert smoke.allowed(("steps", "pretrain", "train", "max_steps"), base)
    assert smoke.allowed(("steps", "data", "downstream_cohort", "n_subjects"), base)
    assert not smoke.allowed(("steps", "data", "pretrain_cohort", "n_subjects"), base)  # not in the paper's
    assert not smoke.allowed(("steps", "data", "downstream_cohort", "duration_s"), base)


def test_keys_with_selectors_are_set_in_place_and_must_exist() -> None:
    raw = {"steps": {"data": {"sources": [{"dataset": "a", "options": {"m": 1}}, {"dataset": "b"}]}}}
    assert smoke.parse_key("steps.data.sources[dataset=a].options.m") == [
        "steps", "data", "sources", ("dataset", "a"), "options", "m"]
    smoke.set_key(raw, "steps.data.sources[dataset=a].options.m", 2)
    smoke.set_key(raw, "steps.data.sources[1].dataset", "c")
    assert raw["steps"]["data"]["sources"] == [{"dataset": "a", "options": {"m": 2}}, {"dataset": "c"}]
    for bad in ("steps.data.sources[dataset=z].options", "steps.data.nope", "steps.data.sources[5]"):
        with pytest.raises(smoke.SmokeError):
            smoke.set_key(raw, bad, 0)
    with pytest.raises(smoke.SmokeError, match="malformed"):
        smoke.parse_key("steps..data")
    assert smoke.deep_merge({"a": {"b": 1, "c": [1, 2]}}, {"a": {"c": [3]}}) == {"a": {"b": 1, "c": [3]}}


def test_left_out_sources_become_unavailable_or_leave_their_list() -> None:
    raw = {"steps": {"data": {"typed": [{"kind": "registry", "name": "x", "dataset": "x", "subdir": "x"},
                                        {"kind": "registry", "name": "y", "dataset": "y", "subdir": "y"}],
                              "plain": [{"dataset": "p", "subdir": "p"}, {"dataset": "q", "subdir": "q"}],
                              "one": {"dataset": "o", "subdir": "o"}}}}
    smoke.leave_out(raw, ["steps.data.typed[1]", "steps.data.plain[0]"], "why")
    assert raw["steps"]["data"]["typed"][1] == {"kind": "unavailable", "name": "y", "paper_name": "y",
                                                "reason": "why"}
    assert raw["steps"]["data"]["plain"] == [{"dataset": "q", "subdir": "q"}]
    with pytest.raises(smoke.SmokeError, match="not an item of a list"):
        smoke.leave_out(raw, ["steps.data.one"], "why")


# ------------------------------------------------------------------------------------------------ runner
PARAMS = """\
schema: toy_sources_schema:ToySourcesParams
shared:
  seed: 0
steps:
  data:
    sources:
      - {dataset: mimic3_wave, subdir: mimic, options: {require: [ecg_ii, ppg]}}
      - {kind: unavailable, name: mesa, paper_name: MESA, reason: "no loader (NSRR)"}
      - {dataset: georgia, subdir: cinc/georgia}
  use: {scale: 1.0}
"""


@pytest.fixture
def study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A toy study (one step printing its params file) with a paper profile and an empty smoke overlay."""
    root = tmp_path / "study"
    for d in ("params/paper", "params/smoke", "notebooks/toy"):
        (root / d).mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'toy'\n")
    (root / "params/paper/toy.yaml").write_text(PARAMS)
    (root / "params/smoke/toy.yaml").write_text("# nothing to cut in the toy study\n")
    params = new_code_cell('profile = "paper"\nparams_file = None\nartifacts = None\ndata_root = None')
    params.metadata["tags"] = ["parameters"]
    body = new_code_cell(
        "from physiofm.config import step_context\n"
        'ctx = step_context("toy", "data", profile, params_file, artifacts, data_root)\n'
        "(ctx.out / 'sources.txt').write_text(repr([s.model_dump() for s in ctx.params.sources]))\n"
        "(ctx.out / 'run.txt').write_text(f'{profile} {params_file} {ctx.out}')")
    nb = new_notebook(cells=[params, body])
    nb.metadata["physiofm"] = {"needs": []}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "notebooks/toy/01-data.ipynb")
    monkeypatch.setenv("PYTHONPATH", str(FIXTURES))
    monkeypatch.syspath_prepend(str(FIXTURES))
    monkeypatch.setenv("PHYSIOFM_ROOT", str(root))
    return root


def test_a_smoke_run_stops_on_a_failing_root_as_the_paper_profile_does(study: Path, tmp_path: Path) -> None:
    write_mimic3(tmp_path / "data" / "mimic")
    with pytest.raises(PreflightError, match=r"1 of 2 needed dataset root\(s\) failed \(georgia"):
        run("paper", only=["toy/data"], data_root=str(tmp_path / "data"), root=study, smoke=True)
    assert not (study / "build/smoke/artifacts").exists() and not (study / "build/paper").exists()
    with pytest.raises(ValueError, match="--smoke cuts the paper profile"):
        run("ci", only=["toy/data"], root=study, smoke=True)
    with pytest.raises(ValueError, match="add --smoke"):
        run("paper", only=["toy/data"], root=study, stand_ins=True)


def test_a_stand_in_smoke_run_leaves_out_failing_roots_and_builds_apart(
        study: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "data"
    write_mimic3(data / "mimic")
    outcomes = run("paper", only=["toy/data"], data_root=str(data), root=study, smoke=True, stand_ins=True)
    assert [(o.key, o.status) for o in outcomes] == [("toy/data", "ran")]
    out = capsys.readouterr().out
    assert "left out toy: georgia at steps.data.sources[2] (its dataset root fails the preflight)" in out
    written = study / "build/smoke/params/toy.yaml"
    assert "# left out: georgia at steps.data.sources[2]" in written.read_text()
    sources = load_params(written, "toy").steps.data.sources
    assert [s.model_dump().get("dataset") for s in sources] == ["mimic3_wave", None]  # georgia removed
    profile, params_file, out_dir = (study / "build/smoke/artifacts/toy/data/run.txt").read_text().split()
    assert (profile, params_file) == ("paper", str(written))  # the paper profile's code path
    assert out_dir == str(study / "build/smoke/artifacts/toy/data")
    assert (study / "build/smoke/manifest.json").is_file() and not (study / "build/paper").exists()
    assert run("paper", only=["toy/data"], data_root=str(data), root=study, smoke=True,
               stand_ins=True)[0].status == "skipped"
