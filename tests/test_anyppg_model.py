"""physiofm.anyppg: the two-encoder CLIP model, its objective, embeddings, and the SimCLR / BYOL baselines."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from physiofm.anyppg import (
    BYOL,
    AnyPPG,
    BYOLObjective,
    ClipObjective,
    SimCLR,
    SimCLRObjective,
    param_groups,
    ppg_view,
    probe_features,
    retrieval_embeddings,
)
from physiofm.models.projector import Projector

# A tiny Net1D: same blocks as the paper's encoder, two narrow stages, so a step takes milliseconds.
TINY = dict(base_filters=8, filters=(8, 16), blocks=(1, 1), groups_width=4, dropout=0.0)
FS, T = 125.0, 1250


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


def _train(model, objective, batch, steps: int, lr: float = 3e-3) -> list[float]:
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=1e-2)
    losses = []
    for step in range(steps):
        loss, logs = objective(model, batch)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if hasattr(objective, "after_step"):
            objective.after_step(model, step + 1, steps)
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
    model = AnyPPG()
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n(model.ppg_encoder) == n(model.ecg_encoder) == 5_850_864  # Table 5
    assert model.feature_dim == 1024 and model.embed_dim == 256
    assert n(model) == 2 * 5_850_864 + 2 * (1024 * 512 + 512 + 512 * 256 + 256) + 1
    assert model.logit_scale().item() == pytest.approx(1 / 0.07, rel=1e-6)


def test_forward_shapes_and_l2_norm():
    torch.manual_seed(0)
    model = AnyPPG(TINY, proj_hidden=32, embed_dim=8)
    batch = _pairs(6)
    z_p = model.encode_ppg(batch["ppg"])
    assert z_p.shape == (6, 16)
    h_p, h_e, scale = model(batch["ppg"], batch["ecg"])
    assert h_p.shape == h_e.shape == (6, 8) and scale.ndim == 0
    torch.testing.assert_close(h_p.norm(dim=1), torch.ones(6))
    torch.testing.assert_close(h_e.norm(dim=1), torch.ones(6))
    # the encoders are separate networks: the same input gives different features
    assert not torch.allclose(model.encode_ppg(batch["ppg"]), model.encode_ecg(batch["ppg"]))
    with pytest.raises(ValueError, match=r"\(B, 1, T\)"):
        model.encode_ppg(batch["ppg"][:, 0])
    with pytest.raises(KeyError, match="ecg"):
        ClipObjective()(model, {"ppg": batch["ppg"]})


def test_clip_training_reduces_loss_and_clamps_scale():
    torch.manual_seed(0)
    model = AnyPPG(TINY, proj_hidden=32, embed_dim=8)
    objective = ClipObjective()
    batch = _pairs(16)
    losses = _train(model, objective, batch, steps=25)
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:3])
    assert model.logit_scale.log_scale.grad is not None
    # after_step applies open_clip's clamp to the parameter itself
    with torch.no_grad():
        model.logit_scale.log_scale.fill_(7.0)
    objective.after_step(model, 1, 1)
    assert model.logit_scale.log_scale.item() == pytest.approx(math.log(100.0))
    _, logs = objective(model, batch)
    assert logs["logit_scale"] == pytest.approx(100.0, rel=1e-5)
    assert set(logs) >= {"clip_loss", "temperature", "batch_top1"}


def test_embedding_functions():
    torch.manual_seed(0)
    model = AnyPPG(TINY, proj_hidden=32, embed_dim=8).train()
    batch = _pairs(10)
    q, g = retrieval_embeddings(model, batch["ppg"].numpy(), batch["ecg"][:, 0].numpy(), batch_size=4)
    assert q.shape == g.shape == (10, 8) and q.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, rtol=1e-5)
    assert model.training  # restored after the eval-mode pass
    # the same from an iterable of batch dicts (a DataLoader)
    loader = [{k: v[i : i + 4] for k, v in batch.items()} for i in range(0, 10, 4)]
    q2, g2 = retrieval_embeddings(model, loader)
    np.testing.assert_allclose(q2, q, atol=1e-5)
    np.testing.assert_allclose(g2, g, atol=1e-5)
    # probing uses the frozen PPG encoder's features (before the projector), in eval mode
    feats = probe_features(model, batch["ppg"], batch_size=3)
    model.eval()
    with torch.no_grad():
        expected = model.encode_ppg(batch["ppg"]).numpy()
    assert feats.shape == (10, 16)
    np.testing.assert_allclose(feats, expected, atol=1e-5)
    with pytest.raises(ValueError, match="queries"):
        retrieval_embeddings(model, batch["ppg"], batch["ecg"][:7])


def test_ppg_view_masks_one_short_span():
    x = _pairs(32)["ppg"]
    v = ppg_view(x, generator=torch.Generator().manual_seed(0))
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
    if kind == "simclr":
        model, objective = SimCLR(TINY, proj_hidden=32, embed_dim=8), SimCLRObjective()
    else:
        model, objective = BYOL(TINY, proj_hidden=32, embed_dim=8), BYOLObjective()
    batch = {"ppg": _pairs(16)["ppg"]}
    target_before = [p.clone() for p in model.parameters()] if kind == "byol" else None
    losses = _train(model, objective, batch, steps=25)
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert probe_features(model, batch["ppg"]).shape == (16, 16)
    if kind == "byol":
        # the target network gets no gradient, but after_step moves it towards the online network
        assert all(p.grad is None for p in model.target_encoder.parameters())
        moved = [not torch.equal(a, b) for a, b in zip(target_before, model.parameters())]
        assert any(moved)
        t0 = next(model.target_encoder.parameters())
        o0 = next(model.ppg_encoder.parameters())
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
    model = AnyPPG(TINY, proj_hidden=32, embed_dim=8)
    losses = _train(model, ClipObjective(), segs, steps=60)
    assert np.mean(losses[:3]) == pytest.approx(math.log(30), abs=0.1)  # chance level at the start
    assert np.mean(losses[-5:]) < 0.85 * np.mean(losses[:3])


def test_trains_with_the_project_trainer(tmp_path):
    """The objective plugs into physiofm.training.Trainer; after_step keeps the scale under the cap."""
    from physiofm.training import TrainConfig, Trainer

    torch.manual_seed(0)
    model = AnyPPG(TINY, proj_hidden=32, embed_dim=8)
    batch = _pairs(16)
    groups = param_groups(model, lr=3e-3, weight_decay=1e-2)
    assert any(p is model.logit_scale.log_scale for p in groups[1]["params"])
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    config = TrainConfig(lr=3e-3, weight_decay=1e-2, warmup_steps=2, max_steps=12, grad_clip=1.0, val_every=6,
                         log_every=1, progress=False, amp="off", device="cpu")
    result = Trainer(model, ClipObjective(), [batch], config, tmp_path, val_data=[batch],
                     param_groups=groups).fit()
    assert result.steps == 12 and result.best_checkpoint.is_file()
    curve = result.curve.dropna(subset=["loss"])
    assert curve["loss"].iloc[-3:].mean() < curve["loss"].iloc[:3].mean()
    assert 0.0 <= model.logit_scale.log_scale.item() <= math.log(100.0)
