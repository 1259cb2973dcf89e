"""params/published/syneco.yaml holds only numbers the SyneCo paper prints, in the rows it prints them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "params" / "published" / "syneco.yaml"
PAPER = ROOT / ".." / "shared" / "papers" / "000_c90ba5d5c20ac612.txt"
RESULT_TABLES = ("table_1", "table_2", "table_3", "table_e1", "table_e2")


@pytest.fixture(scope="module")
def paper() -> str:
    if not PAPER.exists():
        pytest.skip(f"paper text not found at {PAPER}")
    return PAPER.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def published() -> dict:
    return yaml.safe_load(PUBLISHED.read_text(encoding="utf-8"))


def _raw_scalars(node: yaml.Node, path: tuple[str, ...] = ()):
    """(path, raw text) of every scalar leaf, as written in the file (so 4.930 keeps its trailing zero)."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _raw_scalars(value, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            yield from _raw_scalars(value, (*path, str(i)))
    else:
        yield path, node.value


def _printed_forms(raw: str) -> set[str]:
    forms = {raw}
    if re.fullmatch(r"\d+", raw):
        forms.add(f"{int(raw):,}")
    elif m := re.fullmatch(r"\d+\.(\d+)", raw):
        forms.add(f"{float(raw):,.{len(m.group(1))}f}")
    return forms


def test_every_number_occurs_in_the_paper(paper: str) -> None:
    root = yaml.compose(PUBLISHED.read_text(encoding="utf-8"))
    checked = 0
    for path, raw in _raw_scalars(root):
        if path[0] == "meta" or raw in ("null", "~", ""):
            continue
        assert re.fullmatch(r"\d+(\.\d+)?", raw), f"{'/'.join(path)}: non-numeric value {raw!r}"
        forms = _printed_forms(raw)
        found = any(re.search(rf"(?<![\d.,]){re.escape(f)}(?![\d,]|\.\d)", paper) for f in forms)
        assert found, f"{'/'.join(path)} = {raw} does not occur in the paper text"
        checked += 1
    assert checked >= 150


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


@pytest.mark.parametrize("table", RESULT_TABLES)
def test_rows_rebuild_from_the_paper(paper: str, published: dict, table: str) -> None:
    """Each method's row, rebuilt in the printed column order, is a line of the paper's table."""
    columns = published["meta"]["columns"][table]
    labels = published["meta"]["method_labels"]
    data = published[table]
    assert set(data) == set(columns)
    methods = list(data[columns[0]])
    lines = set(paper.splitlines())
    for method in methods:
        values = []
        for task in columns:
            (metric_value,) = data[task][method].values()
            values.append(_fmt(metric_value))
        row = "\t".join([labels[method], *values])
        assert row in lines, f"{table}: row {row!r} not found in the paper"


def test_table_b_rows(paper: str, published: dict) -> None:
    split_labels = {"pretrain": "Pretrain", "validation": "Validation", "test": "Test (held out)"}
    lines = paper.splitlines()
    for db, splits in published["table_b"].items():
        for split, f in splits.items():
            hours = f"{f['hours']:,.1f}" if isinstance(f["hours"], float) else f"{f['hours']:,}"
            cap = "–" if f["cap_per_record"] is None else f"{f['cap_per_record']:,}"
            row = "\t".join(
                [
                    split_labels[split],
                    f"{f['subjects']:,}",
                    f"{f['records']:,}",
                    f"{f['segments']:,}",
                    hours,
                    cap,
                ]
            )
            assert any(line.endswith(row) for line in lines), (
                f"table_b/{db}/{split}: {row!r} not in the paper"
            )


def test_text_numbers_in_context(paper: str, published: dict) -> None:
    text = published["text"]
    assert "super5 0.732 to 0.739" in paper and text["ptbxl_super5"]["sleepfm_2mod"]["lr_auroc"] == 0.732
    assert "sub23 0.733" in paper and text["ptbxl_sub23"]["sleepfm_2mod"]["lr_auroc"] == 0.733
    assert "Stack reaches MAE 10.09 compared to 4.87 for SyneCo" in paper
    assert "and SleepFM 2mod (7.74)" in paper and text["dalia_hr"]["sleepfm_2mod"]["rf_mae"] == 7.74
    assert "SleepFM LOO by 7.88 percentage points and SleepFM Pair by 9.44 percentage points" in paper
    assert "a gap of 10.21 percentage points" in paper
