"""Every SyneCo-study pretraining method: finite loss, backward, learning on a fixed batch, embeddings."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from physiofm.augment import augment_view
from physiofm.syneco import CHANNELS, build_method, method_names
from physiofm.syneco.config import SyneCoConfig

TINY = dict(
    net1d=dict(base_filters=16, filters=(16, 32), blocks=(1, 1), kernel_size=5, dropout=0.0),
    embed_dim=32,
    byol_hidden=64,
    byol_dim=16,
)
B = 8
PAPER_METHODS = [
    "syneco",
    "syneco_2mod",
    "stack",
    "sleepfm_pair",
    "sleepfm_loo",
    "sleepfm_2mod",
    "simclr",
    "byol",
]


def fixed_batch(ecg_len: int = 500, ppg_len: int = 125) -> dict[str, torch.Tensor]:
    """A shrunken batch (the paper's is (B, 1, 5000) ECG and (B, 1, 1250) PPG); Net1D is length-agnostic."""
    g = torch.Generator().manual_seed(0)
    return {
        "ecg_ii": torch.randn(B, 1, ecg_len, generator=g),
        "ecg_v": torch.randn(B, 1, ecg_len, generator=g),
        "ppg": torch.randn(B, 1, ppg_len, generator=g),
        "subject": torch.arange(B),  # non-signal keys are ignored
    }


def seeded_loss(method, batch: dict[str, torch.Tensor], seed: int = 123) -> float:
    """Loss with the augmentation / channel-dropout draws fixed, so two evaluations are comparable."""
    torch.manual_seed(seed)
    with torch.no_grad():
        loss, _ = method.objective(method.model, batch)
    return loss.item()


def test_registry_holds_every_paper_method() -> None:
    assert set(PAPER_METHODS) <= set(method_names())
    with pytest.raises(KeyError, match="unknown pretraining method"):
        build_method("nope", TINY)
    with pytest.raises(ValueError, match="unknown SyneCo method setting"):
        build_method("syneco", {"tempreature": 0.1})


@pytest.mark.parametrize("name", method_names())
def test_method_learns_on_a_fixed_batch(name: str) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    method = build_method(name, TINY)
    batch = fixed_batch()
    model, objective = method.model, method.objective
    model.train()
    before = seeded_loss(method, batch)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=2e-3)
    for step in range(8):
        loss, logs = objective(model, batch)
        assert torch.isfinite(loss) and loss.ndim == 0
        assert all(isinstance(v, float) for v in logs.values()) and "loss" in logs
        opt.zero_grad()
        loss.backward()
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in params)
        opt.step()
        if hasattr(objective, "after_step"):
            objective.after_step(model, step, 8)
    after = seeded_loss(method, batch)
    assert after < before, f"{name}: loss {before:.4f} -> {after:.4f}"

    emb = method.embed(model, batch)
    assert model.training, "embed must restore the training mode"
    for ch in method.channels:
        assert emb[ch].shape == (B, 32)
        torch.testing.assert_close(emb[ch].norm(dim=-1), torch.ones(B))
    assert emb["concat"].shape == (B, 32 * len(method.channels))
    assert method.probe_key in emb
    if name in ("syneco", "syneco_2mod"):
        assert emb["fused"].shape == (B, 32)
    if name == "stack":
        assert emb["fused"].shape == (B, 96)


def test_method_channels() -> None:
    expect = {
        "syneco": CHANNELS,
        "stack": CHANNELS,
        "sleepfm_pair": CHANNELS,
        "sleepfm_loo": CHANNELS,
        "syneco_2mod": ("ecg_ii", "ecg_v"),
        "sleepfm_2mod": ("ecg_ii", "ecg_v"),
        "simclr": ("ecg_ii", "ecg_v"),
        "byol": ("ecg_ii", "ecg_v"),
        "simclr_ppg": ("ecg_ii", "ppg"),
        "byol_ppg": ("ecg_ii", "ppg"),
    }
    for name, channels in expect.items():
        assert build_method(name, TINY).channels == channels
    assert build_method("simclr", {**TINY, "pair": ["ecg_ii", "ppg"]}).channels == ("ecg_ii", "ppg")


def test_syneco_per_channel_term_is_computed_before_channel_dropout() -> None:
    """If fusion sees only ECG-II, the other encoders learn only via the alpha-weighted per-channel term."""
    torch.set_num_threads(1)

    class KeepFirst(nn.Module):
        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            out = torch.zeros_like(tokens)
            out[:, 0] = tokens[:, 0]
            return out

    batch = fixed_batch()
    for alpha, expect_grad in [(0.5, True), (0.0, False)]:
        torch.manual_seed(0)
        method = build_method("syneco", {**TINY, "alpha": alpha})
        method.model.channel_dropout = KeepFirst()
        loss, logs = method.objective(method.model, batch)
        assert logs["loss"] == pytest.approx(logs["fused_loss"] + alpha * logs["mod_loss"], rel=1e-5)
        loss.backward()
        for ch in ("ecg_v", "ppg"):
            g = method.model.encoders[ch].proj.weight.grad
            assert (g is not None and g.abs().sum() > 0) == expect_grad, (alpha, ch)


def test_syneco_embeds_ecg_only_inputs_and_is_deterministic_in_eval() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    method = build_method("syneco", TINY)
    batch = fixed_batch()
    ecg_only = {k: batch[k] for k in ("ecg_ii", "ecg_v")}
    e1, e2 = method.embed(method.model, ecg_only), method.embed(method.model, ecg_only)
    assert set(e1) == {"ecg_ii", "ecg_v", "fused", "concat"}
    torch.testing.assert_close(e1["fused"], e2["fused"])  # channel dropout is off
    full = method.embed(method.model, batch)
    assert not torch.allclose(full["fused"], e1["fused"])  # PPG does enter the fused embedding
    with pytest.raises(KeyError):
        method.objective(method.model, ecg_only)  # pretraining needs all its channels


def test_sleepfm_logit_scale_is_learned_and_clamped() -> None:
    method = build_method("sleepfm_pair", TINY)
    assert "log_scale" in dict(method.model.named_parameters())
    assert method.model.log_scale.item() == 0.0  # SleepFM code: exp(0) = 1 at start
    with torch.no_grad():
        method.model.log_scale.fill_(-0.3)
    method.objective.after_step(method.model, 0, 10)
    assert method.model.log_scale.item() == 0.0


def test_byol_target_is_a_momentum_copy() -> None:
    torch.manual_seed(0)
    method = build_method("byol", TINY)
    model = method.model
    assert not any(p.requires_grad for p in model.target_encoders.parameters())
    w_online = model.encoders["ecg_ii"].proj.weight
    w_target = model.target_encoders["ecg_ii"].proj.weight
    torch.testing.assert_close(w_online, w_target)
    with torch.no_grad():
        w_online.add_(1.0)
    before = w_target.detach().clone()
    method.objective.after_step(model, 0, 100)  # tau = 0.996 at step 0
    torch.testing.assert_close(w_target, 0.996 * before + 0.004 * w_online.detach())


def test_paper_configuration_builds_ecgfounder_encoders() -> None:
    config = SyneCoConfig()
    assert (config.embed_dim, config.alpha, config.channel_dropout_p, config.channel_pair_p) == (
        512,
        0.5,
        0.4,
        0.3,
    )
    method = build_method("syneco")
    n = sum(p.numel() for p in method.model.encoders["ppg"].parameters())
    assert n == 30_654_000 + 1024 * 512 + 512
    assert len(method.model.encoders) == 3
    assert method.model.encoders["ecg_ii"] is not method.model.encoders["ecg_v"]


def test_augmentation_is_noise_then_scale_on_every_channel() -> None:
    torch.manual_seed(0)
    x = {"ecg_ii": torch.randn(4, 1, 5000), "ppg": torch.randn(4, 1, 1250)}
    view = augment_view(x, ["ecg_ii", "ppg"], sigma=0.05, scale=0.9)
    for ch in x:
        noise = view[ch] / 0.9 - x[ch]
        assert view[ch].shape == x[ch].shape
        assert noise.std().item() == pytest.approx(0.05, rel=0.05)
        assert abs(noise.mean().item()) < 0.005
