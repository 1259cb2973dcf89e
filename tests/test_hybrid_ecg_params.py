"""params/{ci,demo,paper}/hybrid_ecg.yaml validate, and the paper profile carries exactly the paper's settings
(and the spec's defaults where the paper is silent)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from physiofm import methods
from physiofm.config import ParamsError, load_params
from physiofm.hybrid_ecg import grid as G
from physiofm.hybrid_ecg.params import HybridEcgParams

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ("ci", "demo", "paper")
PUBLISHED = yaml.safe_load((ROOT / "params" / "published" / "hybrid_ecg.yaml").read_text())


def params(profile: str) -> HybridEcgParams:
    return load_params(ROOT / "params" / profile / "hybrid_ecg.yaml", "hybrid_ecg")


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_validates_and_builds_its_objectives(profile: str) -> None:
    p = params(profile)
    assert isinstance(p, HybridEcgParams)
    assert [t.name for t in p.shared.tasks] == ["mi", "sttc", "cd", "hyp"]
    assert all(t.kind == "binary" for t in p.shared.tasks)
    enc = p.shared.encoder
    assert enc.kind == "vit1d" and (enc.in_channels, enc.signal_length) == (12, 2500)
    # CL = hybrid without reconstruction, GL = MAE with L1, HL = hybrid 1 : 1 : 1, in every profile
    cl, gl, hl = (p.shared.methods[m] for m in ("cl", "gl", "hl"))
    assert (cl.method, cl.config["w_recon"]) == ("hybrid", 0.0)
    assert gl.method == "mae" and hl.method == "hybrid"
    for m, choice in p.shared.methods.items():
        cfg = methods.config_class(choice.method)(**choice.build_config(p.shared.encoder))
        assert cfg.encoder["kind"] == "vit1d"
        if m == "hl":
            assert (cfg.w_recon, cfg.w_patient, cfg.w_sample) == (1.0, 1.0, 1.0)
        if m == "gl":
            assert cfg.loss == "l1"
    g = p.steps.pretrain.grid
    assert len(G.configs(g)) == {"full": 27, "latin_square": 9, "diagonal": 3}[g.design]
    assert p.steps.data.preprocess.fs == 250.0 and p.steps.data.preprocess.duration_s == 10.0
    assert not p.steps.data.preprocess.zscore


def test_paper_profile_is_the_paper() -> None:
    p = params("paper")
    d = p.steps.data
    # §3.1 / Table 6: MIMIC-IV-ECG and CODE-15 are read; UK Biobank, SaMi-Trop and IKEM are not public
    kinds = {s.name: s.kind for s in d.pretrain_sources}
    assert [s.dataset for s in d.pretrain_sources if s.kind == "registry"] == ["mimic4_ecg", "code15"]
    assert {s.paper_name for s in d.pretrain_sources if s.kind == "unavailable"} == {
        "UK Biobank", "SaMi-Trop", "IKEM"}
    assert len(kinds) == 5
    # PTB-XL downstream, superclass columns, strat_fold 10 = test, 10 % stratified validation of the pool
    assert (d.downstream.dataset, d.downstream.options) == ("ptbxl", {"sampling_rate": 500})
    assert [t.target for t in p.shared.tasks] == ["super_MI", "super_STTC", "super_CD", "super_HYP"]
    split = d.downstream_split
    assert (split.fold_column, split.test_folds, split.val_fraction) == ("strat_fold", [10], 0.1)
    # §3.1: 250 Hz, 10 s = 2,500 samples, mV, no filter / normalisation
    assert (d.preprocess.fs * d.preprocess.duration_s, d.preprocess.zscore) == (2500, False)
    # §3.3 RQ1: the full grid; App. C: the paper's out-of-memory cases (null in Tables 8-9) left out
    g = p.steps.pretrain.grid
    assert (g.patch_sizes, g.depths, g.widths) == ([60, 125, 250], [2, 4, 8], [256, 512, 1024])
    assert g.design == "full"
    for m in ("cl", "gl", "hl"):
        oom = sorted(int(c) for c, v in PUBLISHED["lp_grid"].items() if v["all"][m]["criteria"] is None)
        assert sorted(g.paper_oom.get(m, [])) == oom, m
    assert g.skip_paper_oom
    assert len(G.runs(g, p.shared.methods, p.shared.encoder)) == 81 - 8
    for c in G.configs(g):
        assert PUBLISHED["meta"]["grid_cases"][c.case] == [c.patch, c.depth, c.width]
    # the spec's [D] optimisation: AdamW (0.9, 0.95), wd 0.05, lr 1.5e-4 x B / 256, cosine with warm-up
    t = p.steps.pretrain.train
    assert (t.optimizer, t.betas, t.weight_decay, t.schedule) == ("adamw", (0.9, 0.95), 0.05, "cosine")
    assert t.lr == pytest.approx(1.5e-4 * t.batch_size / 256) and t.warmup_steps > 0
    # Table 4 / App. A.3: 7,000 training records at 5 / 2 / 1 %; Table 5: 50 / 25 / 10 %
    s = p.steps.scarcity
    assert s.n_total == PUBLISHED["text"]["low_incidence_training_records"] == 7000
    assert [f"{r * 100:g}%" for r in s.case_ratios] == list(PUBLISHED["table_4"])
    assert [f"{r * 100:g}%" for r in s.label_fractions] == list(PUBLISHED["table_5"])
    # Table 3: the 1-D ResNet-50 baseline; the spec's fine-tuning: AdamW 1e-4
    assert (p.steps.finetune.resnet.blocks, p.steps.finetune.resnet.base_width) == ([3, 4, 6, 3], 64)
    assert p.steps.finetune.lr == 1e-4 and p.steps.probe.random_init
    assert p.shared.seeds == [0, 1, 2]


def test_demo_sub_grid_keeps_three_values_per_axis() -> None:
    g = params("demo").steps.pretrain.grid
    configs = G.configs(g)
    for axis, values in (("patch", g.patch_sizes), ("depth", g.depths), ("width", g.widths)):
        counts = [sum(getattr(c, axis) == v for c in configs) for v in values]
        assert counts == [3, 3, 3], axis
    cases = {c.case for c in configs}
    assert {1, 20} <= cases  # both configurations the paper selects (by axis position)


def test_bad_params_are_named() -> None:
    raw = yaml.safe_load((ROOT / "params" / "ci" / "hybrid_ecg.yaml").read_text())
    raw["shared"]["methods"]["cl"] = {"method": "simclr"}
    bad = ROOT / "build" / "test_params" / "hybrid_ecg.yaml"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ParamsError, match="not a ViT-1D objective"):
        load_params(bad, "hybrid_ecg")
    raw = yaml.safe_load((ROOT / "params" / "ci" / "hybrid_ecg.yaml").read_text())
    raw["steps"]["scarcity"]["case_ratios"] = [5]
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ParamsError, match="case_ratios"):
        load_params(bad, "hybrid_ecg")
