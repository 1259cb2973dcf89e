"""The D-BETA study on the engine: its task data (Table 11, class texts), the engine pieces it added (text
columns through batching, data-step assets, text towers as encoder kinds, the split probe, 12-lead label
layouts) and its tables and claims on hand-made results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from physiofm.dbeta import claims as claims_mod
from physiofm.dbeta import report
from physiofm.dbeta.tasks import PAPER_TASKS, TABLE_11, class_texts, load_class_texts, matching
from physiofm.evaluation.protocol import split_probe
from physiofm.evaluation.subsample import random_fraction_indices
from physiofm.evaluation.tasks import Task
from physiofm.sections import MethodChoice

REPO = Path(__file__).resolve().parents[1]
PAPER = REPO.parent / "shared" / "papers" / "004_c26bc479e8d3a386.txt"
# D-BETA's ECG encoder at test size (8 conv channels, one 16-wide layer): (B, 12, T) -> (B, 16)
TINY_ECG = {"kind": "ecg_conv_transformer", "conv_channels": 8, "width": 16, "layers": 1, "heads": 2,
            "ffn": 32, "pos_kernel": 8, "pos_groups": 4}


@pytest.fixture(scope="module")
def paper_text() -> str:
    if not PAPER.is_file():
        pytest.skip("../shared/papers is absent")
    return PAPER.read_text()


# ---------------------------------------------------------------------------------------------- task data
def test_table_11_is_the_papers_and_reads_both_ways(paper_text: str) -> None:
    block = paper_text[paper_text.index("Table 11. Domain transfer category matching."):]
    block = block[:block.index("A.3.")]
    for (left, right), rows in TABLE_11.items():
        for cls, targets in rows.items():
            printed = "None" if targets is None else ", ".join(targets)
            assert f"{cls}\t{printed}" in block, (left, right, cls)
    assert matching("ptbxl_super", "cpsc2018") == {"NORM": ["NORM"], "CD": ["IAVB", "RBBB", "LBBB"],
                                                   "STTC": ["STE", "STD"]}
    back = matching("cpsc2018", "ptbxl_super")
    assert back["IAVB"] == ["CD"] and back["STD"] == ["STTC"] and "MI" not in back
    assert matching("csn", "cpsc2018")["STTC"] == ["STD"] and matching("csn", "cpsc2018")["STE"] == [
        "STE",
        "STD",
    ]


def test_table_9_counts_are_the_papers(paper_text: str) -> None:
    for t in PAPER_TASKS.values():
        assert f"{t.label} (" in paper_text or t.label in paper_text
        assert f"{t.classes}\t{t.train:,}\t{t.valid:,}\t{t.test:,}" in paper_text, t.key


def test_class_texts_cover_the_benchmarks_and_the_cohort() -> None:
    data = load_class_texts()
    sizes = {k: len(v) for k, v in data["classes"].items()}
    assert {k: sizes[k] for k in ("ptbxl_super", "ptbxl_sub", "ptbxl_form", "ptbxl_rhythm", "cpsc2018")} == {
        k: PAPER_TASKS[k].classes
        for k in ("ptbxl_super", "ptbxl_sub", "ptbxl_form", "ptbxl_rhythm", "cpsc2018")
    }
    from physiofm.synthetic.ecg12 import STATEMENTS

    subs = STATEMENTS["diagnostic_subclass"].dropna().unique()
    assert not class_texts("ptbxl_sub", list(subs))[1]
    assert not class_texts("ptbxl_form", list(STATEMENTS.index[STATEMENTS["kind"] == "form"]))[1]
    texts, missing = class_texts("ptbxl_super", ["NORM", "MI"], "name")
    assert texts == ["normal ecg", "myocardial infarction"] and not missing
    texts, missing = class_texts("csn", ["ZZZ"])
    assert texts == ["zzz"] and missing == ["ZZZ"]  # falls back to the code, and says so


# ---------------------------------------------------------------------------------------------- layouts
def test_ecg12_layouts_are_the_loaders() -> None:
    from physiofm.synthetic import ecg12_cohort
    from physiofm.synthetic.ecg12_layouts import cpsc2018_layout, ptbxl_layout, with_layout

    cohort = ecg12_cohort(40, seed=3)
    frame, tasks = ptbxl_layout(cohort)
    rec = cohort.recordings.records
    assert (frame["n_superdiagnostic"] == rec["superclass"].map(len)).all()
    assert all((frame[f"super_{c}"] == rec["superclass"].map(lambda s, c=c: int(c in s))).all()
               for c in ("NORM", "MI", "STTC", "CD", "HYP"))
    assert set(frame.loc[rec["strat_fold"] == 10, "split"]) == {"test"}
    assert tasks["rhythm"]["filter"] == "n_rhythm > 0"
    frame, _ = cpsc2018_layout(cohort)
    assert (frame["dx_AF"] == rec["rhythm"].map(lambda r: int("AFIB" in r))).all()
    assert (frame["dx_PAC"] == 0).all() and (frame["dx_STE"] == 0).all()
    normal = frame["dx_NORM"] == 1
    assert (rec.loc[normal, "superclass"].map(tuple) == ("NORM",)).all()
    rs = with_layout(cohort, "cpsc2018")
    assert rs[0].labels["dx_NORM"] == int(frame["dx_NORM"].iloc[0])


# --------------------------------------------------------------------------------------- the probes
def test_random_fraction_is_merls_split() -> None:
    from sklearn.model_selection import train_test_split

    kept, _ = train_test_split(np.arange(500), train_size=0.1, random_state=42)
    assert np.array_equal(random_fraction_indices(500, 0.1), np.sort(kept))
    assert np.array_equal(random_fraction_indices(7, 1.0), np.arange(7))
    with pytest.raises(ValueError, match="holds no row"):
        random_fraction_indices(20, 0.01)


def _labels(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    y = (rng.random((n, 3)) < 0.3).astype(int)
    y[y.sum(1) == 0, 0] = 1
    labels = pd.DataFrame({"row": np.arange(n), "subject_id": [f"s{i}" for i in range(n)],
                           "record_id": [f"r{i}" for i in range(n)], "offset_s": 0.0,
                           "split": np.where(np.arange(n) % 10 < 7, "train",
                                             np.where(np.arange(n) % 10 < 8, "val", "test")),
                           **{f"dx_{c}": y[:, i] for i, c in enumerate("ABC")}})
    return labels, y


def test_split_probe_learns_informative_embeddings_and_keeps_the_best_validation_epoch() -> None:
    rng = np.random.default_rng(0)
    labels, y = _labels(400, rng)
    task = Task("toy", "multilabel", ("dx_A", "dx_B", "dx_C"), store="s")
    good = y + 0.3 * rng.standard_normal(y.shape)
    kw = {
        "max_epochs": 30,
        "batch_size": 32,
        "lr": 1e-2,
        "patience": None,
        "select": "auroc",
        "eval_every": 2,
    }
    res = split_probe(
        good.astype(np.float32),
        labels,
        task,
        method="m",
        seeds=[0, 1],
        label_fractions=[0.1, 1.0],
        probe_kwargs=kw,
    )
    assert list(res["label_fraction"].unique()) == [0.1, 1.0] and set(res["seed"]) == {0, 1}
    assert (res["n_train"].to_numpy() == [28, 28, 280, 280]).all() and (res["n_test"] == 80).all()
    assert (res["value"][res["label_fraction"] == 1.0] > 0.9).all()
    assert (res["value"][res["label_fraction"] == 0.1] > 0.6).all()  # 28 rows: one step per epoch
    noise = rng.standard_normal((400, 8)).astype(np.float32)
    res = split_probe(noise, labels, task, method="m", seeds=[0], label_fractions=[1.0], probe_kwargs=kw)
    assert abs(res["value"].iloc[0] - 0.5) < 0.15


def test_linear_head_can_select_on_validation_auroc() -> None:
    from physiofm.evaluation.probes import LinearHeadProbe

    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    probe = LinearHeadProbe("classification", max_epochs=12, eval_every=3, patience=None, select="auroc",
                            lr=0.05).fit(X[:150], y[:150], X[150:], y[150:])
    assert len(probe.scores_) == 4 and probe.best_epoch_ == 3 * (1 + int(np.argmax(probe.scores_)))
    assert max(probe.scores_) > 0.9
    with pytest.raises(ValueError, match="select"):
        LinearHeadProbe("regression", select="auroc")


# --------------------------------------------------------------------------------- assets and batches
def test_method_choice_resolves_assets_at_any_depth(tmp_path: Path) -> None:
    choice = MethodChoice(method="clip", config={"encoders": {"report": {"kind": "scratch_text",
                                                                        "tokenizer_file": "asset:tok.json"}}})
    resolved = choice.resolved({"tok.json": tmp_path / "tok.json"})
    assert resolved.config["encoders"]["report"]["tokenizer_file"] == str(tmp_path / "tok.json")
    assert choice.config["encoders"]["report"]["tokenizer_file"] == "asset:tok.json"  # unchanged
    with pytest.raises(KeyError, match="tok.json"):
        choice.resolved({})


def test_run_data_reads_assets_and_batches_carry_report_texts(tmp_path: Path) -> None:
    from physiofm.recording import Recording
    from physiofm.sections import TrainSection
    from physiofm.segments import Funnel, Segments
    from physiofm.splits import write_splits
    from physiofm.store import SegmentStore
    from physiofm.training.run import RunData, loaders

    recs = [Recording(f"r{i}", f"s{i}", "toy", {"I": np.zeros(10)}, {"I": 1.0}) for i in range(12)]

    def process(records):
        index = pd.DataFrame({"subject_id": [r.subject_id for r in records],
                              "record_id": [r.record_id for r in records], "offset_s": 0.0,
                              "report": [f"report {r.record_id}" for r in records]})
        return Segments(
            {"ecg12": np.ones((len(records), 12, 32), np.float32)}, index, {"ecg12": 100.0}, Funnel()
        )

    SegmentStore.build(tmp_path / "stores" / "toy", recs, process, progress=False)
    write_splits(
        pd.DataFrame(
            {
                "store": "toy",
                "row": np.arange(12),
                "subject_id": [f"s{i}" for i in range(12)],
                "source": "toy",
                "split": ["train"] * 8 + ["val"] * 4,
            }
        ),
        tmp_path,
    )
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "tokenizer.json").write_text("{}")
    data = RunData.open(tmp_path)
    assert set(data.assets) == {"tokenizer.json"}
    key = data.key()
    (tmp_path / "assets" / "tokenizer.json").write_text('{"changed": 1}')
    assert RunData.open(tmp_path).key() != key  # an asset is part of a run's fingerprint
    train = TrainSection(batch_size=4, max_steps=1, lr=1e-3, weight_decay=0.0)
    tr, val = loaders(data, ("ecg12", "report"), train, seed=0)
    batch = next(iter(tr))
    assert batch["ecg12"].shape == (4, 12, 32)
    assert isinstance(batch["report"], list) and all(t.startswith("report r") for t in batch["report"])
    with pytest.raises(KeyError, match="neither a group"):
        loaders(data, ("ecg12", "nope"), train, seed=0)


# -------------------------------------------------------------------------------------- text towers
def test_encoder_sections_hold_the_new_kinds() -> None:
    from pydantic import TypeAdapter

    from physiofm.models import build_encoder
    from physiofm.sections import EncoderSection

    adapter = TypeAdapter(EncoderSection)
    assert adapter.validate_python({"base_filters": 8}).kind == "net1d"  # no kind: a Net1D
    ecg = adapter.validate_python(TINY_ECG)
    enc = build_encoder(ecg.spec())
    assert enc(torch.randn(2, 12, 320)).shape == (2, 16)
    text = adapter.validate_python({"kind": "scratch_text", "tokenizer_file": "asset:tokenizer.json"})
    assert text.spec()["width"] == 256
    with pytest.raises(ValueError):
        adapter.validate_python({"kind": "ecg_conv_transformer", "widht": 3})


def test_ecg_text_clip_trains_and_embeds(tmp_path: Path) -> None:
    from physiofm.methods import build
    from physiofm.text import fit_report_tokenizer, save_report_tokenizer

    reports = [
        "sinus rhythm normal ecg",
        "atrial fibrillation abnormal ecg",
        "sinus bradycardia borderline ecg",
        "left bundle branch block abnormal ecg",
    ]
    save_report_tokenizer(fit_report_tokenizer(reports, 80), tmp_path / "tok.json")
    cfg = {
        "towers": ["ecg12", "report"],
        "encoder": None,
        "probe": "ecg12",
        "projector_hidden": 8,
        "embed_dim": 8,
        "encoders": {
            "ecg12": {**TINY_ECG, "embed_dim": None},
            "report": {
                "kind": "scratch_text",
                "tokenizer_file": str(tmp_path / "tok.json"),
                "width": 16,
                "layers": 1,
                "heads": 2,
                "ffn": 32,
                "embed_dim": None,
            },
        },
    }
    torch.manual_seed(0)
    clip = build("clip", cfg)
    batch = {"ecg12": torch.randn(4, 12, 320), "report": reports}
    loss = clip.loss(batch)
    loss.backward()
    assert (
        torch.isfinite(loss)
        and clip.encoders["report"].backbone.encoder.token_embedding.weight.grad is not None
    )
    emb = clip.embeddings(batch)
    assert emb["ecg12"].shape == (4, 16) and emb["report_shared"].shape == (4, 8)
    assert clip.embeddings({"report": reports[:2]})["report_shared"].shape == (2, 8)  # class texts alone
    with pytest.raises(ValueError, match="list of str"):
        clip.loss({"ecg12": torch.randn(4, 12, 320), "report": torch.zeros(4)})


def test_ets_floor_is_the_constant_logit_loss() -> None:
    from physiofm.objectives import ets_floor, ets_loss

    b, p = 16, 8
    z = np.log(p / (b * b - p))
    y = -torch.ones(b, b)
    y[torch.arange(p), torch.arange(p)] = 1.0
    x, t = torch.ones(b, 1), torch.full((b, 1), float(z))
    assert ets_loss(x, t, y).item() == pytest.approx(ets_floor(b, p), rel=1e-6)
    for dz in (-0.5, 0.5):  # any other common logit is worse
        assert ets_loss(x, t + dz, y).item() > ets_floor(b, p)


# ------------------------------------------------------------------------------------ tables, claims
def _results(method_values: dict, probe: str = "linear", **extra) -> pd.DataFrame:
    rows = [{"method": m, "task": t, "probe": probe, "metric": "auroc", "seed": 0, "value": v, **extra}
            for m, by_task in method_values.items() for t, v in by_task.items()]
    return pd.DataFrame(rows)


def test_tables_put_the_published_numbers_beside_ours() -> None:
    lp = pd.concat([_results({"dbeta": {"ptbxl_super": 0.7}}, label_fraction=f) for f in (0.01, 0.1, 1.0)])
    t2 = report.table_2(lp, ["ptbxl_super"])
    assert t2.loc[("published", "D-BETA"), ("PTBXL-Super", "1%")] == "83.15"
    assert t2.loc[("this study", "D-BETA"), ("PTBXL-Super", "100%")] == "70.00"
    zs = _results({"dbeta": {"ptbxl_super": 0.6, "ptbxl_form": 0.8}}, probe="zero_shot")
    t3 = report.table_3(zs, ["ptbxl_super", "ptbxl_form"])
    assert t3.loc[("published", "D-BETA"), "average"] == "77.1"
    assert t3.loc[("published", "D-BETA"), "average (recomputed)"] == "77.20"
    assert t3.loc[("this study", "D-BETA"), "average"] == "70.00"
    shift = _results({"dbeta": {"ptbxl_super_to_cpsc2018": 0.55}}, probe="zero_shot")
    t4 = report.table_4(shift)
    assert t4.loc[("published", "ST-MEM (linear probe, 100 %)"), "PTBXL-Super → CSN"] == "84.50"
    assert t4.loc[("this study", "D-BETA (zero-shot)"), "PTBXL-Super → CPSC2018"] == "55.00"
    scores = report.ablation_scores(lp[lp["label_fraction"] == 0.01], zs, {"dbeta": "dbeta", "no_n3s": None})
    t6 = report.table_ablation(scores, "table_6")
    assert t6.loc[("dbeta", "dbeta"), ("linear_probe", "published")] == "80.52 ± 6.08"
    assert t6.loc[("dbeta", "dbeta"), ("linear_probe", "this study")] == "70.00"
    assert t6.loc[("no_n3s", ""), ("zero_shot", "this study")] == "not run"
    c = report.published_contradictions()
    assert "ST-MEM 84.50 > D-BETA 79.11" in c.loc["Table 4, PTBXL-Super → CSN", "the table shows"]
    assert "+16.5 %" in c.loc["Table 6, ETS", "the table shows"] and "+3.4 %" in c.loc["Table 6, ETS",
                                                                                     "the table shows"]


def test_claims_read_the_results() -> None:
    lp = _results({"dbeta": {"a": 0.8, "b": 0.7}, "clip": {"a": 0.6, "b": 0.6}}, label_fraction=0.01)
    zs = _results({"dbeta": {"a": 0.55}, "clip": {"a": 0.6}}, probe="zero_shot")
    shift = pd.concat([_results({"dbeta": {"ptbxl_super_to_cpsc2018": 0.5, "cpsc2018_to_ptbxl_super": 0.8}},
                                probe="zero_shot"),
                       _results({"clip": {"ptbxl_super_to_cpsc2018": 0.7, "cpsc2018_to_ptbxl_super": 0.6}},
                                probe="linear_100")])
    abl_lp = _results({"dbeta": {"a": 0.8}, "no_n3s": {"a": 0.75}, "no_ets_no_n3s": {"a": 0.6},
                       "layers_1": {"a": 0.7}})
    abl_zs = _results({"dbeta": {"a": 0.6}, "no_n3s": {"a": 0.65}}, probe="zero_shot")
    curves = pd.DataFrame({"method": ["dbeta"] * 5 + ["no_n3s"] * 5, "step": list(range(5)) * 2,
                           "etm_acc": [0.5, 0.9, 0.97, 0.98, 0.99] + [0.5, 0.7, 0.74, 0.75, 0.76]})
    sil = pd.DataFrame({"silhouette (embedding, cosine)": [0.2, 0.1]}, index=["dbeta", "clip"])
    roles = {"dbeta": "dbeta", "merl": "clip", "no_n3s": "no_n3s", "no_ets_no_n3s": "no_ets_no_n3s",
             "layers_full": "dbeta", "layers_fewest": "layers_1"}
    table = claims_mod.claims(
        lp=lp,
        zs=zs,
        shift=shift,
        ablation_lp=abl_lp,
        ablation_zs=abl_zs,
        curves=curves,
        silhouettes=sil,
        roles=roles,
    )
    verdict = table["verdict"].to_dict()
    assert verdict == {"C1": "holds", "C2": "does not hold", "C3": "holds", "C4": "holds", "C5": "holds",
                       "C6": "does not hold", "C6b": "not tested", "C7": "holds", "C8": "holds"}
    assert table.loc["C1", "this study"].startswith("+15.00")
    assert table.loc["C7", "this study"] == "99.0 vs 76.0"


def test_embedding_spread_tells_a_collapsed_representation() -> None:
    from physiofm.dbeta.evaluate import embedding_spread

    rng = np.random.default_rng(0)
    spread = rng.standard_normal((50, 4)) + 1.0
    collapsed = np.tile(rng.standard_normal(4), (50, 1)) + 1e-6 * rng.standard_normal((50, 4))
    table = embedding_spread({"a": {"s": spread}, "b": {"s": collapsed}})
    assert table.loc[("a", "s"), "records"] == 50 and table.loc[("a", "s"), "dimensions"] == 4
    assert table.loc[("a", "s"), "relative spread"] > 0.5 > 1e-4 > table.loc[("b", "s"), "relative spread"]


def test_linear_probe_reuses_an_earlier_steps_rows_of_the_same_protocol() -> None:
    from physiofm.dbeta.evaluate import Downstream, linear_probe

    rng = np.random.default_rng(0)
    labels, y = _labels(200, rng)
    task = Task("toy", "multilabel", ("dx_A", "dx_B", "dx_C"), store="s")
    down = Downstream(stores={}, labels={"s": labels}, tasks={"toy": task})
    emb = {m: {"s": (y + s * rng.standard_normal(y.shape)).astype(np.float32)} for m, s in
           (("a", 0.3), ("b", 1.0))}
    kw = {"max_epochs": 5, "batch_size": 32, "lr": 1e-2, "patience": None, "select": "auroc"}
    args = dict(label_fractions=[1.0], seeds=[0], probe_kwargs=kw)
    first = linear_probe({"a": emb["a"]}, down, ["toy"], **args)
    marked = first.assign(value=-1.0)  # a reused row keeps its value: nothing probes "a" again
    both = linear_probe(emb, down, ["toy"], earlier=marked, **args)
    assert set(both["method"]) == {"a", "b"} and len(both) == 2
    assert (both.loc[both["method"] == "a", "value"] == -1.0).all()
    assert (both.loc[both["method"] == "b", "value"].between(0, 1)).all()
    other = linear_probe(emb, down, ["toy"], earlier=marked, **{**args, "label_fractions": [0.5]})
    assert (other["value"].between(0, 1)).all()  # another fraction: probed afresh
