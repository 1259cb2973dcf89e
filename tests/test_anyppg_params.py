"""The AnyPPG study's params: every profile validates, and the paper profile carries the paper's settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from physiofm.anyppg.params import AnyPPGParams
from physiofm.config import ParamsError, load_params
from physiofm.models.net1d import ANYPPG_CONFIG

REPO = Path(__file__).resolve().parents[1]
PROFILES = ("ci", "demo", "paper")


def _params(profile: str) -> AnyPPGParams:
    p = load_params(REPO / "params" / profile / "anyppg.yaml")
    assert isinstance(p, AnyPPGParams)
    return p


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_validates(profile: str) -> None:
    p = _params(profile)
    assert set(type(p.steps).model_fields) == {"data", "pretrain", "retrieval", "probing"}


def test_paper_profile_pretraining_is_the_papers() -> None:
    step = _params("paper").steps.pretrain
    t = step.train
    assert (t.optimizer, t.lr, t.weight_decay, t.schedule) == ("adamw", 5e-4, 1e-2, "cosine")
    assert (t.max_steps, t.warmup_steps, t.grad_clip) == (200_000, 40_000, 1.0)
    assert (t.batch_size, t.gpus, t.sampler) == (1536, 4, "shuffle")
    assert "anyppg" in step.methods


def test_paper_profile_model_is_full_net1d_anyppg() -> None:
    shared = _params("paper").shared
    enc = shared.encoder.spec()
    assert (enc.pop("kind"), enc.pop("preset"), enc.pop("embed_dim")) == ("net1d", "anyppg", None)
    expected = {k: v for k, v in ANYPPG_CONFIG.items() if k in enc}
    assert {k: tuple(v) if isinstance(v, list) else v for k, v in enc.items()} == {
        k: tuple(v) if isinstance(v, list | tuple) else v for k, v in expected.items()}
    assert set(ANYPPG_CONFIG) - set(enc) == {"in_channels", "use_bn"}  # fixed by the anyppg preset itself
    clip = shared.methods["anyppg"]
    assert clip.method == "clip" and clip.config["towers"] == ["ppg", "ecg"]
    c = clip.config
    assert (c["projector_hidden"], c["embed_dim"], c["init_temperature"], c["max_logit_scale"]) == (
        512, 256, 0.07, 100.0)
    # the PPG-only baselines are configs of the registry's simclr / byol: two views of one PPG segment
    for run in ("simclr", "byol"):
        assert shared.methods[run].method == run and shared.methods[run].config["pair"] == ["ppg", "ppg"]


def test_paper_profile_data_and_evaluation() -> None:
    p = _params("paper")
    pre = p.steps.data.preprocess
    assert (pre.window_s, pre.max_invalid, pre.fs, pre.notch_freq) == (10.0, 0.25, 125.0, 50.0)
    assert tuple(pre.ppg_band) == (0.5, 8.0) and tuple(pre.ecg_band) == (0.5, 40.0)
    assert pre.polarity and pre.sqi
    assert tuple(p.steps.data.split_fractions) == (0.8, 0.1, 0.1)
    # the five pretraining sources of the paper are listed, and marked as not loadable
    unavailable = {s.name for s in p.steps.data.sources if s.kind == "unavailable"}
    assert unavailable == {"mc_med", "pulsedb", "mesa", "hsp", "cfs"}
    # every probing task of the paper is covered by a registry dataset
    from physiofm.anyppg.tasks import PROBE_TASKS

    covered = {t for s in p.steps.data.probe_sets if s.kind == "registry" for task in s.tasks
               for t in task.analogue_of}
    assert covered == {t.id for t in PROBE_TASKS}
    assert p.steps.retrieval.batch_pairs == 2560 and list(p.steps.retrieval.ks) == [1, 5, 10]
    pr = p.steps.probing
    decades = [10.0**e for e in range(-6, 7)]
    assert (pr.outer_folds, pr.inner_folds) == (5, 5)
    assert pr.logreg_C == pytest.approx(decades) and pr.ridge_alpha == pytest.approx(decades)
    assert set(pr.logreg_solvers) == {"lbfgs", "saga"}
    assert set(pr.ridge_solvers) == {"auto", "cholesky", "sparse_cg"}


@pytest.mark.parametrize("profile", ("ci", "demo"))
def test_small_profiles_use_the_built_in_data(profile: str) -> None:
    d = _params(profile).steps.data
    assert all(s.kind == "synthetic_icu" for s in [*d.sources, *d.probe_sets])
    assert len(d.sources) >= 2  # several sources, so per-source and aggregate numbers exist


def test_bad_values_are_named(tmp_path: Path) -> None:
    text = (REPO / "params" / "ci" / "anyppg.yaml").read_text().replace("lr: 5.0e-4", "lr: -1.0")
    bad = tmp_path / "anyppg.yaml"
    bad.write_text(text)
    with pytest.raises(ParamsError, match=r"steps\.pretrain\.train\.lr"):
        load_params(bad)
    text = (REPO / "params" / "paper" / "anyppg.yaml").read_text()
    bad.write_text(text.replace("dataset: mimic3_wave", "dataset: no_such_dataset"))
    with pytest.raises(ParamsError, match="not a physiofm.datasets registry name"):
        load_params(bad)
