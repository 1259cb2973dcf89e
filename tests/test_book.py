"""The book assembler and Sphinx build on a small study tree (the full ci study is tests/test_study_ci.py)."""

from __future__ import annotations

import re
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
