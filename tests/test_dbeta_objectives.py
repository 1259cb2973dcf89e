"""D-BETA's objectives: ETS (Eq. 4) and its SigLIP form, N3S, negative substitution, MLM corruption, MEM."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from physiofm.objectives import (
    FarthestNegativeSampler,
    SigLipETS,
    draw_negatives,
    ets_loss,
    ets_targets,
    masked_reconstruction_loss,
    mem_targets,
    mlm_loss,
    mlm_mask,
    negative_rows,
)
from physiofm.text import ReportBank

# ---------------------------------------------------------------------------------------------------- ETS


def _log_sigmoid(z: float) -> float:
    return -math.log1p(math.exp(-z))


def test_ets_two_by_two_by_hand():
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    t = torch.tensor([[1.0, 1.0], [0.0, 1.0]])
    # x t^T = [[1, 0], [2, 2]]; y = 2I - 1 = [[1, -1], [-1, 1]]
    expected = -(_log_sigmoid(1) + _log_sigmoid(0) + _log_sigmoid(-2) + _log_sigmoid(2)) / 2
    assert expected == pytest.approx(1.6301325, abs=1e-6)
    assert ets_loss(x, t).item() == pytest.approx(expected, rel=1e-6)
    # row 1's text replaced by a negative: y_11 = -1
    y = torch.tensor([[1.0, -1.0], [-1.0, -1.0]])
    expected_neg = -(_log_sigmoid(1) + _log_sigmoid(0) + _log_sigmoid(-2) + _log_sigmoid(-2)) / 2
    assert ets_loss(x, t, y).item() == pytest.approx(expected_neg, rel=1e-6)


def test_ets_matches_logsigmoid_sum_and_is_unnormalised():
    g = torch.Generator().manual_seed(0)
    x, t = torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g)
    y = ets_targets(torch.tensor([True, False, True, True, False]))
    ref = -F.logsigmoid(y * (x @ t.T)).sum() / 5
    assert ets_loss(x, t, y).item() == pytest.approx(ref.item(), rel=1e-6)
    # no normalisation, no temperature: scaling the features changes the loss
    assert ets_loss(3 * x, t, y).item() != pytest.approx(ets_loss(x, t, y).item(), rel=1e-3)
    # the default labels are 2I - 1
    all_matched = ets_targets(torch.ones(5, dtype=torch.bool))
    assert ets_loss(x, t).item() == pytest.approx(ets_loss(x, t, all_matched).item())


def test_ets_targets_and_shape_errors():
    y = ets_targets(torch.tensor([True, False, True]))
    assert torch.equal(y.diagonal(), torch.tensor([1.0, -1.0, 1.0]))
    assert (y[~torch.eye(3, dtype=torch.bool)] == -1).all()
    with pytest.raises(ValueError, match="one shape"):
        ets_loss(torch.zeros(3, 4), torch.zeros(3, 5))
    with pytest.raises(ValueError, match="labels y"):
        ets_loss(torch.zeros(3, 4), torch.zeros(3, 4), torch.zeros(2, 2))


def test_siglip_ets_initialisation_and_formula():
    loss = SigLipETS()
    assert loss.log_scale.item() == pytest.approx(math.log(10))
    assert loss.bias.item() == pytest.approx(-10.0)
    g = torch.Generator().manual_seed(1)
    x, t = torch.randn(4, 6, generator=g), torch.randn(4, 6, generator=g)
    logits = 10 * F.normalize(x, dim=-1) @ F.normalize(t, dim=-1).T - 10
    y = 2 * torch.eye(4) - 1
    assert loss(x, t).item() == pytest.approx((-F.logsigmoid(y * logits).sum() / 4).item(), rel=1e-6)
    # invariant to feature scale, unlike Eq. 4
    assert loss(5 * x, t).item() == pytest.approx(loss(x, t).item(), rel=1e-5)
    with torch.no_grad():
        loss.log_scale.fill_(10.0)
    loss.clamp_()
    assert loss.log_scale.item() == pytest.approx(math.log(100))


# ---------------------------------------------------------------------------------------------------- N3S


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_n3s_returns_the_k_least_cosine_similar():
    rng = np.random.default_rng(0)
    bank, queries = _unit(rng, 300, 16), _unit(rng, 7, 16)
    sampler = FarthestNegativeSampler(bank, k=12)
    got = sampler.farthest(queries)
    brute = np.argsort(queries @ bank.T, axis=1)[:, :12]  # ascending cosine similarity
    for g, b in zip(got, brute):
        assert set(g) == set(b)
    # the normalisation is the sampler's: scaled inputs give the same neighbours
    scaled = FarthestNegativeSampler(bank * 7.0, k=12).farthest(queries * 0.1)
    assert (np.sort(scaled, 1) == np.sort(got, 1)).all()
    picks = sampler.sample(queries, np.random.default_rng(3))
    assert picks.shape == (7,) and picks.dtype == np.int64
    assert all(p in set(b) for p, b in zip(picks, brute))


def test_n3s_is_deterministic_under_a_seeded_rng_and_respects_exclude():
    rng = np.random.default_rng(1)
    bank = _unit(rng, 50, 8)
    sampler = FarthestNegativeSampler(bank, k=64)  # k larger than the bank: the whole bank is a candidate
    q = bank[:20]
    a = sampler.sample(q, np.random.default_rng(42), exclude=np.arange(20))
    b = sampler.sample(q, np.random.default_rng(42), exclude=np.arange(20))
    c = sampler.sample(q, np.random.default_rng(43), exclude=np.arange(20))
    assert (a == b).all() and not (a == c).all()
    assert (a != np.arange(20)).all()  # a report is never its own negative
    draws = np.concatenate([sampler.sample(q, np.random.default_rng(s), np.arange(20)) for s in range(30)])
    assert (draws >= 0).all() and (draws < 50).all()


def test_n3s_input_errors():
    with pytest.raises(ValueError, match="at least 2"):
        FarthestNegativeSampler(np.ones((1, 4)))
    with pytest.raises(ValueError, match="dimension"):
        FarthestNegativeSampler(np.eye(4)).sample(np.ones((1, 3)), np.random.default_rng(0))


def test_negative_rows_count_is_int_half_b_plus_uniform():
    for b in (1, 2, 7, 64, 128):
        counts = {len(negative_rows(b, np.random.default_rng(s))) for s in range(200)}
        assert counts <= {b // 2, int(0.5 * b + 0.9999)}, (b, counts)
        assert int(0.5 * b) in counts
    rows = negative_rows(128, np.random.default_rng(0))
    assert len(set(rows)) == len(rows) and (np.diff(rows) > 0).all()


def _bank() -> ReportBank:
    texts = ["sinus rhythm normal ecg", "atrial fibrillation abnormal ecg",
             "sinus bradycardia borderline ecg", "left bundle branch block abnormal ecg",
             "sinus rhythm stt changes abnormal ecg"]
    rng = np.random.default_rng(0)
    return ReportBank(texts, _unit(rng, len(texts), 6), counts=np.array([50, 5, 10, 2, 3]))


def test_draw_negatives_labels_and_texts():
    bank = _bank()
    sampler = FarthestNegativeSampler(bank.embeddings, k=2)
    texts = [bank.texts[i % 5] for i in range(12)]
    new, aligned = draw_negatives(texts, bank, np.random.default_rng(0), sampler)
    assert aligned.dtype == bool and (~aligned).sum() in (6, 7)
    for orig, got, ok in zip(texts, new, aligned):
        if ok:
            assert got == orig
        else:
            assert got != orig and got in bank
            far = sampler.farthest(bank.embeddings[bank.index_of([orig])], 3)[0]
            assert bank.index_of([got])[0] in far  # one of the k least similar (k + 1 with the exclusion)
    # the ablation: random training reports with their corpus frequency (duplicates of the positive allowed)
    drawn = []
    for seed in range(200):
        new, aligned = draw_negatives(texts, bank, np.random.default_rng(seed), None)
        drawn += [t for t, ok in zip(new, aligned) if not ok]
    share = np.mean([t == bank.texts[0] for t in drawn])
    assert share == pytest.approx(50 / 70, abs=0.04)  # drawn with the corpus counts
    with pytest.raises(KeyError, match="not in the N3S report bank"):
        draw_negatives(["unknown report"] * 4, bank, np.random.default_rng(0), sampler)


# ---------------------------------------------------------------------------------------------------- MLM


def test_mlm_mask_rates_and_specials():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 1000, (400, 100), generator=g)
    special = torch.zeros_like(ids, dtype=torch.bool)
    special[:, 0] = special[:, -1] = True
    special[:, 90:] = True  # padding
    pool = torch.arange(5, 1000)
    out, labels = mlm_mask(ids, special, mask_token_id=4, random_token_ids=pool, generator=g)
    sel = labels != -100
    assert not sel[special].any() and torch.equal(out[special], ids[special])
    assert torch.equal(labels[sel], ids[sel])
    assert sel[~special].float().mean().item() == pytest.approx(0.25, abs=0.01)
    masked = (out == 4) & sel
    changed = (out != ids) & (out != 4) & sel
    assert masked[sel].float().mean().item() == pytest.approx(0.8, abs=0.02)
    assert changed[sel].float().mean().item() == pytest.approx(0.1, abs=0.015)
    assert torch.equal(out[~sel], ids[~sel])  # unselected tokens untouched
    assert (out[changed] >= 5).all()  # random replacements are never special ids


def test_mlm_loss_ignores_unselected_and_survives_empty():
    logits = torch.randn(2, 3, 7, requires_grad=True)
    labels = torch.tensor([[-100, 2, -100], [-100, -100, 5]])
    ref = F.cross_entropy(torch.stack([logits[0, 1], logits[1, 2]]), torch.tensor([2, 5]))
    assert mlm_loss(logits, labels).item() == pytest.approx(ref.item())
    empty = mlm_loss(logits, torch.full((2, 3), -100))
    assert empty.item() == 0.0
    empty.backward()  # keeps the graph


# ---------------------------------------------------------------------------------------------------- MEM


def test_mem_targets_layout_and_normalisation():
    ecg = torch.arange(2 * 10, dtype=torch.float32).reshape(1, 2, 10)
    raw = mem_targets(ecg, n_tokens=2, patch=4, normalise=False)
    assert raw.shape == (1, 2, 8)
    assert raw[0, 1].tolist() == [4, 5, 6, 7, 14, 15, 16, 17]  # token 1: lead 0 samples 4-7, then lead 1
    g = torch.Generator().manual_seed(0)
    x = 3 + 2 * torch.randn(3, 12, 5000, generator=g)
    x[0, 5] = 0.0  # a lead removed by lead masking
    tgt = mem_targets(x, 312, 16)
    assert tgt.shape == (3, 312, 192)
    per_lead = tgt.reshape(3, 312, 12, 16).permute(0, 2, 1, 3).reshape(3, 12, -1)
    assert per_lead[1].mean(-1).abs().max() < 1e-5
    assert per_lead[1].var(-1).sub(1).abs().max() < 1e-4
    assert (per_lead[0, 5] == 0).all()
    with pytest.raises(ValueError, match="need"):
        mem_targets(x, 313, 16)


def test_masked_mse_counts_hidden_tokens_only():
    target = torch.zeros(2, 4, 3)
    pred = torch.zeros(2, 4, 3)
    pred[0, 1] = 2.0  # hidden: error 4
    pred[1, 0] = 100.0  # visible: ignored
    mask = torch.tensor([[0, 1, 1, 0], [0, 1, 0, 0]], dtype=torch.float32)
    assert masked_reconstruction_loss(pred, target, mask, "l2").item() == pytest.approx(4.0 / 3)
