"""params/published/hybrid_ecg.yaml against the paper text: every number occurs in it, the rows of Tables 1-5
and 8-11 rebuild from the file, and the paper's own arithmetic (criteria sums, risk components, percentage
drops) holds except where the file's caveats say it does not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "params" / "published" / "hybrid_ecg.yaml"
PAPER = ROOT / ".." / "shared" / "papers" / "001_92e61de53b0ba92f.txt"
TASKS = ("MI", "STTC", "CD", "HYP")
METHODS3 = ("cl", "gl", "hl")
COMPONENTS = ("approximation", "usability", "probe_generalization", "encoder_generalization", "total")
# Criteria that are not the sum of their eight printed metrics (see meta.caveats)
NOT_SUMS = {("table_1", "", "cl"), ("table_3", "", "sl_vit_250_2_1024")}


@pytest.fixture(scope="module")
def paper() -> str:
    if not PAPER.exists():
        pytest.skip(f"paper text not found at {PAPER}")
    return PAPER.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pub() -> dict:
    return yaml.safe_load(PUBLISHED.read_text(encoding="utf-8"))


def _raw(node: yaml.Node):
    """The file as nested dicts of the scalars' text as written (0.8080 keeps its trailing zero)."""
    if isinstance(node, yaml.MappingNode):
        return {k.value: _raw(v) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [_raw(v) for v in node.value]
    return node.value


@pytest.fixture(scope="module")
def raw() -> dict:
    return _raw(yaml.compose(PUBLISHED.read_text(encoding="utf-8")))


def _section(paper: str, start: str, end: str | None) -> list[str]:
    i = paper.index(start)
    text = paper[i:] if end is None else paper[i : paper.index(end, i + 1)]
    return re.sub(r"</?b>", "", text).splitlines()


def _leaves(tree, path=()):
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _leaves(v, (*path, k))
    else:
        yield path, tree


def test_every_number_occurs_in_the_paper(paper: str, raw: dict) -> None:
    checked = 0
    for path, text in _leaves({k: v for k, v in raw.items() if k != "meta"}):
        if text == "null":
            continue
        assert re.fullmatch(r"-?\d+(\.\d+)?", text), f"{'/'.join(path)}: non-numeric value {text!r}"
        forms = {text} | ({f"{int(text):,}"} if text.isdigit() else set())
        found = any(re.search(rf"(?<![\d.,]){re.escape(f)}(?![\d,]|\.\d)", paper) for f in forms)
        assert found, f"{'/'.join(path)} = {text} does not occur in the paper text"
        checked += 1
    assert checked > 1500  # Tables 1-7, the two 27-case grids and the text numbers


def _metrics(block: dict, method: str) -> list[str]:
    return [block[t][method][m] for m in ("auroc", "auprc") for t in TASKS]


def test_table1_rows(paper: str, raw: dict) -> None:
    # the paper prints CL's criteria as "4,8867"
    lines = [ln.replace("4,8867", "4.8867") for ln in _section(paper, "Table 1: The performance", "Table 2:")]
    configs = raw["meta"]["method_configs"]
    for method in ("random_250_2_1024", "random_60_2_512", "cl", "gl", "hl"):
        criteria = raw["table_1"]["all"][method]["criteria"]
        row = "\t".join([*configs[method], *_metrics(raw["table_1"], method), criteria])
        assert any(ln.endswith(row) for ln in lines), f"Table 1 {method}: {row!r} not in the paper"


def test_table2_rows_in_order(paper: str, raw: dict) -> None:
    lines = _section(paper, "Table 2: Results", "in generating")
    rows = [ln for ln in lines if re.search(r"\t-?0\.\d{4}$", ln)]
    expected = [
        "\t".join([{"average": "AVR."}.get(t, t), *(raw["table_2"][t][m][c] for c in COMPONENTS)])
        for m in METHODS3
        for t in (*TASKS, "average")
    ]
    assert len(rows) == 15
    for line, exp in zip(rows, expected):
        assert line.endswith("\t" + exp), (line, exp)
    labels = [ln.split("\t")[0] for ln in rows]
    assert labels[2::5] == ["CL", "GL", "HL"]  # the merged method cell sits on the CD row


def test_table3_rows(paper: str, raw: dict) -> None:
    lines = _section(paper, "Table 3: The performance", "Table 4:")
    t3 = raw["table_3"]

    def cols(method):
        return [*_metrics(t3, method), t3["all"][method]["criteria"]]

    assert any(ln.endswith("\t".join(cols("sl_resnet50"))) for ln in lines)
    for label, methods in [
        ("Supervised Learning (Our ViT variation)", ("sl_vit_250_2_1024", "sl_vit_60_2_512")),
        ("Contrastive Learning Generative Learning Hybrid Learning", METHODS3),
    ]:
        configs = [raw["meta"]["method_configs"][m] for m in methods]
        merged = [" ".join(c[i] for c in configs) for i in range(3)]
        merged += [" ".join(v) for v in zip(*(cols(m) for m in methods))]
        assert "\t".join([label, *merged]) in lines, label


@pytest.mark.parametrize("table,start,end", [("table_4", "Table 4: Performance", "Table 5:"),
                                             ("table_5", "Table 5: Performance", "Restricted Data")])
def test_table4_5_rows_in_order(paper: str, raw: dict, table: str, start: str, end: str) -> None:
    rows = [ln for ln in _section(paper, start, end) if re.search(r"\t\d+%\t0\.", ln)]
    levels = list(raw[table])
    expected = [
        "\t".join([level, *_metrics(raw[table][level], m), raw[table][level]["all"][m]["criteria"]])
        for m in ("sl", "cl", "gl", "hl")
        for level in levels
    ]
    assert len(rows) == len(expected) == 12
    for line, exp in zip(rows, expected):
        assert line.endswith("\t" + exp), (line, exp)


@pytest.mark.parametrize(
    "grid,metric,start,end",
    [
        ("lp_grid", "auroc", "Table 8: AUROC", "Table 9:"),
        ("lp_grid", "auprc", "Table 9: AUPRC", "Figure~4"),
        ("ft_grid", "auroc", "Table 10: AUROC", "Table 11:"),
        ("ft_grid", "auprc", "Table 11: AUPRC", None),
    ],
)
def test_grid_rows(paper: str, raw: dict, grid: str, metric: str, start: str, end: str | None) -> None:
    lines = set(_section(paper, start, end))
    assert len(raw[grid]) == 27
    for case, block in raw[grid].items():
        values = [block[t][m][metric] for t in TASKS for m in METHODS3]
        values += [block["all"][m]["criteria"] for m in METHODS3]
        row = "\t".join([case, *raw["meta"]["grid_cases"][case], *values]).replace("null", "OOM")
        assert row in lines, f"{grid} {metric} case {case}: {row!r} not in the paper"


def test_grid_case_numbering(pub: dict) -> None:
    for case, (p, d, w) in pub["meta"]["grid_cases"].items():
        assert case == 9 * (60, 125, 250).index(p) + 3 * (2, 4, 8).index(d) + (256, 512, 1024).index(w)
    lp = pub["lp_grid"]
    oom = {m: sorted(c for c, b in lp.items() if b["all"][m]["criteria"] is None) for m in METHODS3}
    assert oom == {"cl": [8, 17, 26], "gl": [], "hl": [8, 17, 24, 25, 26]}  # the spec's OOM cases


def _criteria_blocks(pub: dict):
    yield "table_1", "", pub["table_1"]
    yield "table_3", "", pub["table_3"]
    for table in ("table_4", "table_5"):
        for level, block in pub[table].items():
            yield table, level, block
    for grid in ("lp_grid", "ft_grid"):
        for case, block in pub[grid].items():
            yield grid, case, block


def test_criteria_are_the_sums_of_their_eight_metrics(pub: dict) -> None:
    mismatches = set()
    n = 0
    for table, level, block in _criteria_blocks(pub):
        for method, v in block["all"].items():
            if v["criteria"] is None:
                assert all(block[t][method][m] is None for t in TASKS for m in ("auroc", "auprc"))
                continue
            total = sum(block[t][method][m] for t in TASKS for m in ("auroc", "auprc"))
            n += 1
            if abs(total - v["criteria"]) > 5e-5:
                mismatches.add((table, level, method))
    assert n == 5 + 6 + 2 * 12 + 2 * (81 - 8) and mismatches == NOT_SUMS
    # the two exceptions as the caveats describe them
    t1 = pub["table_1"]
    fixed = sum(t1[t]["cl"][m] for t in TASKS for m in ("auroc", "auprc")) - t1["MI"]["cl"]["auroc"] + 0.7283
    assert fixed == pytest.approx(t1["all"]["cl"]["criteria"], abs=5e-5)
    t3 = pub["table_3"]
    vit = sum(t3[t]["sl_vit_250_2_1024"][m] for t in TASKS for m in ("auroc", "auprc"))
    assert vit == pytest.approx(6.9705, abs=5e-5) and t3["all"]["sl_vit_250_2_1024"]["criteria"] == 6.9715


def test_selected_rows_repeat_the_grid(pub: dict) -> None:
    for method, case in pub["meta"]["selected_cases"].items():
        assert pub["meta"]["method_configs"][method] == pub["meta"]["grid_cases"][case]
        for table, grid in (("table_1", "lp_grid"), ("table_3", "ft_grid")):
            for t in (*TASKS, "all"):
                a, b = pub[table][t][method], pub[grid][case][t][method]
                if (table, t, method) == ("table_1", "MI", "cl"):
                    assert (a["auroc"], b["auroc"]) == (0.7238, 0.7283)  # the misprint
                    assert a["auprc"] == b["auprc"]
                else:
                    assert a == b, (table, t, method)
    # the copy error: GL case 5 repeats CL case 2 in Tables 8-9
    lp = pub["lp_grid"]
    assert all(lp[5][t]["gl"] == lp[2][t]["cl"] for t in (*TASKS, "all"))


def test_risk_components_telescope_and_average(pub: dict) -> None:
    t2 = pub["table_2"]
    for t in (*TASKS, "average"):
        for m in METHODS3:
            v = t2[t][m]
            assert sum(v[c] for c in COMPONENTS[:4]) == pytest.approx(v["total"], abs=1.01e-4), (t, m)
    for m in METHODS3:
        for c in COMPONENTS:
            mean = sum(t2[t][m][c] for t in TASKS) / 4
            assert mean == pytest.approx(t2["average"][m][c], abs=1e-4), (m, c)


@pytest.mark.parametrize(
    "table,key", [("table_4", "pct_drop_case_ratio"), ("table_5", "pct_drop_label_fraction")]
)
def test_percentage_drops_follow_from_the_criteria(pub: dict, raw: dict, table: str, key: str) -> None:
    reference = {m: pub["table_3"]["all"][m]["criteria"] for m in METHODS3}
    reference["sl"] = pub["table_3"]["all"]["sl_vit_250_2_1024"]["criteria"]
    for level, drops in pub["text"][key].items():
        for method, pct in drops.items():
            decimals = len(raw["text"][key][level][method].split(".")[1])
            computed = 100 * (1 - pub[table][level]["all"][method]["criteria"] / reference[method])
            assert computed == pytest.approx(pct, abs=0.5 * 10**-decimals + 1e-9), (level, method, computed)


def test_text_numbers_in_context(paper: str, pub: dict) -> None:
    text = " ".join(paper.split())
    pre = pub["text"]["pretraining"]
    assert f"{pre['ecgs']:,} ECG samples from {pre['patients']:,} distinct patients" in text
    lf = pub["text"]["label_fraction_samples"]
    assert f"50% ({lf['50%']:,} samples), 25% ({lf['25%']:,} samples), and 10% ({lf['10%']:,}" in text
    assert f"we randomly sampled {pub['text']['low_incidence_training_records']:,} instances" in text
    p = pub["text"]["ptbxl_section_3_1"]
    assert f"A total of {p['ecgs']:,} ECG samples collected from {p['patients']:,} patients" in text
    assert f"{p['MI']:,} for MI" in text and f"{p['HYP']} for HYP" in text
