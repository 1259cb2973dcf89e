"""The papermill runner on a small toy study: skip when unchanged, --force, failure isolation, validation."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from physiofm.config import ParamsError, load_params, step_context
from physiofm.runner import (
    Manifest,
    _exclusive,
    available_cores,
    critical_path,
    discover,
    run,
    select,
    summary_table,
)

FIXTURES = Path(__file__).parent / "fixtures"

PARAMS = """\
schema: toy_schema:ToyParams
shared: {seed: 1}
steps:
  make: {n: 5}
  use: {scale: 2.0}
  boom: {fail: true}
  after: {scale: 1.0}
"""

HEADER = "import json\nfrom physiofm.config import step_context\n"


def _notebook(step: str, body: str, needs: list[str]) -> nbformat.NotebookNode:
    params = new_code_cell(
        'profile = "ci"\nparams_file = None\nartifacts = None\ndata_root = None\ntorch_threads = None'
    )
    params.metadata["tags"] = ["parameters"]
    ctx = new_code_cell(
        HEADER + f'ctx = step_context("toy", "{step}", profile, params_file, artifacts, data_root)'
    )
    nb = new_notebook(cells=[new_markdown_cell(f"# {step}"), params, ctx, new_code_cell(body)])
    nb.metadata["physiofm"] = {"needs": needs}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture
def study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "study"
    (root / "params" / "ci").mkdir(parents=True)
    (root / "notebooks" / "toy").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'toy'\n")
    (root / "params" / "ci" / "toy.yaml").write_text(PARAMS)
    nbs = {
        "01-make": _notebook(
            "make", "(ctx.out / 'data.json').write_text(json.dumps(list(range(ctx.params.n))))", []
        ),
        "02-use": _notebook(
            "use",
            "xs = json.loads((ctx.input('make') / 'data.json').read_text())\n"
            "(ctx.out / 'sum.txt').write_text(str(sum(xs) * ctx.params.scale))",
            ["make"],
        ),
        "03-boom": _notebook(
            "boom", "if ctx.params.fail:\n    raise RuntimeError('planted failure')", ["make"]
        ),
        "04-after": _notebook("after", "(ctx.out / 'ok.txt').write_text('ok')", ["boom"]),
    }
    for name, nb in nbs.items():
        nbformat.write(nb, root / "notebooks" / "toy" / f"{name}.ipynb")
    monkeypatch.setenv("PYTHONPATH", str(FIXTURES))
    monkeypatch.syspath_prepend(str(FIXTURES))
    monkeypatch.setenv("PHYSIOFM_ROOT", str(root))
    return root


def _status(outcomes) -> dict[str, str]:
    return {o.key: o.status for o in outcomes}


def test_discover_and_select(study: Path) -> None:
    steps = discover(study)
    assert [s.key for s in steps] == ["toy/make", "toy/use", "toy/boom", "toy/after"]
    assert [s.key for s in select(steps, ["toy/use"])] == ["toy/make", "toy/use"]
    assert [s.key for s in select(steps, ["toy/after"])] == ["toy/make", "toy/boom", "toy/after"]
    with pytest.raises(ValueError, match="no such paper or step") as e:
        select(steps, ["toy/nope"])
    assert "known papers: toy" in str(e.value) and "toy/make, toy/use, toy/boom, toy/after" in str(e.value)
    with pytest.raises(ValueError, match=r"known papers: toy; known steps: toy/make"):
        run("ci", only=["nosuch"], root=study)


def test_run_skip_force_and_failure_isolation(study: Path, capsys: pytest.CaptureFixture) -> None:
    first = run("ci", root=study)
    assert _status(first) == {
        "toy/make": "ran",
        "toy/use": "ran",
        "toy/boom": "failed",
        "toy/after": "blocked",
    }
    err = capsys.readouterr().err
    assert "planted failure" in err and "partially executed notebook" in err
    assert (study / "build/ci/notebooks/toy/03-boom.ipynb").is_file()
    assert (study / "build/ci/artifacts/toy/use/sum.txt").read_text() == "20.0"
    table = summary_table(first)
    assert "toy/boom" in table and "failed" in table and "blocked" in table

    # Nothing changed: the successful steps are skipped, the failed one is tried again.
    second = run("ci", only=["toy/use"], root=study)
    assert _status(second) == {"toy/make": "skipped", "toy/use": "skipped"}

    # --force reruns.
    assert set(_status(run("ci", only=["toy/use"], force=True, root=study)).values()) == {"ran"}

    # A params change of one step reruns that step only; an upstream artifact change reruns its users.
    p = study / "params/ci/toy.yaml"
    p.write_text(PARAMS.replace("scale: 2.0", "scale: 3.0"))
    assert _status(run("ci", only=["toy/use"], root=study)) == {"toy/make": "skipped", "toy/use": "ran"}
    assert (study / "build/ci/artifacts/toy/use/sum.txt").read_text() == "30.0"
    p.write_text(PARAMS.replace("n: 5", "n: 6").replace("scale: 2.0", "scale: 3.0"))
    assert _status(run("ci", only=["toy/use"], root=study)) == {"toy/make": "ran", "toy/use": "ran"}

    # Fixing the failure lets the blocked step run.
    p.write_text(PARAMS.replace("fail: true", "fail: false"))
    out = _status(run("ci", only=["toy/after"], root=study))
    assert out["toy/boom"] == "ran" and out["toy/after"] == "ran"
    manifest = json.loads((study / "build/ci/manifest.json").read_text())
    assert manifest["toy/after"]["status"] == "ok"


def test_notebook_source_change_reruns(study: Path) -> None:
    run("ci", only=["toy/make"], root=study)
    nb_path = study / "notebooks/toy/01-make.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.append(new_code_cell("x = 1"))
    nbformat.write(nb, nb_path)
    assert _status(run("ci", only=["toy/make"], root=study)) == {"toy/make": "ran"}


@pytest.mark.parametrize(
    "edit, expected",
    [
        (("n: 5", "n: 5, extra: 1"), r"steps\.make\.extra: Extra inputs are not permitted"),
        (("n: 5", "n: five"), r"steps\.make\.n: Input should be a valid integer"),
        (("n: 5", "n: 0"), r"steps\.make\.n: Input should be greater than or equal to 1 \(got 0\)"),
        (("seed: 1", "seed: -3"), r"shared\.seed: Input should be greater than or equal to 0"),
        (("  after: {scale: 1.0}\n", ""), r"steps\.after: Field required"),
    ],
)
def test_params_validation_errors_name_file_and_key(study: Path, edit, expected) -> None:
    p = study / "params/ci/toy.yaml"
    p.write_text(PARAMS.replace(*edit))
    with pytest.raises(ParamsError, match=expected) as e:
        run("ci", root=study)
    assert str(p) in str(e.value)
    assert not (study / "build/ci/notebooks").exists(), "no notebook may start when params are invalid"


def test_malformed_yaml_and_missing_file(study: Path) -> None:
    p = study / "params/ci/toy.yaml"
    p.write_text("shared: [unclosed")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(p, "toy")
    with pytest.raises(ParamsError, match="params file not found"):
        load_params(study / "params/ci/nope.yaml")


def test_step_context_defaults_to_demo_profile(study: Path) -> None:
    shutil.copytree(study / "params/ci", study / "params/demo")
    ctx = step_context("toy", "use")
    assert ctx.profile == "demo" and ctx.params.scale == 2.0 and ctx.shared.seed == 1
    assert ctx.out == study / "build/demo/artifacts/toy/use" and ctx.out.is_dir()
    with pytest.raises(FileNotFoundError, match="needs the artifacts of step 'make'"):
        ctx.input("make")


def test_tidy_progress_output_keeps_final_bar_state(tmp_path: Path) -> None:
    from nbformat.v4 import new_output

    from physiofm.runner import tidy_progress_output

    cell = new_code_cell("work()")
    cell.outputs = [
        new_output("stream", name="stderr", text="/x/tqdm/auto.py:21: TqdmWarning: IProgress not found.\n"),
        new_output("stream", name="stderr", text="\rfeat:   0%|  | 0/2"),
        new_output("stream", name="stderr", text="\rfeat:  50%|# | 1/2"),
        new_output("stream", name="stdout", text="result 7\n"),
        new_output("stream", name="stderr", text="\rfeat: 100%|##| 2/2\n"),
    ]
    path = tmp_path / "nb.ipynb"
    nbformat.write(new_notebook(cells=[cell]), path)
    tidy_progress_output(path)
    outs = nbformat.read(path, as_version=4).cells[0].outputs
    assert [(o.name, o.text) for o in outs] == [
        ("stderr", "feat:  50%|# | 1/2"),
        ("stdout", "result 7\n"),
        ("stderr", "feat: 100%|##| 2/2\n"),
    ]


PARALLEL = """\
schema: toy_schema:ToyParams
shared: {seed: 1}
steps:
  make: {n: 3}
  use: {scale: 1.0}
  boom: {fail: true}
  after: {scale: 1.0}
"""

SPAN = (
    "import os, time\nt0 = time.time()\ntime.sleep(2.0)\n"
    "(ctx.out / 'span.json').write_text(json.dumps([t0, time.time(), torch_threads, os.getcwd(),\n"
    "                                                os.environ.get('PHYSIOFM_ROOT')]))"
)


def test_jobs_overlap_independent_steps_and_keep_failures_isolated(study: Path, capsys) -> None:
    """use and boom both need only make: with 2 jobs they run at once; boom's failure blocks only after"""
    (study / "params/ci/toy.yaml").write_text(PARALLEL)
    boom = "\nraise RuntimeError('planted failure')"
    for name, step, extra in [("02-use", "use", ""), ("03-boom", "boom", boom)]:
        nbformat.write(_notebook(step, SPAN + extra, ["make"]), study / "notebooks/toy" / f"{name}.ipynb")
    here = os.getcwd()
    outcomes = run("ci", root=study, jobs=2)
    assert os.getcwd() == here, "a parallel run changed the runner's working directory"
    assert _status(outcomes) == {
        "toy/make": "ran", "toy/use": "ran", "toy/boom": "failed", "toy/after": "blocked"
    }
    assert [o.key for o in outcomes] == ["toy/make", "toy/use", "toy/boom", "toy/after"]
    use = json.loads((study / "build/ci/artifacts/toy/use/span.json").read_text())
    boom = json.loads((study / "build/ci/artifacts/toy/boom/span.json").read_text())
    assert max(use[0], boom[0]) < min(use[1], boom[1]), "independent steps did not overlap with --jobs 2"
    assert use[2] == boom[2] == max(1, available_cores() // 2)
    # each kernel starts in its notebook's folder and knows the study root
    assert use[3] == boom[3] == str(study / "notebooks" / "toy")
    assert use[4] == boom[4] == str(study)
    out = capsys.readouterr()
    assert "2 at a time" in out.out and "planted failure" in out.err
    manifest = json.loads((study / "build/ci/manifest.json").read_text())
    assert {k: v["status"] for k, v in manifest.items()} == {
        "toy/make": "ok", "toy/use": "ok", "toy/boom": "failed"
    }
    assert "\r" not in out.out + out.err and "%|" not in out.out + out.err, "a progress bar leaked"


def test_one_job_runs_in_step_order_with_all_cores(study: Path) -> None:
    (study / "params/ci/toy.yaml").write_text(PARALLEL.replace("fail: true", "fail: false"))
    for name, step, needs in [("02-use", "use", ["make"]), ("03-boom", "boom", ["make"])]:
        nbformat.write(_notebook(step, SPAN, needs), study / "notebooks/toy" / f"{name}.ipynb")
    run("ci", only=["toy/use", "toy/boom"], root=study, jobs=1)
    use = json.loads((study / "build/ci/artifacts/toy/use/span.json").read_text())
    boom = json.loads((study / "build/ci/artifacts/toy/boom/span.json").read_text())
    assert use[1] <= boom[0] and use[2] == available_cores()


def test_a_second_run_of_the_same_profile_is_refused(study: Path) -> None:
    with _exclusive(study / "build/ci"):
        with pytest.raises(RuntimeError, match="another run of this profile is in progress"):
            run("ci", only=["toy/make"], root=study)
    with _exclusive(study / "build/ci"):  # released when the first holder is done
        pass


def test_longest_remaining_chain_starts_first(study: Path, tmp_path: Path) -> None:
    manifest = Manifest(tmp_path / "manifest.json")
    manifest.entries = {"toy/make": {"seconds": 1.0}, "toy/use": {"seconds": 10.0},
                        "toy/boom": {"seconds": 2.0}, "toy/after": {"seconds": 30.0}}
    chain = critical_path(discover(study), manifest)
    assert chain == {"toy/make": 33.0, "toy/use": 10.0, "toy/boom": 32.0, "toy/after": 30.0}


def test_terminal_text_collapses_nested_progress_bars() -> None:
    """tqdm's nested bars move the cursor with newlines and ESC[A; the book shows their final state only."""
    import io

    from tqdm import tqdm

    from physiofm.runner import terminal_text

    stream = io.StringIO()
    for i in tqdm(range(3), desc="outer", file=stream, mininterval=0):
        for _ in tqdm(range(4), desc=f"inner{i}", file=stream, leave=False, mininterval=0, miniters=1):
            pass
    assert stream.getvalue().count("inner") > 6  # every update was written
    shown = terminal_text(stream.getvalue()).splitlines()
    assert len(shown) == 1 and shown[0].startswith("outer: 100%")
    assert terminal_text("a\rb\nwarning: x\n\x1b[32mc\x1b[0m\n") == "b\nwarning: x\nc\n"
