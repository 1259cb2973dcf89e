"""The ``mae`` and ``hybrid`` methods (hybrid_ecg GL / CL / HL), their losses and the ECG augmentations."""

from __future__ import annotations

import math

import pytest
import torch

from physiofm import augment, methods
from physiofm.objectives import info_nce, masked_info_nce, masked_reconstruction_loss

VIT = {"kind": "vit1d", "in_channels": 12, "signal_length": 500, "patch_size": 50, "depth": 1, "width": 64}
TINY = dict(encoder=VIT, decoder_width=32, decoder_depth=1, decoder_heads=2)


def tiny_batch(n: int = 4, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 12, 500, generator=g) * 0.3
    return {
        "ecg": x,
        "ecg_pair": x + 0.05 * torch.randn(n, 12, 500, generator=g),
        "subject": torch.tensor([0, 0, 1, 2][:n], dtype=torch.int64),
    }


def one_step(method: methods.Method, batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    before = {k: v.detach().clone() for k, v in method.named_parameters()}
    opt = torch.optim.AdamW(method.parameters(), lr=1e-3)
    loss = method.loss(batch)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss, before


def test_both_methods_are_registered_with_their_configs() -> None:
    assert {"mae", "hybrid"} <= set(methods.names())
    cfg = methods.config_class("hybrid")()
    assert (cfg.w_recon, cfg.w_patient, cfg.w_sample, cfg.temperature) == (1.0, 1.0, 1.0, 0.1)
    assert (cfg.mask_ratio, cfg.loss) == (0.75, "l1")
    assert cfg.encoder == {"kind": "vit1d", "in_channels": 12, "patch_size": 60, "depth": 2, "width": 512,
                           "signal_length": 2500}
    with pytest.raises(ValueError, match="vit1d"):
        methods.build("mae", {"encoder": {"kind": "net1d"}})
    with pytest.raises(ValueError, match="embed_dim"):
        methods.build("mae", {"encoder": {**VIT, "embed_dim": 8}})
    with pytest.raises(ValueError, match="unknown"):
        methods.build("mae", {"patch": 60})
    with pytest.raises(ValueError, match="loss must be one of"):
        methods.build("mae", {"loss": "huber"})
    with pytest.raises(ValueError, match="at least one > 0"):
        methods.build("hybrid", {**TINY, "w_recon": 0, "w_patient": 0, "w_sample": 0})


def test_mae_step_is_finite_and_moves_encoder_and_decoder() -> None:
    torch.manual_seed(0)
    m = methods.build("mae", TINY)
    assert m.inputs == ("ecg",) and m.probe_key == "embedding"
    loss, before = one_step(m, tiny_batch())
    assert torch.isfinite(loss) and set(m.logs) == {"recon"}
    after = dict(m.named_parameters())
    for name in ("encoder.patch_embed.weight", "decoder.pred.weight", "decoder.mask_token"):
        assert not torch.equal(before[name], after[name]), name


def test_mae_l1_on_raw_mv_equals_the_hand_computed_masked_error() -> None:
    torch.manual_seed(0)
    m = methods.build("mae", TINY)
    x = tiny_batch()["ecg"]
    torch.manual_seed(5)
    loss = m.reconstruction_loss(x)
    torch.manual_seed(5)
    latent, mask, ids = m.encoder.forward_encoder(x, 0.75)
    pred = m.decoder(latent, ids)
    err = (pred - m.encoder.patchify(x)).abs().mean(-1)
    assert mask.sum(1).tolist() == [8.0] * 4  # 10 patches, int(10 * 0.25) = 2 kept
    torch.testing.assert_close(loss, (err * mask).sum() / mask.sum())


def test_hybrid_hl_step_sums_three_terms_and_moves_every_part() -> None:
    torch.manual_seed(0)
    m = methods.build("hybrid", TINY)
    assert m.inputs == ("ecg", "ecg_pair", "subject")
    torch.manual_seed(1)
    loss, before = one_step(m, tiny_batch())
    assert torch.isfinite(loss) and set(m.logs) == {"recon", "patient", "sample"}
    assert float(loss.detach()) == pytest.approx(sum(m.logs.values()), rel=1e-5)
    after = dict(m.named_parameters())
    for name in ("encoder.patch_embed.weight", "decoder.pred.weight", "proj_sample.net.0.weight",
                 "proj_patient.net.0.weight"):
        assert not torch.equal(before[name], after[name]), name


def test_cl_without_reconstruction_has_no_decoder_and_no_decoder_gradient() -> None:
    torch.manual_seed(0)
    m = methods.build("hybrid", {**TINY, "w_recon": 0.0})
    assert m.decoder is None and not any(n.startswith("decoder") for n, _ in m.named_parameters())
    loss = m.loss(tiny_batch())
    loss.backward()
    assert set(m.logs) == {"patient", "sample"}
    assert m.encoder.patch_embed.weight.grad is not None
    assert all(p.grad is not None for p in m.proj_patient.parameters())
    with pytest.raises(RuntimeError, match="without a decoder"):
        m.reconstruction_loss(tiny_batch()["ecg"])


def test_missing_batch_keys_are_named() -> None:
    m = methods.build("hybrid", TINY)
    batch = tiny_batch()
    with pytest.raises(KeyError, match="ecg_pair"):
        m.loss({k: v for k, v in batch.items() if k != "ecg_pair"})
    with pytest.raises(KeyError, match="subject"):
        m.loss({k: v for k, v in batch.items() if k != "subject"})
    with pytest.raises(ValueError, match=r"\(B, 12, T\)"):
        m.loss({**batch, "ecg": batch["ecg"][:, :8]})
    sample_only = methods.build("hybrid", {**TINY, "w_patient": 0.0, "w_recon": 0.0})
    assert sample_only.inputs == ("ecg",)
    assert torch.isfinite(sample_only.loss({"ecg": batch["ecg"]}))


def test_embeddings_are_unmasked_unaugmented_mean_tokens() -> None:
    torch.manual_seed(0)
    m = methods.build("hybrid", TINY)
    batch = tiny_batch()
    e = m.embeddings(batch)
    assert set(e) == {"embedding"} and e["embedding"].shape == (4, 64)
    assert not e["embedding"].requires_grad and m.training
    torch.testing.assert_close(m.embed(batch), e["embedding"])
    with torch.no_grad():
        torch.testing.assert_close(e["embedding"], m.encoder.eval()(batch["ecg"]))


def test_patient_contrast_keeps_same_patient_records_out_of_the_negatives() -> None:
    tau = 0.5
    e1, e2 = torch.tensor([1.0, 0.0], dtype=torch.float64), torch.tensor([0.0, 1.0], dtype=torch.float64)
    a = torch.stack([e1, e1, e2])  # records 0 and 1 belong to patient 7, record 2 to patient 9
    b = a.clone()
    groups = torch.tensor([7, 7, 9])
    # rows of patient 7: positive 1/tau, negatives only patient 9's two rows (similarity 0)
    # rows of patient 9: positive 1/tau, negatives the four rows of patient 7 (similarity 0)
    expected = (4 * math.log(1 + 2 * math.exp(-1 / tau)) + 2 * math.log(1 + 4 * math.exp(-1 / tau))) / 6
    assert float(masked_info_nce(a, b, groups, tau)) == pytest.approx(expected, rel=1e-6)
    # plain InfoNCE treats the other record of patient 7 as two negatives as close as the positive
    assert float(info_nce(a, b, tau)) == pytest.approx(
        (4 * math.log(3 + 2 * math.exp(-1 / tau)) + 2 * math.log(1 + 4 * math.exp(-1 / tau))) / 6, rel=1e-6
    )


def test_masked_info_nce_equals_info_nce_when_every_patient_is_distinct() -> None:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(6, 8, generator=g), torch.randn(6, 8, generator=g)
    torch.testing.assert_close(masked_info_nce(a, b, torch.arange(6), 0.2), info_nce(a, b, 0.2))
    with pytest.raises(ValueError, match="groups"):
        masked_info_nce(a, b, torch.arange(5))


def test_masked_reconstruction_loss_counts_only_masked_patches() -> None:
    pred = torch.zeros(1, 3, 2)
    target = torch.tensor([[[1.0, 3.0], [100.0, 100.0], [-2.0, 0.0]]])
    mask = torch.tensor([[1.0, 0.0, 1.0]])  # patch 1 was visible: ignored
    assert float(masked_reconstruction_loss(pred, target, mask, "l1")) == pytest.approx((2.0 + 1.0) / 2)
    assert float(masked_reconstruction_loss(pred, target, mask, "l2")) == pytest.approx((5.0 + 2.0) / 2)
    normed = masked_reconstruction_loss(pred, target, mask, "l1", norm_target=True)
    assert float(normed) == pytest.approx(1 / math.sqrt(2 + 1e-6), rel=1e-4)  # each patch becomes +-1/sqrt(2)


def test_ecg_augmentations() -> None:
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    x = torch.randn(8, 12, 2500)
    # every function is reproducible from its generator and keeps the shape
    for fn in (augment.amplitude_scale, augment.gaussian_noise, augment.time_mask, augment.lead_dropout):
        torch.testing.assert_close(fn(x, generator=g()), fn(x, generator=g()))
    torch.testing.assert_close(augment.ecg_view(x, 250.0, g()), augment.ecg_view(x, 250.0, g()))
    ratio = augment.amplitude_scale(x, generator=g()) / x
    assert torch.allclose(ratio, ratio[:, :1, :1].expand_as(ratio), atol=1e-5)  # one factor per record
    assert ratio.min() >= 0.8 - 1e-6 and ratio.max() <= 1.2 + 1e-6
    noise = augment.gaussian_noise(torch.zeros(4, 12, 10_000), generator=g())
    assert float(noise.std()) == pytest.approx(0.05, rel=0.02)
    wander = augment.baseline_wander(torch.zeros(4, 12, 2500), 250.0, generator=g())
    assert float(wander.abs().max()) <= 0.1 + 1e-6
    assert float(wander.diff(dim=-1).abs().max()) < 2 * math.pi * 0.5 * 0.1 / 250 * 1.01  # <= 0.5 Hz
    ones = torch.ones(64, 12, 2500)
    masked = (augment.time_mask(ones, generator=g()) == 0).all(dim=1)  # (B, T): zero on every lead at once
    assert (masked.sum(1) <= 0.2 * 2500).all() and masked.any()
    dropped = augment.lead_dropout(ones, p=0.9, generator=g())
    kept = dropped.amax(dim=-1)  # (B, 12) 1 = lead kept
    assert (kept.sum(1) >= 1).all() and float(1 - kept.mean()) > 0.5
    assert set(torch.unique(dropped).tolist()) <= {0.0, 1.0}
