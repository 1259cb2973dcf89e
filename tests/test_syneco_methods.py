"""The SyneCo study's runs as registry methods: SyneCo, Stack, SyneCo 2mod, SleepFM (pair, LOO, 2mod), SimCLR
and BYOL over channel pairs -- loss, learning on a fixed batch, embeddings, and the paper's specifics."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from physiofm import methods
from physiofm.augment import augment_view
from physiofm.methods.syneco import CHANNELS, SyneCoConfig

ENC = dict(kind="net1d", base_filters=16, filters=(16, 32), blocks=(1, 1), kernel_size=5, dropout=0.0,
           embed_dim=32)
B = 8
# The runs of the paper's comparison, as the params choose them: run -> (registry method, settings).
RUNS = {
    "syneco": ("syneco", {}),
    "syneco_2mod": ("syneco", {"channels": ("ecg_ii", "ecg_v")}),
    "stack": ("stack", {}),
    "sleepfm_pair": ("sleepfm_pair", {}),
    "sleepfm_loo": ("sleepfm_loo", {}),
    "sleepfm_2mod": ("sleepfm_pair", {"channels": ("ecg_ii", "ecg_v")}),
    "simclr_ecg": ("simclr", {"pair": ("ecg_ii", "ecg_v")}),
    "simclr_ppg": ("simclr", {"pair": ("ecg_ii", "ppg")}),
    "byol_ecg": ("byol", {"pair": ("ecg_ii", "ecg_v"), "hidden": 64, "dim": 16}),
    "byol_ppg": ("byol", {"pair": ("ecg_ii", "ppg"), "hidden": 64, "dim": 16}),
}


def build(run: str, **extra):
    name, cfg = RUNS[run]
    return methods.build(name, {"encoder": ENC, **cfg, **extra})


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
        return method.loss(batch).item()


@pytest.mark.parametrize("run", list(RUNS))
def test_run_learns_on_a_fixed_batch(run: str) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    method = build(run)
    batch = fixed_batch()
    method.train()
    before = seeded_loss(method, batch)
    params = [p for p in method.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=2e-3)
    for step in range(8):
        loss = method.loss(batch)
        assert torch.isfinite(loss) and loss.ndim == 0
        assert all(isinstance(v, float) for v in method.logs.values())
        opt.zero_grad()
        loss.backward()
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in params)
        opt.step()
        method.after_step(step, 8)
    after = seeded_loss(method, batch)
    assert after < before, f"{run}: loss {before:.4f} -> {after:.4f}"

    emb = method.embeddings(batch)
    assert method.training, "embeddings must restore the training mode"
    for ch in method.inputs:
        assert emb[ch].shape == (B, 32)
        torch.testing.assert_close(emb[ch].norm(dim=-1), torch.ones(B))
    assert emb["concat"].shape == (B, 32 * len(method.inputs))
    assert method.probe_key in emb
    if run in ("syneco", "syneco_2mod"):
        assert emb["fused"].shape == (B, 32)
    if run == "stack":
        assert emb["fused"].shape == (B, 96)


def test_run_channels() -> None:
    expect = {
        "syneco": CHANNELS, "stack": CHANNELS, "sleepfm_pair": CHANNELS, "sleepfm_loo": CHANNELS,
        "syneco_2mod": ("ecg_ii", "ecg_v"), "sleepfm_2mod": ("ecg_ii", "ecg_v"),
        "simclr_ecg": ("ecg_ii", "ecg_v"), "byol_ecg": ("ecg_ii", "ecg_v"),
        "simclr_ppg": ("ecg_ii", "ppg"), "byol_ppg": ("ecg_ii", "ppg"),
    }
    for run, channels in expect.items():
        assert build(run).inputs == channels
    assert methods.build("simclr", {"encoder": ENC, "pair": ["ppg", "ppg"]}).inputs == ("ppg",)


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
        method = build("syneco", alpha=alpha)
        method.channel_dropout = KeepFirst()
        loss = method.loss(batch)
        logs = method.logs
        assert loss.item() == pytest.approx(logs["fused_loss"] + alpha * logs["mod_loss"], rel=1e-5)
        loss.backward()
        for ch in ("ecg_v", "ppg"):
            g = method.encoders[ch].proj.weight.grad
            assert (g is not None and g.abs().sum() > 0) == expect_grad, (alpha, ch)


def test_syneco_embeds_ecg_only_inputs_and_is_deterministic_in_eval() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    method = build("syneco")
    batch = fixed_batch()
    ecg_only = {k: batch[k] for k in ("ecg_ii", "ecg_v")}
    e1, e2 = method.embeddings(ecg_only), method.embeddings(ecg_only)
    assert set(e1) == {"ecg_ii", "ecg_v", "fused", "concat"}
    torch.testing.assert_close(e1["fused"], e2["fused"])  # channel dropout is off
    full = method.embeddings(batch)
    assert not torch.allclose(full["fused"], e1["fused"])  # PPG does enter the fused embedding
    reps = method.embed_inputs(batch, {"ecg": ("ecg_ii", "ecg_v"), "all": CHANNELS})
    torch.testing.assert_close(reps["ecg"], e1["fused"])  # one pass over the channels, then each input set
    torch.testing.assert_close(reps["all"], full["fused"])
    with pytest.raises(KeyError):
        method.loss(ecg_only)  # pretraining needs all its channels


def test_two_channel_models_read_ppg_through_their_ecg_ii_encoder() -> None:
    torch.manual_seed(0)
    method = build("syneco_2mod")
    ppg = fixed_batch()["ppg"]
    reps = method.embed_inputs({"ppg": ppg}, {"ppg": ("ppg",)}, stand_in={"ppg": ("ecg_ii", 500)})
    resampled = torch.nn.functional.interpolate(ppg, size=500, mode="linear", align_corners=False)
    torch.testing.assert_close(reps["ppg"], method.embeddings({"ecg_ii": resampled})["fused"])
    assert "ppg" not in method.embed_inputs({"ppg": ppg}, {"ppg": ("ppg",)})  # no stand-in: not embedded


def test_sleepfm_logit_scale_is_learned_and_clamped() -> None:
    method = build("sleepfm_pair")
    assert "log_scale" in dict(method.named_parameters())
    assert method.log_scale.item() == 0.0  # SleepFM code: exp(0) = 1 at start
    with torch.no_grad():
        method.log_scale.fill_(-0.3)
    method.after_step(0, 10)
    assert method.log_scale.item() == 0.0


def test_byol_target_is_a_momentum_copy() -> None:
    torch.manual_seed(0)
    method = build("byol_ecg")
    assert not any(p.requires_grad for p in method.target_encoders.parameters())
    w_online = method.encoders["ecg_ii"].proj.weight
    w_target = method.target_encoders["ecg_ii"].proj.weight
    torch.testing.assert_close(w_online, w_target)
    with torch.no_grad():
        w_online.add_(1.0)
    before = w_target.detach().clone()
    method.after_step(0, 100)  # tau = 0.996 at step 0
    torch.testing.assert_close(w_target, 0.996 * before + 0.004 * w_online.detach())


def test_paper_configuration_builds_ecgfounder_encoders() -> None:
    config = SyneCoConfig()
    assert (config.alpha, config.channel_dropout_p, config.channel_pair_p) == (0.5, 0.4, 0.3)
    method = methods.build("syneco")
    n = sum(p.numel() for p in method.encoders["ppg"].parameters())
    assert n == 30_654_000 + 1024 * 512 + 512
    assert len(method.encoders) == 3
    assert method.encoders["ecg_ii"] is not method.encoders["ecg_v"]
    assert method.fusion.dim == 512 and methods.build("stack").fusion is None


def test_augmentation_is_noise_then_scale_on_every_channel() -> None:
    torch.manual_seed(0)
    x = {"ecg_ii": torch.randn(4, 1, 5000), "ppg": torch.randn(4, 1, 1250)}
    view = augment_view(x, ["ecg_ii", "ppg"], sigma=0.05, scale=0.9)
    for ch in x:
        noise = view[ch] / 0.9 - x[ch]
        assert view[ch].shape == x[ch].shape
        assert noise.std().item() == pytest.approx(0.05, rel=0.05)
        assert abs(noise.mean().item()) < 0.005
