"""AnyPPG's runs as registry methods: ``clip`` (two Net1D towers, projectors, learnable temperature) and the
PPG-only SimCLR / BYOL baselines on two views of one PPG segment; losses, embeddings, the paper's sizes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from physiofm import methods
from physiofm.methods.channels import augment
from physiofm.models.projector import Projector
from physiofm.training.run import decay_groups

# A tiny Net1D: same blocks as the paper's encoder, two narrow stages, so a step takes milliseconds.
TINY = dict(kind="net1d", preset="anyppg", base_filters=8, filters=(8, 16), blocks=(1, 1), groups_width=4,
            dropout=0.0, embed_dim=None)
FS, T = 125.0, 1250


def clip(**kw):
    return methods.build("clip", {"encoder": TINY, "projector_hidden": 32, "embed_dim": 8, **kw})


def baseline(kind: str):
    if kind == "simclr":
        return methods.build("simclr", {"encoder": TINY, "pair": ("ppg", "ppg"), "projector_hidden": 32,
                                        "projector_dim": 8, "max_mask_fraction": 0.1})
    return methods.build("byol", {"encoder": TINY, "pair": ("ppg", "ppg"), "hidden": 32, "dim": 8,
                                  "batch_norm": False, "activation": "gelu", "max_mask_fraction": 0.1})


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _pairs(n: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """n synthetic synchronised (PPG, ECG) 10-s pairs at 125 Hz, one heart rate and phase per pair."""
    rng = np.random.default_rng(seed)
    t = np.arange(T) / FS
    hr = rng.uniform(0.8, 2.5, n)[:, None]  # beats per second
    phase = rng.uniform(0, 2 * np.pi, n)[:, None]
    beat = 2 * np.pi * hr * t + phase
    ppg = np.sin(beat) + 0.3 * np.sin(2 * beat + 1.0) + 0.05 * rng.standard_normal((n, T))
    ecg = np.cos(beat / 2) ** 40 + 0.05 * rng.standard_normal((n, T))  # a narrow spike once per beat
    z = lambda x: (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True)  # noqa: E731
    return {k: torch.tensor(z(v)[:, None, :], dtype=torch.float32) for k, v in (("ppg", ppg), ("ecg", ecg))}


def _train(model, batch, steps: int, lr: float = 3e-3) -> list[float]:
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=1e-2)
    losses = []
    for step in range(steps):
        loss = model.loss(batch)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        model.after_step(step + 1, steps)
        losses.append(loss.item())
    return losses


def test_projector_is_the_papers_head():
    proj = Projector()
    assert [type(m).__name__ for m in proj.net] == ["Linear", "GELU", "Linear"]
    assert (proj.net[0].in_features, proj.net[0].out_features, proj.net[2].out_features) == (1024, 512, 256)
    assert proj(torch.randn(3, 1024)).shape == (3, 256)
    assert sum(p.numel() for p in proj.parameters()) == 1024 * 512 + 512 + 512 * 256 + 256
    with pytest.raises(ValueError, match="1024"):
        proj(torch.randn(3, 512))


def test_paper_model_size():
    model = methods.build("clip")  # the registry's defaults are AnyPPG's
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n(model.encoders["ppg"]) == n(model.encoders["ecg"]) == 5_850_864  # Table 5
    assert model.encoders["ppg"].out_features == 1024 and model.config.embed_dim == 256
    assert n(model) == 2 * 5_850_864 + 2 * (1024 * 512 + 512 + 512 * 256 + 256) + 1
    assert model.logit_scale().item() == pytest.approx(1 / 0.07, rel=1e-6)
    assert model.inputs == ("ppg", "ecg") and model.probe_key == "ppg"


def test_forward_shapes_and_l2_norm():
    torch.manual_seed(0)
    model = clip()
    batch = _pairs(6)
    emb = model.embeddings(batch)
    assert emb["ppg"].shape == (6, 16)  # the frozen PPG encoder's features: what probes read
    assert emb["ppg_shared"].shape == emb["ecg_shared"].shape == (6, 8)
    torch.testing.assert_close(emb["ppg_shared"].norm(dim=1), torch.ones(6))
    torch.testing.assert_close(emb["ecg_shared"].norm(dim=1), torch.ones(6))
    # the encoders are separate networks: the same input gives different features
    other = model.embeddings({"ecg": batch["ppg"]})["ecg"]
    assert not torch.allclose(emb["ppg"], other)
    with pytest.raises(ValueError, match=r"\(B, 1, T\)"):
        model.loss({"ppg": batch["ppg"][:, 0], "ecg": batch["ecg"]})
    with pytest.raises(KeyError, match="ecg"):
        model.loss({"ppg": batch["ppg"]})


def test_clip_training_reduces_loss_and_clamps_scale():
    torch.manual_seed(0)
    model = clip()
    batch = _pairs(16)
    losses = _train(model, batch, steps=25)
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:3])
    assert model.logit_scale.log_scale.grad is not None
    # after_step applies open_clip's clamp to the parameter itself
    with torch.no_grad():
        model.logit_scale.log_scale.fill_(7.0)
    model.after_step(1, 1)
    assert model.logit_scale.log_scale.item() == pytest.approx(math.log(100.0))
    model.loss(batch)
    assert model.logs["logit_scale"] == pytest.approx(100.0, rel=1e-5)
    assert set(model.logs) >= {"temperature", "batch_top1"}


def test_embeddings_are_eval_mode_and_restore_training():
    torch.manual_seed(0)
    model = clip().train()
    batch = _pairs(10)
    probe = model.embed({"ppg": batch["ppg"]})
    assert model.training  # restored after the eval-mode pass
    model.eval()
    with torch.no_grad():
        expected = model.encoders["ppg"](batch["ppg"])
    torch.testing.assert_close(probe, expected)


def test_ppg_view_masks_one_short_span():
    x = _pairs(32)["ppg"]
    torch.manual_seed(0)
    v = augment(x, 0.05, 0.9, max_mask_fraction=0.1)
    assert v.shape == x.shape
    zero_runs = (v == 0).sum(dim=-1).squeeze(1)
    assert zero_runs.max() <= int(0.1 * T) and zero_runs.max() > 0
    unmasked = v != 0
    # elsewhere it is SyneCo's operator: (x + noise) * 0.9
    resid = (v / 0.9 - x)[unmasked]
    assert 0.03 < resid.std().item() < 0.07


@pytest.mark.parametrize("kind", ["simclr", "byol"])
def test_baselines_train(kind):
    torch.manual_seed(0)
    model = baseline(kind)
    batch = {"ppg": _pairs(16)["ppg"]}
    target_before = [p.clone() for p in model.target_encoders.parameters()] if kind == "byol" else None
    losses = _train(model, batch, steps=25)
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert model.embed(batch).shape == (16, 16)  # the encoder's features, as for AnyPPG
    if kind == "byol":
        # the target network gets no gradient, but after_step moves it towards the online network
        assert all(p.grad is None for p in model.target_encoders.parameters())
        moved = [not torch.equal(a, b) for a, b in zip(target_before, model.target_encoders.parameters())]
        assert any(moved)
        t0 = next(model.target_encoders.parameters())
        o0 = next(model.encoders.parameters())
        assert not torch.equal(t0, o0)


def test_clip_on_real_ppg_ecg(real_samples):
    """Real resting ECG + PPG (NeuroKit, 100 Hz): a tiny AnyPPG learns to pair 30 windows of one record.

    Windows of one person at rest differ mainly in where the beats fall and in heart-rate variability, so
    this is slower to fit than the synthetic pairs (60 steps)."""
    import pandas as pd
    from scipy.signal import resample_poly

    df = pd.read_csv(real_samples / "neurokit" / "bio_resting_5min_100hz.csv")
    segs = {}
    for name, col in (("ppg", "PPG"), ("ecg", "ECG")):
        x = resample_poly(df[col].to_numpy(float), 5, 4)  # 100 Hz -> 125 Hz
        x = x[: len(x) // T * T].reshape(-1, T)
        x = (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True)
        segs[name] = torch.tensor(x[:, None, :], dtype=torch.float32)
    assert segs["ppg"].shape == (30, 1, T)
    torch.manual_seed(0)
    model = clip()
    losses = _train(model, segs, steps=60)
    assert np.mean(losses[:3]) == pytest.approx(math.log(30), abs=0.1)  # chance level at the start
    assert np.mean(losses[-5:]) < 0.85 * np.mean(losses[:3])


def test_trains_with_the_project_trainer(tmp_path):
    """The method plugs into physiofm.training.Trainer; after_step keeps the scale under the cap."""
    from physiofm.training import TrainConfig, Trainer

    torch.manual_seed(0)
    model = clip()
    batch = _pairs(16)
    groups = decay_groups(model, lr=3e-3, weight_decay=1e-2)
    assert any(p is model.logit_scale.log_scale for p in groups[1]["params"])
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    config = TrainConfig(lr=3e-3, weight_decay=1e-2, warmup_steps=2, max_steps=12, grad_clip=1.0, val_every=6,
                         log_every=1, progress=False, amp="off", device="cpu")
    result = Trainer(model, None, [batch], config, tmp_path, val_data=[batch], param_groups=groups).fit()
    assert result.steps == 12 and result.best_checkpoint.is_file()
    curve = result.curve.dropna(subset=["loss"])
    assert curve["loss"].iloc[-3:].mean() < curve["loss"].iloc[:3].mean()
    assert {"temperature", "batch_top1"} <= set(curve.columns)
    assert 0.0 <= model.logit_scale.log_scale.item() <= math.log(100.0)
