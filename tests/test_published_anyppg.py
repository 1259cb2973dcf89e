"""params/published/anyppg.yaml against the paper text: every table row rebuilt from the file is found in
../shared/papers/002_*.txt, in the paper's order and under the right dataset and task, and every other number
occurs in the text. Also checks the aggregates against their sources, and tasks.py against the tables."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from physiofm.anyppg.tasks import PRETRAIN_SOURCES, PROBE_TASKS

REPO = Path(__file__).resolve().parents[1]
PUBLISHED = REPO / "params" / "published" / "anyppg.yaml"
PAPER = REPO / ".." / "shared" / "papers" / "002_2804143ceba7a33f.txt"

TABLE2_METRICS = ("R@1", "R@5", "R@10", "mAP@10", "MRR")
TABLE2_ROWS = {s.dataset: s.paper_name for s in PRETRAIN_SOURCES} | {
    "aggregate_weighted": "Aggregate (weighted by samples)",
    "aggregate_macro": "Aggregate (macro-average)",
}
TABLE_METRICS = {"table3_regression": ("MAE", "R2"), "table4_classification": ("AUC", "F1", "accuracy")}


@pytest.fixture(scope="module")
def published() -> dict:
    return yaml.safe_load(PUBLISHED.read_text())


@pytest.fixture(scope="module")
def paper() -> str:
    if not PAPER.is_file():
        pytest.skip(f"{PAPER} is absent (a fresh clone has no ../shared)")
    return PAPER.read_text()


def _section(text: str, start: str, end: str) -> str:
    i = text.index(start)
    return text[i : text.index(end, i)]


def test_table2_rows_are_in_the_paper(published, paper):
    table = _section(paper, "Table 2: PPG-to-ECG retrieval", "Figure 1:")
    assert list(published["table2_retrieval"]) == list(TABLE2_ROWS)
    for key, row in published["table2_retrieval"].items():
        assert list(row) == ["AnyPPG"]
        m = row["AnyPPG"]
        assert set(m) == {"n_samples", *TABLE2_METRICS}
        line = "\t".join([TABLE2_ROWS[key], f"{m['n_samples']:,}", *(f"{m[k]:.3f}" for k in TABLE2_METRICS)])
        assert line in table.splitlines(), f"Table 2 row for {key} not found: {line!r}"


def test_table2_aggregates_agree_with_sources(published):
    t2 = published["table2_retrieval"]
    sources = [s.dataset for s in PRETRAIN_SOURCES]
    n = np.array([t2[s]["AnyPPG"]["n_samples"] for s in sources])
    assert n.sum() == t2["aggregate_weighted"]["AnyPPG"]["n_samples"]
    assert [s.paper_test_samples for s in PRETRAIN_SOURCES] == list(n)
    for k in TABLE2_METRICS:
        v = np.array([t2[s]["AnyPPG"][k] for s in sources])
        assert np.average(v, weights=n) == pytest.approx(t2["aggregate_weighted"]["AnyPPG"][k], abs=1.5e-3)
        assert v.mean() == pytest.approx(t2["aggregate_macro"]["AnyPPG"][k], abs=1.5e-3)


@pytest.mark.parametrize("table", ["table3_regression", "table4_classification"])
def test_probe_tables_are_in_the_paper(published, paper, table):
    start, end = {
        "table3_regression": ("Table 3: Regression results", "Table 4:"),
        "table4_classification": ("Table 4: Classification results", "# AnyPPG reveals"),
    }[table]
    lines = _section(paper, start, end).splitlines()
    metrics = TABLE_METRICS[table]
    tasks = {t.id: t for t in PROBE_TASKS if t.published_table == table}
    assert list(published[table]) == list(tasks), "tasks.py and the yaml list the table's tasks in one order"
    last = -1
    dataset_seen: dict[str, bool] = {}
    for task_id, methods in published[table].items():
        assert list(methods) == ["PaPaGei-S", "PaPaGei-P", "AnyPPG"]
        rows = []
        for method, m in methods.items():
            assert set(m) == {x for k in metrics for x in (k, f"{k}_sd")}
            cells = "\t".join(f"{m[k]:.2f} ({m[k + '_sd']:.2f})" for k in metrics)
            hits = [i for i, line in enumerate(lines) if line.endswith(f"{method}\t{cells}")]
            assert hits, f"{table} {task_id} {method}: {method}\\t{cells!r} not in the paper"
            nxt = [i for i in hits if i > last]
            assert nxt, f"{table} {task_id} {method}: row found only before the previous row"
            last = nxt[0]
            rows.append(last)
        span = "\n".join(lines[rows[0] : rows[-1] + 1])
        task = tasks[task_id]
        assert task.paper_task in span, f"{task_id}: task label {task.paper_task!r} not beside its rows"
        seen = dataset_seen.get(task.paper_dataset, False)
        dataset_seen[task.paper_dataset] = seen or task.paper_dataset in span
    # merged cells print a dataset name once, beside one of its tasks
    assert all(dataset_seen.values()), dataset_seen


def _numbers(text: str) -> set[float]:
    return {float(s.replace(",", "")) for s in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}


def test_every_number_occurs_in_the_paper(published, paper):
    in_paper = _numbers(paper)

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                if path or k != "meta":
                    yield from walk(v, f"{path}/{k}")
        elif isinstance(node, bool | str):
            return
        elif isinstance(node, int | float):
            yield path, float(node)
        else:
            raise AssertionError(f"unexpected value at {path}: {node!r}")

    values = list(walk(published, ""))
    assert len(values) > 7 * 6 + 11 * 3 * 4
    missing = [(p, v) for p, v in values if not any(abs(v - x) < 1e-9 for x in in_paper)]
    assert not missing, missing


# Where the prose states each claim: the number must appear within a short window around this phrase.
PROSE_CONTEXT = {
    "regression_mae_reduction_pct": "average reduction of",
    "classification_auc_gain_pct": "improved AUC by",
    "classification_f1_gain_pct": "F1-score by",
    "classification_accuracy_gain_pct": "and accuracy by",
    "hr_mae_reduction_pct": "the MAE decreased by an average of",
    "hr_r2_gain_pct": "the MAE decreased by an average of",
    "icd10_codes": "three-digit",
    "icd10_codes_evaluated": "yielding a final set of",
    "codes_auc_above_0.8": "achieved an AUC greater than 0.8",
    "codes_auc_above_0.7": "exceeded 0.7",
    "codes_auc_above_0.7_discussion": "greater than 0.7 for",
    "specific_codes_auc_above_0.8": "retained an AUC above 0.8",
    "specific_codes_auc_above_0.7": "remained above 0.7",
    "parkinsons_auc": "Parkinson's disease and Alzheimer's disease achieved",
    "alzheimers_auc": "Parkinson's disease and Alzheimer's disease achieved",
    "chronic_kidney_disease_auc": "female genital prolapse and chronic kidney disease yielded",
    "primary_hypertension_auc": "for hypertension, the AUCs were",
    "secondary_hypertension_auc": "for hypertension, the AUCs were",
    "type1_diabetes_auc": "for diabetes, the AUCs were",
    "type2_diabetes_auc": "for diabetes, the AUCs were",
    "copd_auc": "chronic obstructive pulmonary disease, the AUC was",
}


def test_prose_claims_stand_next_to_their_phrase(published, paper):
    text = re.sub(r"\s+", " ", paper)
    claims = {k: v for group in published["prose_claims"].values() for k, v in group["AnyPPG"].items()}
    assert set(claims) == set(PROSE_CONTEXT)
    for key, value in claims.items():
        phrase = PROSE_CONTEXT[key]
        number = f"{value:,}" if isinstance(value, int) else f"{value}"
        windows = [text[max(0, m.start() - 40) : m.end() + 90] for m in re.finditer(re.escape(phrase), text)]
        assert windows, f"{key}: phrase {phrase!r} not in the paper"
        pattern = rf"(?<![\d.,]){re.escape(number)}(?![\d]|\.\d)"
        assert any(re.search(pattern, w) for w in windows), f"{key}: {number} not beside {phrase!r}"


def test_tasks_match_table1(paper):
    table1 = _section(paper, "Table 1: Summary of datasets", "Table 2:")
    for s in PRETRAIN_SOURCES:
        assert f"{s.paper_subjects:,} ({s.paper_segments:,})\t{s.paper_hours:,}" in table1, s
    kinds = {"regression": "R", "binary": "B", "multiclass": "M-4"}
    for t in PROBE_TASKS:
        subj = "N/A" if t.paper_subjects is None else f"{t.paper_subjects:,}"
        cell = f"{subj} ({t.paper_segments:,})\t{t.paper_hours:,}"
        assert cell in table1, t
        # "B" is printed as a Cyrillic "В" in one row of the extraction
        assert re.search(rf"\t({kinds[t.kind]}|В)\t{re.escape(cell)}", table1), t
    assert len(PROBE_TASKS) == 11 and len({t.id for t in PROBE_TASKS}) == 11  # "eleven dataset-task pairs"


def test_probe_datasets_are_registry_names():
    from physiofm.datasets import names

    assert {t.dataset for t in PROBE_TASKS} <= set(names())
