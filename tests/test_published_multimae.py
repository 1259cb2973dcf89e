"""params/published/multimae.yaml against the paper text: every table row rebuilt from the file is found in
../shared/papers/003_*.txt in the paper's order, every number occurs in the text, text numbers stand beside
their phrase, and the aggregates agree with physiofm.evaluation.metrics.multimae_aggregate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from physiofm.evaluation.metrics import multimae_aggregate

REPO = Path(__file__).resolve().parents[1]
PUBLISHED = REPO / "params" / "published" / "multimae.yaml"
PAPER = REPO / ".." / "shared" / "papers" / "003_42112b37f7d79aa5.txt"

UNIMODAL_ROWS = {"eeg": "EEG", "emg": "EMG", "eog": "EOG", "ecg": "ECG"}
# (section start, section end) of each table in the extracted text
SECTIONS = {
    "table_1": ("Table 1:", "and are not seen in either"),
    "table_2": ("Table 2:", "Pretraining Strategy\tAro"),
    "table_3": ("D Additional results", "E Additional results"),
    "table_4": ("E Additional results", "Table 4:"),
    "table_5": ("Table 5: Sleep", "Table 6: Age"),
    "table_6": ("Table 6: Age", "Table 7: Arousal"),
    "table_7": ("Table 7: Arousal", None),
}
TASKS = ("sleep", "age", "arousal")


@pytest.fixture(scope="module")
def published() -> dict:
    return yaml.safe_load(PUBLISHED.read_text())


@pytest.fixture(scope="module")
def paper() -> str:
    if not PAPER.is_file():
        pytest.skip(f"{PAPER} is absent (a fresh clone has no ../shared)")
    return PAPER.read_text()


def _section(text: str, table: str) -> str:
    start, end = SECTIONS[table]
    i = text.index(start)
    return text[i:] if end is None else text[i : text.index(end, i + len(start))]


def _numbers(text: str) -> list[float]:
    return [float(s.replace(",", "")) for s in re.findall(r"\d[\d,]*(?:\.\d+)?", text)]


def _row(published: dict, table: str, method: str) -> list[float]:
    """The printed row of ``method``: mean, sd for each column of the table."""
    out = []
    for task, metric in published["meta"]["columns"][table]:
        cell = published[table][task][method]
        out += [cell[metric], cell[f"{metric}_sd"]]
    return out


def _methods(published: dict, table: str) -> list[str]:
    first_task = published["meta"]["columns"][table][0][0]
    methods = list(published[table][first_task])
    for task in published[table]:
        assert list(published[table][task]) == methods, f"{table}/{task}: rows differ from {first_task}"
    return methods


def _row_label(method: str) -> str:
    if method in ("scratch_all", "multimae_drop"):
        return "All"
    return UNIMODAL_ROWS[method.split("_")[1]]


@pytest.mark.parametrize("table", ["table_1", "table_3", "table_4"])
def test_unimodal_vs_multimodal_rows_are_in_the_paper(published, paper, table):
    lines = _section(paper, table).splitlines()
    methods = _methods(published, table)
    expected = [f"scratch_{m}" for m in (*UNIMODAL_ROWS, "all")] if table == "table_1" else []
    assert methods == expected + [f"mae_{m}" for m in UNIMODAL_ROWS] + ["multimae_drop"]
    random_rows = [_numbers(line) for line in lines if line.split("\t")[0].strip() in ("Random", "-")]
    chance = published["chance"]
    assert [chance[t] for t in (*TASKS, "aggregate")] in random_rows
    last = -1
    found = {}
    for method in methods:
        label = _row_label(method)
        hits = [i for i, line in enumerate(lines) if i > last and label in line.split("\t")]
        assert hits, f"{table} {method}: no row {label!r} after line {last}"
        last = hits[0]
        found[method] = last
        assert _numbers(lines[last]) == _row(published, table, method), f"{table} {method}: {lines[last]!r}"
    if table == "table_1":  # the Scratch rows come before the "Pretrained" group label
        pretrained = next(i for i, line in enumerate(lines) if line.startswith("Pretrained"))
        assert found["scratch_all"] < pretrained <= found["mae_eog"]


def test_table_2_rows_are_in_the_paper(published, paper):
    methods = _methods(published, "table_2")
    labels = published["meta"]["method_labels"]
    assert methods == ["sleepfm_loo", "sleepfm_pair", "simclr", "multimae", "multimae_drop"]
    # First half: sleep BA, kappa, age BA, AUROC per row.
    lines = _section(paper, "table_2").splitlines()
    for method in methods:
        printed = labels[method].split(" (Table")[0]
        line = next(x for x in lines if x.startswith(printed + "\t"))
        assert _numbers(line) == _row(published, "table_2", method)[:8], line
    # Second half: a LaTeX array prints arousal BA, arousal AUROC and the aggregate of the first four rows
    # column by column, then the MultiMAE + drop row.
    i = paper.index("Aggregate Score")
    second = paper[i + len("Aggregate Score") : paper.index("4 **Experiments**", i)]
    rows = {m: _row(published, "table_2", m)[8:] for m in methods}
    expected = [v for col in range(3) for m in methods[:4] for v in rows[m][2 * col : 2 * col + 2]]
    assert _numbers(second) == expected + rows["multimae_drop"]


@pytest.mark.parametrize("table", ["table_5", "table_6", "table_7"])
def test_extra_metric_tables_are_in_the_paper(published, paper, table):
    lines = _section(paper, table).splitlines()
    labels = published["meta"]["method_labels"]
    methods = _methods(published, table)
    rows = [line for line in lines if "±" in line]
    # these tables print "MultiMAE" and "MultiMAE + Modality Drop" for Table 2's longer labels
    expected = [labels[m].split(" (Table")[0].replace("MultiMAE Only", "MultiMAE")
                .replace("Input Mod. Drop", "Modality Drop") for m in methods]
    assert [line.split("\t")[0] for line in rows] == expected
    assert [_numbers(line) for line in rows] == [_row(published, table, m) for m in methods]


def test_extra_metric_tables_repeat_table_2(published):
    for table, task in (("table_5", "sleep"), ("table_6", "age"), ("table_7", "arousal")):
        for method, cell in published[table][task].items():
            for metric, value in cell.items():
                if metric.endswith("_sd") or metric == "f1":
                    continue
                assert published["table_2"][task][method][metric] == value, (table, method, metric)
    for task in TASKS:  # Table 1's "Pretrained All" is MultiMAE + drop
        assert (published["table_1"][task]["multimae_drop"]["balanced_accuracy"]
                == published["table_2"][task]["multimae_drop"]["balanced_accuracy"])


@pytest.mark.parametrize("table", ["table_1", "table_2", "table_3", "table_4"])
def test_aggregates_follow_from_the_balanced_accuracies(published, table):
    chance = {t: published["chance"][t] for t in TASKS}
    # BAs are printed to 3 decimals: the recomputed aggregate is within (0.0005/0.2 + 2 * 0.0005/0.5) / 3
    # = 0.0015 of the true one, the printed aggregate within another 0.0005 of it.
    for method in _methods(published, table):
        scores = {t: published[table][t][method]["balanced_accuracy"] for t in TASKS}
        printed = published[table]["aggregate"][method]["aggregate"]
        assert multimae_aggregate(scores, chance) == pytest.approx(printed, abs=2e-3), (table, method)


def _values(node, path=""):
    if isinstance(node, dict):
        for k, v in node.items():
            if path or k != "meta":
                yield from _values(v, f"{path}/{k}")
    elif isinstance(node, bool | str):
        return
    elif isinstance(node, int | float):
        yield path, float(node)
    else:
        raise AssertionError(f"unexpected value at {path}: {node!r}")


def test_every_number_occurs_in_the_paper(published, paper):
    in_paper = set(_numbers(paper))
    values = list(_values(published))
    assert len(values) > 2 * (4 * 10 + 4 * 5 * 2) + 19
    missing = [(p, v) for p, v in values if not any(abs(v - x) < 1e-9 for x in in_paper)]
    assert not missing, missing


TEXT_CONTEXT = {
    "subjects": "during overnight sleep from",
    "unlabelled_patients": "unlabeled data from",
    "labelled_patients": "and labeled data from",
    "pretrain_labelled_patients": "patients in the unlabeled set and",
    "validation_patients": "from the remaining",
    "test_patients": "from the remaining",
    "probe_patients": "patients are used in the training set",
    "probe_patients_small": "low data regime (i.e.,",
    "hours_per_subject": "each subject contributes",
    "windows": "the total dataset size is",
    "seeds": "random seeds are used in each",
    "arousal_positive_pct": "extremely rare",
    "mask_rate_pct": "masking rate (see Appendix",
    "drop_mask_probability": "masking probability of",
    "rollout_cap": "Values are capped at",
    "pretrain_epochs": "Models are pretrained for",
    "finetune_epochs": "models are trained for",
    "warmup_epochs": "epochs of linear warmup",
    "mae_drop_sleep_f1_500": "achieve a F1 score of",
}


def test_text_numbers_stand_next_to_their_phrase(published, paper):
    text = re.sub(r"\s+", " ", paper)
    assert set(published["text"]) == set(TEXT_CONTEXT)
    for key, value in published["text"].items():
        phrase = TEXT_CONTEXT[key]
        printed = {f"{value:,}", f"{value}"}  # "1,985" and "2000" both occur
        windows = [text[max(0, m.start() - 40) : m.end() + 40] for m in re.finditer(re.escape(phrase), text)]
        assert windows, f"{key}: phrase {phrase!r} not in the paper"
        patterns = [rf"(?<![\d.,]){re.escape(n)}(?![\d]|\.\d)" for n in printed]
        hit = any(re.search(p, w) for p in patterns for w in windows)
        assert hit, f"{key}: {value} not beside {phrase!r}"
