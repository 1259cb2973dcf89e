"""The whole study under the `ci` profile, then its book: every step runs, every page and figure exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from physiofm.book import build_book
from physiofm.config import PAPERS
from physiofm.runner import discover, run, summary_table

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_ci_study_and_book() -> None:
    outcomes = run("ci", root=REPO)
    print(summary_table(outcomes))
    assert all(o.status in ("ran", "skipped") for o in outcomes), summary_table(outcomes)

    index = build_book("ci", root=REPO)
    html = index.parent
    for step in discover(REPO):
        assert (html / step.paper / f"{step.path.stem}.html").is_file(), f"missing page for {step.key}"
    for paper in PAPERS:
        assert (html / paper / "index.html").is_file()
    for page in html.rglob("*.html"):
        for src in re.findall(r'<img[^>]+src="([^"]+)"', page.read_text(errors="replace")):
            if not src.startswith(("http", "data:")):
                assert (page.parent / src).resolve().is_file(), f"{page}: missing figure {src}"
