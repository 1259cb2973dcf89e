"""The hybrid_ecg package: the grid design and the selection rule (on the paper's own Table 8), the
downstream split, criteria, the scarcity training sets, the paper-layout tables and the claims C1-C7."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from physiofm.config import load_params
from physiofm.evaluation.results import results_frame
from physiofm.hybrid_ecg import evaluate, tables
from physiofm.hybrid_ecg import grid as G
from physiofm.hybrid_ecg.data import downstream_labels

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo():
    return load_params(ROOT / "params" / "demo" / "hybrid_ecg.yaml", "hybrid_ecg")


def test_grid_cases_latin_square_and_run_names(demo) -> None:
    g = demo.steps.pretrain.grid
    full = G.configs(g, "full")
    assert [c.case for c in full] == list(range(27))
    square = G.configs(g)
    assert len(square) == 9 and len({(c.ip, c.idepth) for c in square}) == 9
    assert len({(c.ip, c.iwidth) for c in square}) == 9 and len({(c.idepth, c.iwidth) for c in square}) == 9
    runs = G.runs(g, demo.shared.methods, demo.shared.encoder, ["hl"], [1])
    (name, choice, enc), = runs
    assert name == "hl_p60_d2_w32" and choice.method == "hybrid"
    assert (enc.patch_size, enc.depth, enc.width, enc.in_channels) == (60, 2, 32, 12)
    oom = g.model_copy(update={"skip_paper_oom": True})
    assert "hl_p250_d8_w32" not in {n for n, _, _ in G.runs(oom, demo.shared.methods, demo.shared.encoder)}


def test_selection_rule_on_the_papers_own_table_8() -> None:
    """The rule picks HL's stated 60/2/512 from the paper's Table 8, but not CL's and GL's depth 2: the
    paper's text and its appendix disagree (claim C1)."""
    summary = G.axis_summary(tables.published_grid_auroc())
    pooled, per_task = G.select(summary, "pooled"), G.select(summary, "per_task")
    assert pooled["hl"] == per_task["hl"] == (60, 2, 512)
    assert pooled["cl"] == (250, 8, 1024) and pooled["gl"][:2] == (60, 8)
    assert per_task["gl"][:2] == (60, 2)
    hl_patch = summary[(summary["objective"] == "hl") & (summary["axis"] == "patch")].set_index("value")
    assert hl_patch["tasks_won"].to_dict() == {60: 4, 125: 0, 250: 0}
    best = tables.best_published_cases()
    assert best["best configuration (criteria)"].to_dict() == {"CL": "250/8/256", "GL": "125/8/512",
                                                                "HL": "125/4/512"}


def test_selection_breaks_median_ties_by_the_smaller_range() -> None:
    rows = []
    for p, spread in ((60, 0.01), (125, 0.2)):
        for k, d in enumerate((2, 4, 8)):
            for t in tables.TASKS:
                rows.append({"objective": "hl", "patch": p, "depth": d, "width": 16, "task": t,
                             "value": 0.8 + (k - 1) * spread})
    picks = G.select(G.axis_summary(pd.DataFrame(rows)))
    assert picks["hl"][0] == 60  # equal medians (0.8): the smaller min-max range wins


def test_downstream_split_holds_out_folds_and_stratified_patients(demo) -> None:
    rng = np.random.default_rng(0)
    n = 600
    patients = rng.integers(0, 400, n)
    index = pd.DataFrame({"subject_id": [f"p{i}" for i in patients],
                          "record_id": [f"r{i}" for i in range(n)], "offset_s": 0.0,
                          "strat_fold": (patients % 10) + 1,
                          **{c: (rng.random(n) < 0.2).astype(int) for c in ("MI", "STTC", "CD", "HYP")}})

    class Store:  # the part of a SegmentStore that downstream_labels reads
        pass

    store = Store()
    store.index = index
    labels = downstream_labels(store, demo.steps.data, demo.shared.tasks, seed=0)
    assert (labels.loc[labels["strat_fold"] == 10, "split"] == "test").all()
    pool = labels[labels["split"] != "test"]
    share = pool.groupby("subject_id")["split"].first().eq("val").mean()
    assert 0.07 < share < 0.13
    assert (labels.groupby("subject_id")["split"].nunique() == 1).all()  # a patient sits in one split


def test_criteria_is_the_sum_of_eight_metrics() -> None:
    rows = [{"method": "hl", "task": t, "probe": "linear", "metric": m, "seed": s, "value": v}
            for s in (0, 1) for t in ("mi", "sttc", "cd", "hyp") for m, v in (("auroc", 0.8), ("auprc", 0.5))]
    rows[0]["value"] = np.nan  # one metric missing in seed 0: no criteria for it
    out = evaluate.with_criteria(results_frame(rows))
    crit = out[out["metric"] == "criteria"].set_index("seed")["value"]
    assert np.isnan(crit[0]) and crit[1] == pytest.approx(4 * 1.3)


def scarcity_setup(demo, n: int, seed: int) -> tuple[pd.DataFrame, dict]:
    """A label table of ``n`` records (80 / 10 / 10 % train / val / test, each superclass at 25 %) and the
    three demo objectives as selected runs, for :func:`evaluate.scarcity_jobs`."""
    rng = np.random.default_rng(seed)
    split = rng.choice(["train", "val", "test"], n, p=[0.8, 0.1, 0.1])
    labels = pd.DataFrame({"row": np.arange(n), "split": split,
                           **{c: (rng.random(n) < 0.25).astype(int) for c in ("MI", "STTC", "CD", "HYP")}})
    return labels, {m: evaluate.Run(m, demo.shared.methods[m], demo.shared.encoder, None)
                    for m in ("cl", "gl", "hl")}


def test_scarcity_training_sets(demo) -> None:
    labels, sel = scarcity_setup(demo, n=900, seed=1)
    jobs = evaluate.scarcity_jobs(sel, demo.shared.encoder, labels, demo.shared.tasks, [0], [0.05, 0.01], 400,
                                  [0.5], Path("/tmp/unused"))
    ratio = [j for j in jobs if j.tags["setting"] == "case_ratio"]
    assert len(ratio) == 4 * 2 * 4  # tasks x ratios x (SL, CL, GL, HL)
    train = labels.set_index("row")
    for j in ratio:
        y = train.loc[j.rows["train"], j.columns[0]]
        assert len(y) == 400 and y.sum() == round(400 * j.tags["level"]) and len(j.columns) == 1
        assert set(train.loc[j.rows["train"], "split"]) == {"train"}
    frac = [j for j in jobs if j.tags["setting"] == "label_fraction"]
    n_train = int((labels["split"] == "train").sum())
    assert all(len(j.rows["train"]) == round(0.5 * n_train) and len(j.columns) == 4 for j in frac)
    assert {j.name for j in frac} == {"sl", "cl", "gl", "hl"}


def _fake(method: str, value: float, seeds=(0, 1), **extra) -> list[dict]:
    return [{"method": method, "task": t, "probe": "x", "metric": m, "seed": s,
             "value": value + (0.01 * s), **extra}
            for s in seeds for t in ("mi", "sttc", "cd", "hyp") for m in ("auroc", "auprc")]


def test_tables_put_the_papers_numbers_beside_ours_and_judge_the_claims(demo) -> None:
    enc = demo.shared.encoder
    sel = {"cl": evaluate.Run("cl", demo.shared.methods["cl"], enc.model_copy(update={"patch_size": 250,
                                                                                       "width": 64}), None),
           "gl": evaluate.Run("gl", demo.shared.methods["gl"], enc.model_copy(update={"width": 32}), None),
           "hl": evaluate.Run("hl", demo.shared.methods["hl"], enc.model_copy(update={"width": 32}), None)}
    lp = evaluate.with_criteria(results_frame(
        _fake("hl", 0.9) + _fake("cl", 0.8) + _fake("gl", 0.7) + _fake("random_250_2_64", 0.6)
        + _fake("random_60_2_32", 0.6)))
    t1 = tables.table1(lp, sel)
    assert t1.loc[("HL (ours 60/2/32)", "published"), ("Criteria", "")] == "5.2047"
    assert t1.loc[("HL (ours 60/2/32)", "this study"), ("AUROC", "MI")] == "0.9050 ± 0.0071"
    ft = evaluate.with_criteria(results_frame(
        _fake("hl", 0.9) + _fake("cl", 0.85) + _fake("gl", 0.8) + _fake("sl_vit_250_2_64", 0.7)
        + _fake("sl_vit_60_2_32", 0.7) + _fake("sl_resnet50", 0.6)))
    assert tables.table3(ft, sel).loc[("SL 1-D ResNet-50", "published"), ("AUROC", "HYP")] == "0.9146"
    sc = []
    for setting, levels in (("case_ratio", (0.05, 0.02, 0.01)), ("label_fraction", (0.5, 0.25, 0.1))):
        for k, lv in enumerate(levels):
            for m, v in (("hl", 0.9), ("cl", 0.85), ("gl", 0.8), ("sl", 0.7)):
                bonus = 0.2 if (setting == "label_fraction" and lv == 0.1 and m == "cl") else 0.0
                sc += _fake(m, v - 0.05 * k + bonus, setting=setting, level=lv)
    sc = evaluate.with_criteria(results_frame(sc), ("setting", "level"))
    t4 = tables.scarcity_table(sc, "case_ratio")
    assert t4.loc[("5%", "HL", "published"), ("Criteria", "")] == "6.9496"
    risk = results_frame([{"method": m, "task": t, "probe": "lr", "metric": c, "seed": 0,
                           "value": v, "error": e} for m, v in (("hl", 0.1), ("cl", 0.2), ("gl", 0.3))
                          for t in ("mi", "sttc", "cd", "hyp") for c in tables.COMPONENTS
                          for e in ("zero_one", "one_minus_auroc")])
    assert tables.risk_table(risk).loc[("HL", "average", "published"), "Total risk"] == "0.2289"
    ev = tables.evidence(lp, ft, sc, risk, sel)
    claims = tables.claims({"cl": (250, 2, 64), "gl": (60, 2, 32), "hl": (60, 2, 32)},
                           {"cl": (250, 8, 1024), "gl": (60, 8, 1024), "hl": (60, 2, 512)},
                           [[60, 125, 250], [2, 4, 8], [16, 32, 64]], ev)
    here = claims["verdict here"].to_dict()
    assert here == {"C1": "holds", "C2": "holds", "C3": "holds", "C4": "holds", "C5": "holds", "C6": "holds",
                    "C7": "holds"}
    paper = claims["verdict on the paper"].to_dict()
    assert paper["C1"] == "does not hold" and paper["C5"] == "does not hold"  # GL fine-tuned < SL ViT
    assert {paper[c] for c in ("C2", "C3", "C4", "C6", "C7")} == {"holds"}


def test_chapter_tests_every_claim_and_is_a_part_of_the_book() -> None:
    """book/hybrid_ecg.md is the hybrid_ecg part's chapter (the assembler makes every paper of ``PAPERS`` a
    part, its chapter first): it names C1-C7, links every notebook of the part and holds no placeholder."""
    from physiofm.config import PAPERS

    assert "hybrid_ecg" in PAPERS
    text = (ROOT / "book" / "hybrid_ecg.md").read_text()
    for c in range(1, 8):
        assert f"**C{c}**" in text
    for nb in sorted((ROOT / "notebooks" / "hybrid_ecg").glob("*.ipynb")):
        assert f"{{doc}}`{nb.stem}`" in text, nb.stem
    for heading in ("Choices where the paper is silent", "What \"encoder generalisation\" means here",
                    "Where the paper's tables contradict its text", "Which claims hold on our data"):
        assert f"## {heading}" in text
    assert "TODO" not in text and "DEMO-VERDICTS" not in text


def test_book_toc_holds_the_chapter_and_every_notebook(tmp_path: Path) -> None:
    """The assembler puts book/hybrid_ecg.md first in the hybrid_ecg part and every executed notebook of the
    part under it (no Sphinx build here; tests/test_study_ci.py builds the ci book)."""
    import shutil

    import yaml

    from physiofm.book import assemble
    from physiofm.config import PAPERS

    root = tmp_path / "study"
    (root / "book").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname='x'\n")
    shutil.copy(ROOT / "book" / "hybrid_ecg.md", root / "book" / "hybrid_ecg.md")
    shutil.copytree(ROOT / "notebooks" / "hybrid_ecg", root / "notebooks" / "hybrid_ecg")
    shutil.copytree(ROOT / "notebooks" / "hybrid_ecg", root / "build" / "ci" / "notebooks" / "hybrid_ecg")
    src = assemble("ci", root)
    toc = yaml.safe_load((src / "_toc.yml").read_text())
    part, = [p for p in toc["parts"] if p["caption"] == PAPERS["hybrid_ecg"]]
    chapter, = part["chapters"]
    assert chapter["file"] == "hybrid_ecg/index"
    stems = sorted(p.stem for p in (ROOT / "notebooks" / "hybrid_ecg").glob("*.ipynb"))
    assert [s["file"] for s in chapter["sections"]] == [f"hybrid_ecg/{s}" for s in stems]
    assert (src / "hybrid_ecg" / "index.md").read_text() == (ROOT / "book" / "hybrid_ecg.md").read_text()


def test_table4_for_some_diseases_only(demo) -> None:
    labels, sel = scarcity_setup(demo, n=600, seed=2)
    jobs = evaluate.scarcity_jobs(sel, demo.shared.encoder, labels, demo.shared.tasks, [0], [0.05], 300,
                                  [0.5], Path("/tmp/unused"), case_ratio_tasks=["mi", "sttc"])
    ratio = [j for j in jobs if j.tags["setting"] == "case_ratio"]
    assert sorted({j.columns[0] for j in ratio}) == ["MI", "STTC"] and len(ratio) == 2 * 4
    assert len([j for j in jobs if j.tags["setting"] == "label_fraction"]) == 4  # Table 5 keeps four tasks
    with pytest.raises(KeyError, match="case_ratio_tasks"):
        evaluate.scarcity_jobs(sel, demo.shared.encoder, labels, demo.shared.tasks, [0], [0.05], 300, [0.5],
                               Path("/tmp/unused"), case_ratio_tasks=["afib"])
    # criteria over two diseases: the paper's side sums the same two diseases, not its four-task criteria
    ours = results_frame([{**r, "setting": "case_ratio", "level": 0.05}
                          for r in _fake("hl", 0.8, seeds=(0,)) if r["task"] in ("mi", "sttc")])
    both = pd.concat([ours, results_frame([{**r, "setting": "label_fraction", "level": 0.5}
                                            for r in _fake("hl", 0.8, seeds=(0,))])], ignore_index=True)
    scored = evaluate.with_criteria(results_frame(both), ("setting", "level"))
    own = scored[scored["metric"] == "criteria"].set_index("setting")["value"]
    assert own["case_ratio"] == pytest.approx(2 * 1.6) and own["label_fraction"] == pytest.approx(4 * 1.6)
    crit = tables.criteria_by_level(scored, "case_ratio")
    pub = tables.published("table_4")
    want = pub[(pub["case_ratio"] == "5%") & (pub["method"] == "hl") & pub["task"].isin(["MI", "STTC"])
               & pub["metric"].isin(["auroc", "auprc"])]["value"].sum()
    got = crit[(crit["source"] == "published") & (crit["method"] == "hl") & np.isclose(crit["level"], 0.05)]
    assert got["value"].item() == pytest.approx(want) and want < 4
