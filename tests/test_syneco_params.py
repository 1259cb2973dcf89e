"""params/{ci,demo,paper}/syneco.yaml validate, and the paper profile carries exactly the paper's settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from physiofm.config import ParamsError, load_params
from physiofm.datasets.georgia import SYNECO_CLASSES as GEORGIA_22
from physiofm.methods.syneco import SyneCoConfig
from physiofm.models.net1d import ECGFOUNDER_CONFIG
from physiofm.syneco.params import SynecoParams

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ("ci", "demo", "paper")
PAPER_METHODS = {"syneco", "stack", "syneco_2mod", "sleepfm_pair", "sleepfm_loo", "sleepfm_2mod",
                 "simclr_ecg", "simclr_ppg", "byol_ecg", "byol_ppg"}


def params(profile: str) -> SynecoParams:
    return load_params(ROOT / "params" / profile / "syneco.yaml", "syneco")


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_validates(profile: str) -> None:
    p = params(profile)
    assert isinstance(p, SynecoParams)
    assert set(p.shared.methods) <= PAPER_METHODS
    assert p.shared.encoder.embed_dim == 512  # frozen 512-d embeddings in every profile
    # the two-modality variants are configs of the same registry methods, not methods of their own
    if "syneco_2mod" in p.shared.methods:
        choice = p.shared.methods["syneco_2mod"]
        assert choice.method == "syneco" and choice.config["channels"] == ["ecg_ii", "ecg_v"]
    for run, choice in p.shared.methods.items():
        assert choice.method == {"simclr_ecg": "simclr", "simclr_ppg": "simclr", "byol_ecg": "byol",
                                 "byol_ppg": "byol", "syneco_2mod": "syneco", "sleepfm_2mod": "sleepfm_pair"
                                 }.get(run, run)


def test_paper_profile_is_the_paper() -> None:
    p = params("paper")
    pre, data, probe = p.steps.pretrain.train, p.steps.data, p.steps.probe
    m = SyneCoConfig(**{k: v for k, v in p.shared.methods["syneco"].config.items()})
    # App. C.2: AdamW 1e-4, weight decay 5e-5, batch 128, cosine up to 300,000 steps, validation on a fixed
    # subset of 115,500 segments every 4,000 steps, early stopping after 5.
    assert (pre.optimizer, pre.lr, pre.weight_decay, pre.batch_size) == ("adamw", 1e-4, 5e-5, 128)
    assert (pre.schedule, pre.max_steps) == ("cosine", 300_000)
    assert (pre.val_every, pre.val_segments, pre.patience) == (4000, 115_500, 5)
    # Cycle-based sampling: 50 % of each source per cycle, over MIMIC-III / MIMIC-IV / VitalDB.
    assert (pre.sampler, pre.cycle_fraction) == ("cycle", 0.5)
    # App. C.3: "all experiments are repeated with three random seeds": pretraining too.
    assert p.steps.pretrain.seeds == [0, 42, 1234]
    assert data.source == "real"
    assert [s.dataset for s in data.pretrain_sources] == ["mimic3_wave", "mimic4_wave", "vitaldb"]
    # Section 2.4 / Table B caps: 50 per MIMIC-III record, 1,000 per MIMIC-IV record, 500 per VitalDB subject.
    assert data.preprocess.record_cap == {"mimic3_wave": 50, "mimic4_wave": 1000}
    assert data.preprocess.subject_cap == {"vitaldb": 500}
    pp = data.preprocess
    assert (pp.window_s, pp.min_duration_s, pp.max_flatline, pp.max_invalid) == (10.0, 600.0, 0.25, 0.0)
    assert (pp.ecg_fs, pp.ppg_fs) == (500.0, 125.0)
    assert (tuple(pp.ecg_band), pp.ecg_order) == ((0.67, 40.0), 5)
    assert (tuple(pp.ppg_band), pp.ppg_order) == ((0.5, 8.0), 4)
    # Sections 2.1-2.3: alpha 0.5, channel dropout 0.4 / 0.3, noise sigma 0.05 then x0.9, fusion 4 heads x4
    # (the registry's defaults, which the paper profile does not override).
    assert (m.alpha, m.channel_dropout_p, m.channel_pair_p) == (0.5, 0.4, 0.3)
    assert (m.noise_sigma, m.amplitude_scale) == (0.05, 0.9)
    assert (m.fusion_heads, m.fusion_ff_mult, p.shared.encoder.embed_dim) == (4, 4, 512)
    # App. C.1: the full-size ECGFounder Net1D.
    enc = p.shared.encoder.spec()
    assert (enc.pop("kind"), enc.pop("embed_dim")) == ("net1d", 512)
    assert {k: (tuple(v) if isinstance(v, list) else v) for k, v in enc.items()} == {
        k: v for k, v in ECGFOUNDER_CONFIG.items() if k != "in_channels"}
    # The benchmarks keep every window: only the VitalDB cases are capped at 50 segments (App. D).
    assert data.downstream_max_segments == 50
    georgia = next(s for s in data.downstream_sources if s.dataset == "georgia")
    assert georgia.options["classes"] == list(GEORGIA_22)
    # App. C.3: FC / LR / RF probes, seeds 0 / 42 / 1234, up to 50 segments pooled per VitalDB case,
    # scikit-learn's default forest; every method of the comparison.
    assert p.shared.probe_seeds == [0, 42, 1234]
    assert set(probe.probes) == {"fc", "lr", "rf"}
    assert (probe.max_segments_per_subject, probe.rf_n_estimators, probe.fc_max_epochs) == (50, 100, 100)
    assert p.shared.runtime.device == "auto"
    assert probe.rf_regression_max_features == 1.0 and probe.segment_rows_per_subject is None
    assert set(p.shared.methods) == PAPER_METHODS


def test_paper_encoder_has_the_paper_parameter_count() -> None:
    from physiofm.models import build_encoder

    encoder = build_encoder(params("paper").shared.encoder.spec())
    assert sum(q.numel() for q in encoder.backbone.parameters()) == 30_654_000
    assert encoder.out_features == 512


def test_bad_params_name_the_problem(tmp_path: Path) -> None:
    text = (ROOT / "params" / "ci" / "syneco.yaml").read_text().replace("batch_size: 8", "batch_size: 1")
    bad = tmp_path / "syneco.yaml"
    bad.write_text(text)
    with pytest.raises(ParamsError, match="batch_size"):
        load_params(bad, "syneco")
