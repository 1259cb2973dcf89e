"""params/published/dbeta.yaml holds only numbers the D-BETA paper prints, in the rows it prints them; the
aggregates and the paper's internal contradictions recorded there are checked against its own tables."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from physiofm.evaluation.published import flatten_published

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "params" / "published" / "dbeta.yaml"
PAPER = ROOT / ".." / "shared" / "papers" / "004_c26bc479e8d3a386.txt"


@pytest.fixture(scope="module")
def paper() -> str:
    if not PAPER.exists():
        pytest.skip(f"paper text not found at {PAPER}")
    return PAPER.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def lines(paper: str) -> list[str]:
    return paper.splitlines()


@pytest.fixture(scope="module")
def published() -> dict:
    return yaml.safe_load(PUBLISHED.read_text(encoding="utf-8"))


def _raw_scalars(node: yaml.Node, path: tuple[str, ...] = ()):
    """(path, raw text) of every scalar leaf as written in the file (84.50 keeps its trailing zero)."""
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
    return forms


def test_every_number_occurs_in_the_paper(paper: str) -> None:
    flat = re.sub(r"\s+", " ", paper)
    checked = 0
    for path, raw in _raw_scalars(yaml.compose(PUBLISHED.read_text(encoding="utf-8"))):
        if path[0] == "meta" or raw in ("null", "~", ""):
            continue
        if path[-1] == "statement":
            assert raw in flat, f"{'/'.join(path)}: statement not in the paper"
            continue
        assert re.fullmatch(r"\d+(\.\d+)?", raw), f"{'/'.join(path)}: non-numeric value {raw!r}"
        forms = _printed_forms(raw)
        found = any(re.search(rf"(?<![\d.,]){re.escape(f)}(?![\d,]|\.\d)", paper) for f in forms)
        assert found, f"{'/'.join(path)} = {raw} does not occur in the paper text"
        checked += 1
    assert checked >= 12 * 18 + 2 * 7 + 12 * 6 + 7 * 10 + 5 + 3 * 20


def _cells(values) -> str:
    return "\t".join("—" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v) for v in values)


def _in_table(lines: list[str], caption: str, row: str, span: int = 40) -> bool:
    start = next(i for i, line in enumerate(lines) if line.startswith(caption))
    return row in lines[start : start + span] or row in lines[max(0, start - span) : start]


def test_table_1_rows(published, lines):
    meta, t1 = published["meta"], published["table_1"]
    cols, labels = meta["columns"]["table_1"], meta["row_labels"]
    assert list(t1["physionet2021_dx"]) == list(t1["physionet2021_id"])
    for method in t1["physionet2021_dx"]:
        dx = "\t".join(f"{t1['physionet2021_dx'][method][c]:.1f}" for c in cols)
        idn = "\t".join(f"{t1['physionet2021_id'][method][c]:.1f}" for c in cols)
        i = lines.index(f"{labels[method]}\tDx.\t{dx}")
        assert lines[i + 1] == f"\tId.\t{idn}", method


def test_table_2_rows(published, lines):
    meta, t2 = published["meta"], published["table_2"]
    tasks, labels = meta["columns"]["table_2"], meta["row_labels"]
    assert set(t2) == set(tasks)
    methods = list(t2[tasks[0]])
    assert len(methods) == 12 and methods[-1] == "dbeta"
    for m in methods:
        values = [t2[t][m][k] for t in tasks for k in ("lp_1", "lp_10", "lp_100")]
        assert _in_table(lines, "Table 2. Performance", f"{labels[m]}\t{_cells(values)}"), m


def test_table_3_rows_and_averages(published, lines):
    tasks, t3 = published["meta"]["columns"]["table_3"], published["table_3"]
    labels = published["meta"]["method_labels"]
    for m in ("merl", "dbeta"):
        row = "\t".join([labels[m], *(f"{t3[t][m]['zs_auroc']:.1f}" for t in tasks)])
        assert _in_table(lines, "Table 3. Zero-shot", row, 8), m
    mean = {m: np.mean([t3[t][m]["zs_auroc"] for t in tasks[:-1]]) for m in ("merl", "dbeta")}
    # MERL's printed average is its row mean rounded half up (451.5 / 6 = 75.25 -> 75.3) ...
    assert abs(mean["merl"] - t3["average"]["merl"]["zs_auroc"]) <= 0.05 + 1e-9
    # ... D-BETA's (77.1) is not: its row averages to 463.2 / 6 = 77.2
    assert mean["dbeta"] == pytest.approx(77.2) and t3["average"]["dbeta"]["zs_auroc"] == 77.1
    assert published["contradictions"]["table_3_average"]["printed"] == 77.1


def test_table_4_rows(published, lines):
    meta, t4 = published["meta"], published["table_4"]
    cols = meta["columns"]["table_4"]
    for m, protocol in meta["table_4_protocol"].items():
        mark, ratio = ("✓", "0%") if protocol == "zero_shot" else ("✗", "100%")
        row = "\t".join([meta["row_labels"][m], mark, ratio, *(f"{t4[c][m]['auroc']:.2f}" for c in cols)])
        assert _in_table(lines, "Table 4. Zero-shot", row, 20), m


def test_tables_5_to_8_and_12_13_rows(published, lines):
    t5 = published["table_5"]["code_test"]
    assert _cells([t5[k]["auroc"] for k in published["meta"]["columns"]["table_5"]]) in lines
    cols = published["meta"]["columns"]["table_6"]

    def cell(entry):
        return "—" if entry["score"] is None else f"{entry['score']:.2f} ± {entry['score_sd']:.2f}"

    for variant, parts in published["meta"]["table_6_components"].items():
        marks = ["✓" if c in parts else "" for c in ("flan_t5", "ets", "n3s")]
        row = "\t".join([*marks, *(cell(published["table_6"][c][variant]) for c in cols)])
        assert row in lines, variant
    for table in ("table_7", "table_8"):
        for key, label in published["meta"]["variant_labels"][table].items():
            row = "\t".join([label, *(cell(published[table][c][key]) for c in cols)])
            assert row in lines, (table, key)
    for table in ("table_12", "table_13"):
        tasks = published["meta"]["columns"]["table_12"]
        for key, label in published["meta"]["variant_labels"][table].items():
            row = "\t".join([label, *(f"{published[table][t][key]['zs_auroc']:.1f}" for t in tasks)])
            assert row in lines, (table, key)


def test_table_9_rows(published, lines):
    labels = published["meta"]["task_labels"]
    for task, f in published["table_9"].items():
        counts = ["–" if f[k] is None else f"{f[k]:,}" for k in ("train", "valid", "test")]
        tail = "\t".join([f"{f['classes']:,}", *counts])
        label = labels[task].lower().rstrip(".")
        hits = [line for line in lines if line.endswith(tail) and line.lower().startswith(label)]
        assert hits, (task, tail)


def test_ablation_rows_aggregate_tables_1_and_2(published):
    """Table 6's full row = Table 7's Flan-T5 row = Table 8's 8-layer row; its full fine-tuning column is the
    mean +- sample sd of Table 1's D-BETA Dx. row, its linear-probing column that of Table 2's 1 % column."""
    full = {c: published["table_6"][c]["dbeta"] for c in published["meta"]["columns"]["table_6"]}
    for c, entry in full.items():
        assert published["table_7"][c]["flan_t5"] == entry == published["table_8"][c]["layers_8"]
    dx = list(published["table_1"]["physionet2021_dx"]["dbeta"].values())
    lp1 = [published["table_2"][t]["dbeta"]["lp_1"] for t in published["meta"]["columns"]["table_2"]]
    for values, entry in ((dx, full["full_finetune"]), (lp1, full["linear_probe"])):
        assert round(float(np.mean(values)), 2) == entry["score"]
        assert round(float(np.std(values, ddof=1)), 2) == entry["score_sd"]


def test_contradictions_are_the_tables(published):
    c = published["contradictions"]
    t4 = published["table_4"]["ptbxl_super_to_csn"]
    assert c["table_4_ptbxl_super_to_csn"]["st_mem"] == t4["st_mem"]["auroc"] == 84.50
    assert c["table_4_ptbxl_super_to_csn"]["dbeta"] == t4["dbeta"]["auroc"] == 79.11
    assert max(t4, key=lambda m: t4[m]["auroc"]) == "st_mem"  # CSN is the target here, not CPSC2018
    form = published["table_13"]["ptbxl_form"]
    assert c["table_13_ptbxl_form"]["without_mlm_mem"] == form["without_mlm_mem"]["zs_auroc"] == 67.4
    assert c["table_13_ptbxl_form"]["with_mlm_mem"] == form["with_mlm_mem"]["zs_auroc"] == 66.1


def test_headline_claims_follow_from_the_tables(published):
    """C1: 1 % linear probe beats MERL by ~15 points on average; C2: zero-shot average by ~2."""
    t2, tasks = published["table_2"], published["meta"]["columns"]["table_2"]
    gain = np.mean([t2[t]["dbeta"]["lp_1"] - t2[t]["merl"]["lp_1"] for t in tasks])
    assert gain == pytest.approx(published["text"]["claims"]["lp_1pct_gain_over_merl_pct"], abs=1.0)
    avg = published["table_3"]["average"]
    zs_gain = avg["dbeta"]["zs_auroc"] - avg["merl"]["zs_auroc"]
    assert zs_gain == pytest.approx(published["text"]["claims"]["zero_shot_gain_over_merl_pct"], abs=0.5)


PROSE_CONTEXT = {
    "pairs": "which includes",
    "subjects": "paired samples derived from",
    "samples_after_cleaning": "yields a training size of",
    "unique_reports_approx": "only approximately",
    "identical_sinus_rhythm_normal_ecg_over": "For instance, over",
    "steps": "pre-train the proposed model for",
    "batch_size": "maintaining a batch size of",
    "n3s_k": "one of the top",
    "etm_accuracy_without_n3s_pct": "stagnates around",
    "etm_accuracy_with_n3s_pct": "it exceeds",
    "lp_1pct_gain_over_merl_pct": "average AUC improvement of",
    "zero_shot_gain_over_merl_pct": "training data and",
    "n3s_zero_shot_gain_pct": "adding N3S improves zero-shot classification by",
    "flan_t5_lp_gain_pct": "enhances performance in linear probing by",
    "ets_gain_pct": "showing an improvement of approximately",
}


def test_prose_numbers_stand_next_to_their_phrase(published, paper):
    text = re.sub(r"\s+", " ", paper)
    values = {k: v for group in published["text"].values() for k, v in group.items()}
    assert set(values) == set(PROSE_CONTEXT)
    for key, value in values.items():
        phrase = PROSE_CONTEXT[key]
        windows = [text[m.end() : m.end() + 25] for m in re.finditer(re.escape(phrase), text)]
        assert windows, f"{key}: phrase {phrase!r} not in the paper"
        forms = {str(value), f"{value:,}"}
        hit = any(re.match(rf"\s*{re.escape(f)}(?![\d,])", w) for w in windows for f in forms)
        assert hit, (key, windows)


def test_tables_flatten_for_published_vs_ours(published):
    df = flatten_published(published["table_2"], ["task", "method", "metric"])
    assert len(df) == 6 * 12 * 3 and df["value"].notna().all()
    df6 = flatten_published(published["table_6"], ["task", "method", "metric"])
    assert df6["value"].isna().sum() == 4  # the four "—" zero-shot cells
