"""params/{ci,demo,paper}/multimae.yaml validate, and the paper profile carries exactly the paper's settings
(the numbers come from params/published/multimae.yaml's ``text`` section, itself tested against the paper)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from physiofm.config import ParamsError, load_params
from physiofm.methods import build
from physiofm.models import overall_mask_ratio
from physiofm.multimae.params import MultiMAEParams

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ("ci", "demo", "paper")
RUNS = {"multimae", "multimae_drop", "mae_eeg", "mae_eog", "mae_emg", "mae_ecg", "simclr", "sleepfm_pair",
        "sleepfm_loo"}
TEXT = yaml.safe_load((ROOT / "params" / "published" / "multimae.yaml").read_text())["text"]


def params(profile: str) -> MultiMAEParams:
    return load_params(ROOT / "params" / profile / "multimae.yaml", "multimae")


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_validates_and_every_run_builds(profile: str) -> None:
    p = params(profile)
    assert isinstance(p, MultiMAEParams) and set(p.shared.methods) == RUNS
    assert p.shared.checkpoint_of("multimae_drop") == "last" and p.shared.checkpoint_of("multimae") == "best"
    for run, choice in p.shared.methods.items():
        method = build(choice.method, choice.build_config(p.shared.encoder))
        assert method.inputs == (("eeg", "eog", "emg", "ecg") if not run.startswith("mae_") else (run[4:],))
        if run in ("multimae", "multimae_drop") or run.startswith("mae_"):
            assert method.config.width == p.shared.encoder.width  # one architecture for every model
    assert p.steps.sweep.train == p.steps.pretrain.train  # the 0.7 / 0.6 sweep points are the main runs
    assert 0.7 in p.steps.sweep.mask_ratios and 0.6 in p.steps.sweep.drop_probabilities


def test_paper_profile_is_the_paper() -> None:
    p = params("paper")
    enc = p.shared.encoder
    # §3.2: 1-s chunks of 100 samples (30 per window), Conv1d 64 channels kernel 21, width 512, 8 pre-LN
    # layers of 8 heads, dropout 0.1 on attention and projections.
    assert (enc.tokens, enc.samples_per_token, enc.conv_channels, enc.conv_kernel) == (30, 100, 64, 21)
    assert (enc.width, enc.depth, enc.heads, enc.dropout, enc.attn_dropout) == (512, 8, 8, 0.1, 0.1)
    # §3.3 / App C: 70 % masked; with drop p = 0.6 of the other three modalities, 0.7 overall.
    m = p.shared.methods
    assert m["multimae"].config["mask_ratio"] == TEXT["mask_rate_pct"] / 100
    assert m["multimae_drop"].config["mask_ratio"] == pytest.approx(
        overall_mask_ratio(TEXT["drop_mask_probability"], 4))
    assert m["multimae"].config["decoder_depth"] == 1
    # App F: projection head 512 -> 256 -> 128, fixed temperature, adjacent windows for SimCLR-style.
    for run in ("simclr", "sleepfm_pair", "sleepfm_loo"):
        cfg = m[run].config
        assert (cfg["projector_hidden"], cfg["projector_dim"]) == (256, 128) and cfg["temperature"] > 0
    assert m["simclr"].config["adjacent"] == ["eeg", "eog", "emg", "ecg"]
    # §3.1: PhysioNet 2018, all records; F3-M2; FIR 0.1-30 / 0.1-70 Hz; 200 -> 100 Hz; 30-s windows; splits.
    d = p.steps.data
    assert d.source.kind == "registry" and d.source.dataset == "physionet2018"
    assert d.source.options["split"] == "all"
    pre = d.preprocess
    assert pre.channels["eeg"] == ["F3-M2"] and pre.channels["ecg"] == ["ECG"]
    assert tuple(pre.bands["eeg"]) == tuple(pre.bands["eog"]) == (0.1, 30.0)
    assert tuple(pre.bands["emg"]) == tuple(pre.bands["ecg"]) == (0.1, 70.0)
    assert (pre.fs_in, pre.fs_in / pre.factor, pre.window_s) == (200.0, 100.0, 30.0)
    assert d.labelled_split == (TEXT["pretrain_labelled_patients"], TEXT["validation_patients"],
                                TEXT["test_patients"])
    assert d.target_arousal_rate == pytest.approx(TEXT["arousal_positive_pct"] / 100)
    assert d.arousal_rule == "closest"
    # §3.5 / App A: AdamW, warm-up to 1e-4 over 10 epochs then cosine, 2,000 epochs, 8 GPUs, mixed precision;
    # 5 seeds in every stage.
    tr = p.steps.pretrain.train
    assert (tr.optimizer, tr.lr, tr.schedule, tr.gpus, tr.amp) == ("adamw", 1e-4, "cosine", 8, "auto")
    assert tr.max_steps * TEXT["warmup_epochs"] == tr.warmup_steps * TEXT["pretrain_epochs"]
    assert len(p.steps.pretrain.seeds) == TEXT["seeds"]
    ft = p.steps.finetune
    assert ft.train.max_steps * TEXT["warmup_epochs"] == ft.train.warmup_steps * TEXT["finetune_epochs"]
    assert (ft.train.lr, ft.train.gpus, ft.patients, len(ft.seeds)) == (1e-4, 8, TEXT["probe_patients"], 5)
    assert set(ft.scratch) == {"all", "eeg", "eog", "emg", "ecg"}
    assert set(ft.finetune) == {"mae_eeg", "mae_eog", "mae_emg", "mae_ecg", "multimae_drop"}
    # §3.4: linear head, class-weighted cross-entropy, 200 epochs at 1e-4; 500 and 25 training patients.
    pr = p.steps.probing
    assert (pr.probe, pr.class_weighted, pr.head.max_epochs, pr.head.lr) == ("fc", True, 200, 1e-4)
    assert pr.patients == [TEXT["probe_patients"], TEXT["probe_patients_small"]] and len(pr.seeds) == 5
    # App C / Fig 3: full fine-tuning, 500 and 25 patients; Fig 2: rollout with r = 0.5, capped at 0.03.
    sw = p.steps.sweep
    assert sw.evaluation == "finetune" and sw.patients == pr.patients
    ro = p.steps.rollout
    assert (ro.residual, ro.cap) == (0.5, TEXT["rollout_cap"])
    assert ro.models == p.steps.rsv.models == ["scratch", "multimae", "multimae_drop"]


def test_bad_params_name_the_key(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "params" / "ci" / "multimae.yaml").read_text())
    raw["steps"]["probing"]["methods"].append("nope")
    bad = tmp_path / "multimae.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ParamsError, match="steps.probing.methods"):
        load_params(bad, "multimae")
    raw = yaml.safe_load((ROOT / "params" / "ci" / "multimae.yaml").read_text())
    raw["steps"]["tsne"]["methods"] = ["multimae"]
    raw["steps"]["pretrain"]["methods"] = ["multimae_drop"]
    raw["steps"]["probing"]["methods"] = ["multimae_drop"]
    raw["steps"]["finetune"]["finetune"] = ["multimae_drop"]
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ParamsError, match="not pretrained"):
        load_params(bad, "multimae")
