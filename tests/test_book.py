"""The book assembler and Sphinx build on a small study tree (the full ci study is tests/test_study_ci.py)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from physiofm.book import assemble, build_book
from physiofm.config import PAPERS

PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "study"
    for d in ("params/ci", "notebooks/syneco", "book", "build/ci/notebooks/syneco"):
        (root / d).mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname='x'\n")
    (root / "params/ci/syneco.yaml").write_text("shared: {seed: 0}\nsteps: {}\n")
    (root / "book/intro.md").write_text("# Landing\n\nHello.\n")
    (root / "book/datasets.md").write_text("# Datasets\n\nSee the [landing page](index.md).\n")
    src = new_notebook(cells=[new_markdown_cell("# SyneCo data"), new_code_cell("1")])
    nbformat.write(src, root / "notebooks/syneco/01-data.ipynb")
    cell = new_code_cell("plot()")
    cell.outputs = [new_output("display_data", data={"image/png": PNG_1PX, "text/plain": "<Figure>"})]
    done = new_notebook(cells=[new_markdown_cell("# SyneCo data"), cell])
    done.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(done, root / "build/ci/notebooks/syneco/01-data.ipynb")
    (root / "build/ci/manifest.json").write_text('{"syneco/data": {"status": "ok", "seconds": 1.5}}')
    return root


def test_book_has_every_page_and_figure(tree: Path) -> None:
    index = build_book("ci", root=tree)
    html = index.parent
    landing = index.read_text()
    assert "syneco/data" in landing and "git revision" in landing and "ci" in landing
    assert (html / "syneco/01-data.html").is_file() and (html / "datasets.html").is_file()
    for paper in PAPERS:
        assert (html / paper / "index.html").is_file()
    assert "Not yet reproduced" in (html / "anyppg/index.html").read_text()
    assert "Not yet reproduced" not in (html / "syneco/index.html").read_text()
    assert "params/ci/syneco.yaml" in (html / "appendix_params.html").read_text()
    for page in html.rglob("*.html"):
        for src in re.findall(r'<img[^>]+src="([^"]+)"', page.read_text()):
            if not src.startswith(("http", "data:")):
                assert (page.parent / src).resolve().is_file(), f"{page}: missing figure {src}"
    assert re.search(r'<img[^>]+src="[^"]+\.png"', (html / "syneco/01-data.html").read_text())


def test_broken_reference_fails_the_build(tree: Path) -> None:
    (tree / "book/datasets.md").write_text(
        "# Datasets\n\nSee [nowhere](no-such-page.md) and {ref}`no-label`.\n"
    )
    with pytest.raises(RuntimeError, match="book build failed"):
        build_book("ci", root=tree)


def test_unexecuted_notebook_is_a_missing_page(tree: Path) -> None:
    (tree / "build/ci/notebooks/syneco/01-data.ipynb").unlink()
    with pytest.raises(FileNotFoundError, match="missing page: syneco/01-data.ipynb"):
        assemble("ci", root=tree)


def test_pages_are_prepared_for_readers(tree: Path) -> None:
    """Parameters cells go, code folds, machine paths are scrubbed from outputs and metadata."""
    nb_path = tree / "build/ci/notebooks/syneco/01-data.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    params = new_code_cell('params_file = "/tmp/pytest-x/study/params/ci/syneco.yaml"')
    params.metadata["tags"] = ["injected-parameters"]
    printed = new_code_cell("print(ctx.out)")
    printed.outputs = [new_output("stream", name="stdout", text=f"artifacts in {tree}/build/ci/artifacts\n"
                                  f"cache /tmp/pytest-of-root/x/cache.npy; env {sys.prefix}/lib\n")]
    nb.cells[1:1] = [params, printed]
    nb.metadata["papermill"] = {"input_path": str(tree / "notebooks/syneco/01-data.ipynb")}
    nbformat.write(nb, nb_path)
    src = assemble("ci", root=tree)
    page = nbformat.read(src / "syneco/01-data.ipynb", as_version=4)
    code = [c for c in page.cells if c.cell_type == "code"]
    assert code[0].metadata["tags"] == ["injected-parameters", "remove-cell"]
    assert code[0].source == 'params_file = "…/syneco.yaml"'
    assert all("hide-input" in c.metadata["tags"] for c in code[1:])
    assert code[1].outputs[0].text == "artifacts in build/ci/artifacts\ncache …/cache.npy; env <venv>/lib\n"
    assert page.metadata["papermill"]["input_path"] == "notebooks/syneco/01-data.ipynb"
    assert code[2].outputs[0].data["image/png"] == PNG_1PX


def test_browser_check_finds_what_a_reader_would(tree: Path, tmp_path: Path) -> None:
    """Plant one of each problem the browser check looks for; it must name each, and nothing else."""
    from book_browser import check_book, chromium

    if chromium() is None:
        pytest.skip("Debian's chromium and chromium-driver are not installed "
                    "(apt-get install -y chromium chromium-driver)")
    (tree / "book/datasets.md").write_text(
        "# Datasets\n\n<a href=\"nowhere.html\">gone</a>\n\n<img src=\"missing.png\" alt=\"missing\"/>\n\n"
        "<p>See {doc}`raw`.</p>\n\n<script>window.noSuchFunction();</script>\n\n"
        f"<pre style=\"overflow-x: hidden\">{'x' * 400}</pre>\n"
    )
    nb_path = tree / "build/ci/notebooks/syneco/01-data.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    failed = new_code_cell("1 / 0")
    failed.outputs = [new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                 traceback=["Traceback (most recent call last)", "ZeroDivisionError"])]
    nb.cells.append(failed)
    nbformat.write(nb, nb_path)
    html = build_book("ci", root=tree).parent
    problems = check_book(html, tmp_path / "shots", {"syneco/01-data.html"},
                          {"syneco/01-data.html", "nosuch/page.html"})
    expected = [
        "datasets.html: broken link nowhere.html",
        "datasets.html: image did not load",
        "datasets.html: browser console error",
        "datasets.html: unrendered role '{doc}`'",
        "datasets.html: wide content is clipped",
        "syneco/01-data.html: shows a Python traceback",
        "syneco/01-data.html: figure without a caption",
        "index.html: the table of contents does not reach nosuch/page.html",
    ]
    for e in expected:
        assert any(p.startswith(e) for p in problems), f"not found: {e}\n" + "\n".join(problems)
    unexpected = [p for p in problems if not any(p.startswith(e) for e in expected)]
    assert not unexpected, "\n".join(unexpected)
    assert (tmp_path / "shots/syneco__01-data.png").is_file()
