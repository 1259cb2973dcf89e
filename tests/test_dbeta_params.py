"""The D-BETA study's params: every profile validates, and the paper profile carries the paper's settings
(each checked against the paper text where the paper states it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from physiofm.config import ParamsError, load_params
from physiofm.dbeta.params import DBetaParams
from physiofm.methods import config_class

REPO = Path(__file__).resolve().parents[1]
PAPER = REPO.parent / "shared" / "papers" / "004_c26bc479e8d3a386.txt"
PROFILES = ("ci", "demo", "paper")


def _params(profile: str) -> DBetaParams:
    p = load_params(REPO / "params" / profile / "dbeta.yaml")
    assert isinstance(p, DBetaParams)
    return p


@pytest.fixture(scope="module")
def paper_text() -> str:
    if not PAPER.is_file():
        pytest.skip("../shared/papers is absent")
    return " ".join(PAPER.read_text().split())


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_validates_and_names_its_runs(profile: str) -> None:
    p = _params(profile)
    assert set(type(p.steps).model_fields) == {
        "data",
        "pretrain",
        "linear_probe",
        "zero_shot",
        "ablations",
        "tsne",
    }
    assert p.shared.methods["dbeta"].method == "dbeta" and p.shared.methods["clip"].method == "clip"
    assert set(p.steps.pretrain.methods) <= set(p.shared.methods)


def test_paper_profile_optimisation_is_the_papers(paper_text: str) -> None:
    t = _params("paper").steps.pretrain.train
    assert (t.optimizer, t.lr, tuple(t.betas), t.eps, t.weight_decay) == (
        "adamw",
        5e-5,
        (0.9, 0.98),
        1e-6,
        0.01,
    )
    assert (t.schedule, t.max_steps, t.batch_size, t.gpus) == ("tristage", 300_000, 128, 1)
    for phrase in ("learning rate of 5×10^{-5}", "ratios of 0.1, 0.4, and 0.5", "$\\beta_1 = 0.9$",
                   "$\\beta_2 = 0.98$", "epsilon value of 1×10^{-6}", "weight decay of 0.01", "300000 steps",
                   "batch size of 128"):
        assert phrase in paper_text, phrase
    from physiofm.training.trainer import TrainConfig

    assert TrainConfig().tristage_ratios == (0.1, 0.4, 0.5)  # the schedule's stages, not in the params


def test_paper_profile_model_is_the_registry_default(paper_text: str) -> None:
    shared = _params("paper").shared
    d = shared.methods["dbeta"].config
    assert d == {
        "text_encoder": "t5",
        "text_model_dir": "asset:flan_t5_base",
        "report_bank": "asset:report_bank.npz",
    }
    cfg = config_class("dbeta")()
    assert (cfg.ecg_layers, cfg.ecg_width, cfg.mem_ratio, cfg.mlm_rate, cfg.n3s_k, cfg.lead_mask_p) == (
        8, 768, 0.75, 0.25, 64, 0.5)
    assert (cfg.w_mlm, cfg.w_mem, cfg.w_etm, cfg.w_ets, cfg.mem_decoder_dim, cfg.dropout_input) == (
        1.0, 1.0, 1.0, 1.0, 384, 0.1)
    for phrase in (
        "eight transformer encoder layers",
        "top 64 largest cosine distance",
        "probability of $p = 0.5$",
        "lower-dimensional space (384)",
        "dropout layer on the input with $p = 0.1$",
    ):
        assert phrase in paper_text, phrase
    # the ablations: Table 6's switches and Table 8's depths
    m = shared.methods
    assert m["no_n3s"].config["n3s"] is False and (m["no_ets_no_n3s"].config["ets"],
                                                   m["no_ets_no_n3s"].config["n3s"]) == (False, False)
    assert (m["layers_4"].config["ecg_layers"], m["layers_1"].config["ecg_layers"]) == (4, 1)
    assert m["clip"].config["towers"] == ["ecg12", "report"]


def test_paper_profile_data_is_the_papers(paper_text: str) -> None:
    data = _params("paper").steps.data
    assert (data.pretrain.dataset, data.text_column) == ("mimic4_ecg", "text")
    assert (data.preprocess.fs, data.preprocess.duration_s, data.tokenizer) == (500.0, 10.0, None)
    assert (data.bank.embedder, data.bank.model_subdir) == ("t5_mean", "models/flan-t5-small")
    assert [m.name for m in data.text_models] == ["flan_t5_base"]
    sets = {d.name: d for d in data.downstream}
    assert [t.key for t in sets["ptbxl"].tasks] == ["ptbxl_super", "ptbxl_sub", "ptbxl_form", "ptbxl_rhythm"]
    assert sets["ptbxl"].split_fractions is None and sets["ptbxl"].options == {"sampling_rate": 500}
    assert tuple(sets["cpsc2018"].split_fractions) == tuple(sets["csn"].split_fractions) == (0.7, 0.1, 0.2)
    for phrase in ("MIMIC-IV-ECG v1.0", "sampled at 500 Hz", "70%:10%:20%", "Flan-T5 (small)"):
        assert phrase in paper_text, phrase


def test_paper_profile_evaluation_is_the_papers(paper_text: str) -> None:
    s = _params("paper").steps
    lp = s.linear_probe
    assert (tuple(lp.label_fractions), lp.subsample_seed) == ((0.01, 0.1, 1.0), 42)
    assert (lp.head.epochs, lp.head.batch_size, lp.head.lr) == (200, 128, 1e-3)  # Table 10
    assert lp.head.standardise is False and lp.head.probe_kwargs()["standardise"] is False  # raw features
    assert "We keep training 200 epochs, batch size at 128, and learning rate at 0.001" in paper_text
    assert (s.zero_shot.texts, len(s.zero_shot.shift)) == ("description", 6)
    assert (s.ablations.label_fraction, s.ablations.texts) == (0.01, "name")
    assert s.ablations.table_6["baseline_bert"] is None  # no pretrained BERT can be installed here
    assert (s.tsne.task, s.tsne.min_per_class) == ("csn", 50)
    assert "exclude categories with fewer than 50 samples" in paper_text


def test_unknown_runs_and_tasks_are_errors_naming_them(tmp_path: Path) -> None:
    text = (REPO / "params" / "ci" / "dbeta.yaml").read_text()
    bad = tmp_path / "dbeta.yaml"
    bad.write_text(text.replace("methods: [dbeta, clip, random_init]", "methods: [dbeta, nope]", 1))
    with pytest.raises(ParamsError, match="unknown run"):
        load_params(bad)
    bad.write_text(text.replace("task: cpsc2018\n", "task: csn\n"))
    with pytest.raises(ParamsError, match="tsne.task"):
        load_params(bad)
