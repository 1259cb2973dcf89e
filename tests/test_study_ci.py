"""The whole study under the `ci` profile, then its book: every step runs, every page and figure exists, and
every page reads right in a real browser (headless Chromium)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from book_browser import check_book, chromium
from physiofm.book import build_book
from physiofm.config import PAPERS
from physiofm.runner import discover, run, summary_table

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ci_book() -> Path:
    """The ci study run (up-to-date steps are skipped) and its book built; the ``index.html`` path."""
    outcomes = run("ci", root=REPO)
    print(summary_table(outcomes))
    assert all(o.status in ("ran", "skipped") for o in outcomes), summary_table(outcomes)
    return build_book("ci", root=REPO)


@pytest.mark.slow
def test_ci_study_and_book(ci_book: Path) -> None:
    html = ci_book.parent
    for step in discover(REPO):
        assert (html / step.paper / f"{step.path.stem}.html").is_file(), f"missing page for {step.key}"
    for paper in PAPERS:
        assert (html / paper / "index.html").is_file()
    for f in html.rglob("*"):  # pages, the notebooks a reader can download, search index
        if f.suffix in (".html", ".ipynb", ".js", ".txt", ".md"):
            assert str(REPO) not in f.read_text(errors="replace"), f"{f}: holds this machine's path {REPO}"
    for page in html.rglob("*.html"):
        for src in re.findall(r'<img[^>]+src="([^"]+)"', page.read_text(errors="replace")):
            if not src.startswith(("http", "data:")):
                assert (page.parent / src).resolve().is_file(), f"{page}: missing figure {src}"


def need_chromium() -> None:
    if chromium() is None:
        message = ("Debian's chromium and chromium-driver are not installed; the browser check of the book "
                   "needs them (apt-get install -y chromium chromium-driver)")
        if os.environ.get("CI"):
            pytest.fail(message + " - .ci/run installs them")
        pytest.skip(message)


@pytest.mark.slow
def test_ci_book_in_a_browser(ci_book: Path) -> None:
    need_chromium()
    html = ci_book.parent
    steps = discover(REPO)
    notebook_pages = {f"{s.paper}/{s.path.stem}.html" for s in steps}
    parts = set(PAPERS) | {s.paper for s in steps}
    toc_pages = notebook_pages | {f"{p}/index.html" for p in parts}
    problems = check_book(html, REPO / "build" / "ci" / "screenshots", notebook_pages, toc_pages)
    assert not problems, "\n".join(problems)
    assert len(list((REPO / "build/ci/screenshots").glob("*.png"))) >= len(toc_pages) + 1
    landing = ci_book.read_text()
    direct = ("torch", "numpy", "scipy", "pandas", "scikit-learn", "papermill", "jupyter-book", "tokenizers")
    for pkg in direct:
        assert f"<td><p>{pkg}</p></td>" in landing, f"the landing page does not list {pkg}"
