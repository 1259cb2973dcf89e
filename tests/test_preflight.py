"""The preflight: dataset sources found by shape in validated params, one check per distinct root, one
table; the runner stops a ``paper``-profile run before any notebook when a needed root fails, and
``python -m physiofm check`` prints the same table with an exit code."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_notebook

from physiofm import cli
from physiofm.config import load_params
from physiofm.preflight import PreflightError, check_sources, needed_sources, preflight, sources_in
from physiofm.runner import run

sys.path.insert(0, str(Path(__file__).parent / "datasets"))
from test_ds_icu import write_mimic3  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"

PARAMS = """\
schema: toy_sources_schema:ToySourcesParams
shared:
  seed: 0
  reference: {dataset: vtac, subdir: vtac}
steps:
  data:
    sources:
      - {dataset: mimic3_wave, subdir: mimic, options: {require: [ecg_ii, ppg]}}
      - {kind: unavailable, name: mesa, paper_name: MESA, reason: "no loader (NSRR)"}
      - {dataset: georgia, subdir: cinc/georgia}
    groups:
      more: [{dataset: mimic3_wave, subdir: mimic, options: {require: [ecg_ii, ppg]}}]
  use: {scale: 1.0}
"""


@pytest.fixture
def study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "study"
    (root / "params" / "paper").mkdir(parents=True)
    (root / "notebooks" / "toy").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'toy'\n")
    (root / "params" / "paper" / "toy.yaml").write_text(PARAMS)
    for i, (step, needs) in enumerate((("data", []), ("use", ["data"])), 1):
        params = new_code_cell('profile = "paper"\nparams_file = None\nartifacts = None\ndata_root = None')
        params.metadata["tags"] = ["parameters"]
        body = new_code_cell(
            "from physiofm.config import step_context\n"
            f'ctx = step_context("toy", "{step}", profile, params_file, artifacts, data_root)\n'
            "(ctx.out / 'ran.txt').write_text(str(ctx.data_root))")
        nb = new_notebook(cells=[params, body])
        nb.metadata["physiofm"] = {"needs": needs}
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, root / "notebooks" / "toy" / f"0{i}-{step}.ipynb")
    monkeypatch.setenv("PYTHONPATH", str(FIXTURES))
    monkeypatch.syspath_prepend(str(FIXTURES))
    monkeypatch.setenv("PHYSIOFM_ROOT", str(root))
    return root


def test_sources_are_found_by_shape_merged_and_attributed(study: Path) -> None:
    params = {"toy": load_params(study / "params/paper/toy.yaml", "toy")}
    assert [w for w, _ in sources_in(params["toy"].steps.data, "steps.data")] == [
        "steps.data.sources[0]", "steps.data.sources[1]", "steps.data.sources[2]",
        "steps.data.groups.more[0]"]
    found = needed_sources(params, ["toy/data", "toy/use"])
    assert [(s.dataset, s.subdir, s.options, s.unavailable) for s in found] == [
        ("mimic3_wave", "mimic", {"require": ["ecg_ii", "ppg"]}, None),
        ("MESA", None, {}, "no loader (NSRR)"),
        ("georgia", "cinc/georgia", {}, None),
        ("vtac", "vtac", {}, None),
    ]
    assert found[0].readers == ["toy/data (steps.data.sources[0])", "toy/data (steps.data.groups.more[0])"]
    assert found[3].readers == ["toy/data (shared.reference)"]
    assert [s.dataset for s in needed_sources(params, ["toy/use"])] == ["vtac"]  # shared only


def test_table_lists_every_root_with_status_and_what_is_missing(study: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_mimic3(data / "mimic")
    (data / "cinc" / "georgia").mkdir(parents=True)
    report = preflight("paper", data, ["toy/data"], root=study, progress=False)
    assert [(r.source.dataset, r.status) for r in report.rows] == [
        ("mimic3_wave", "ok"), ("MESA", "unavailable"), ("georgia", "missing"), ("vtac", "missing")]
    assert [r.source.dataset for r in report.failed] == ["georgia", "vtac"] and not report.ok
    lines = report.table().splitlines()
    assert lines[0] == f"data root: {data}"
    assert lines[1].split() == ["dataset", "path", "status", "missing", "/", "problem", "read", "by"]
    row = {ln.split()[0]: ln for ln in lines[3:-1]}
    assert "ok" in row["mimic3_wave"].split()
    assert "record p000020/3544749_0001 read (2 indexed in p00/p000020)" in row["mimic3_wave"]
    assert row["mimic3_wave"].startswith("mimic3_wave (require=[ecg_ii, ppg])")
    assert row["MESA"].split()[1:4] == ["-", "unavailable", "no"]
    assert row["georgia"].split()[1:4] == ["cinc/georgia", "missing", "**/*.hea"]
    assert row["vtac"].split()[1:4] == ["vtac", "missing", "vtac/"] and row["vtac"].endswith("toy/data")
    assert lines[-1] == ("preflight: 2 of 3 needed dataset root(s) failed (georgia, vtac; see the table); "
                         "1 source(s) marked unavailable in the params (not checked)")


def test_no_data_root_is_an_error_naming_the_steps(study: Path) -> None:
    params = {"toy": load_params(study / "params/paper/toy.yaml", "toy")}
    with pytest.raises(PreflightError, match=r"--data-root is required: the selected steps \(toy/data\) read "
                                             r"3 dataset root\(s\) from it \(mimic3_wave, georgia, vtac\)"):
        check_sources(needed_sources(params, ["toy/data"]), None)
    assert check_sources([], None).ok  # nothing read, nothing needed


def test_paper_run_stops_before_any_notebook_and_prints_the_table(study: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(PreflightError, match="--data-root is required"):
        run("paper", only=["toy/use"], root=study)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PreflightError, match=r"3 of 3 needed dataset root\(s\) failed .*no notebook was"):
        run("paper", only=["toy/use"], data_root=str(empty), root=study)
    out = capsys.readouterr().out
    assert "mimic/ (folder)" in out and "cinc/georgia/ (folder)" in out and "vtac/ (folder)" in out
    assert not (study / "build").exists(), "no notebook may start when a needed dataset fails"
    assert cli.main(["run", "--profile", "paper", "--only", "toy/data", "--data-root", str(empty)]) == 2
    assert not (study / "build").exists()


def test_check_command_exit_codes(study: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "data"
    assert cli.main(["check", "--only", "toy/data"]) == 2
    assert "--data-root is required" in capsys.readouterr().err
    assert cli.main(["check", "--only", "toy/data", "--data-root", str(data)]) == 1
    assert "3 of 3 needed dataset root(s) failed" in capsys.readouterr().out
    (study / "params/paper/toy.yaml").write_text(
        PARAMS.replace("  reference: {dataset: vtac, subdir: vtac}\n", "").replace(
            "      - {dataset: georgia, subdir: cinc/georgia}\n", ""))
    write_mimic3(data / "mimic")
    assert cli.main(["check", "--only", "toy/data", "--data-root", str(data)]) == 0
    assert "preflight: all 1 needed dataset root(s) are ok" in capsys.readouterr().out
    assert cli.main(["check", "--only", "toy/nope", "--data-root", str(data)]) == 2


def test_a_paper_run_whose_roots_pass_starts_its_notebooks(study: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_mimic3(data / "mimic")
    (study / "params/paper/toy.yaml").write_text(
        PARAMS.replace("  reference: {dataset: vtac, subdir: vtac}\n", "").replace(
            "      - {dataset: georgia, subdir: cinc/georgia}\n", ""))
    outcomes = run("paper", only=["toy/data"], data_root=str(data), root=study)
    assert [(o.key, o.status) for o in outcomes] == [("toy/data", "ran")]
    assert (study / "build/paper/artifacts/toy/data/ran.txt").read_text() == str(data)


def _raw_sources(x) -> int:
    if isinstance(x, dict):
        if ("dataset" in x and "subdir" in x) or x.get("kind") == "unavailable":
            return 1
        return sum(_raw_sources(v) for v in x.values())
    if isinstance(x, list):
        return sum(_raw_sources(v) for v in x)
    return 0


@pytest.mark.parametrize("path", sorted((REPO / "params" / "paper").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_source_of_every_paper_profile_is_found(path: Path) -> None:
    """The walker finds in the validated params every source the YAML file holds (any paper, any key)."""
    params = load_params(path, path.stem)
    steps = [f"{path.stem}/{s}" for s in type(params.steps).model_fields]
    found = needed_sources({path.stem: params}, steps)
    assert sum(len(s.readers) for s in found) == _raw_sources(yaml.safe_load(path.read_text()))


def test_the_issue_case_anyppg_data_on_an_empty_root_stops_with_the_whole_table(tmp_path, capsys) -> None:
    """Issue 17: ``run --profile paper --only anyppg/data`` on an empty data root used to start the notebook
    and fail inside it with one dataset's error; now every root is listed and no notebook starts."""
    params = {"anyppg": load_params(REPO / "params/paper/anyppg.yaml", "anyppg")}
    sources = needed_sources(params, ["anyppg/data"])
    executed = REPO / "build/paper/notebooks/anyppg"
    before = {p: p.stat().st_mtime_ns for p in executed.glob("*.ipynb")}
    with pytest.raises(PreflightError, match=r"no notebook was started"):
        run("paper", only=["anyppg/data"], data_root=str(tmp_path), root=REPO)
    table = capsys.readouterr().out
    for s in sources:
        assert (f"{s.subdir}/ (folder)" if s.unavailable is None else s.unavailable) in table
    assert {p: p.stat().st_mtime_ns for p in executed.glob("*.ipynb")} == before
