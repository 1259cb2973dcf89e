"""InfoNCE (NT-Xent with same-view negatives), SleepFM pairwise / leave-one-out, BYOL."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from physiofm.objectives import (
    NTXentLoss,
    byol_loss,
    byol_momentum,
    ema_update,
    info_nce,
    sleepfm_loo_loss,
    sleepfm_pairwise_loss,
)


def test_info_nce_hand_computed_with_same_view_negatives() -> None:
    # a = [e1, e2], b = [e1, (e1 + e2)/sqrt 2]; T = 0.5
    r = 1 / math.sqrt(2)
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    b = torch.tensor([[1.0, 0.0], [r, r]])
    t = 0.5
    # cosine similarities of the 4 stacked rows z = [a1, a2, b1, b2]
    s = {
        ("a1", "a2"): 0.0,
        ("a1", "b1"): 1.0,
        ("a1", "b2"): r,
        ("a2", "b1"): 0.0,
        ("a2", "b2"): r,
        ("b1", "b2"): r,
    }

    def sim(i: str, j: str) -> float:
        return s.get((i, j), s.get((j, i)))

    rows = ["a1", "a2", "b1", "b2"]
    positive = {"a1": "b1", "a2": "b2", "b1": "a1", "b2": "a2"}
    expected = 0.0
    for i in rows:
        denom = sum(math.exp(sim(i, j) / t) for j in rows if j != i)  # cross-view AND same-view negatives
        expected += -math.log(math.exp(sim(i, positive[i]) / t) / denom)
    expected /= 4
    assert info_nce(a, b, t).item() == pytest.approx(expected, rel=1e-6)
    assert NTXentLoss(t)(a, b).item() == pytest.approx(expected, rel=1e-6)
    # dropping the same-view blocks (plain CLIP-style InfoNCE) gives a different number
    logits = a @ b.T / t
    clip = (F.cross_entropy(logits, torch.arange(2)) + F.cross_entropy(logits.T, torch.arange(2))) / 2
    assert abs(clip.item() - expected) > 1e-3


def test_info_nce_symmetric_scale_invariant_and_validated() -> None:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    loss = info_nce(a, b, 0.1)
    torch.testing.assert_close(loss, info_nce(b, a, 0.1))
    torch.testing.assert_close(
        loss, info_nce(3 * a, 0.5 * b, 0.1)
    )  # cosine similarity: row scale is irrelevant
    # the loss is lowest when the views agree
    assert info_nce(a, a + 0.01 * b, 0.1) < loss
    with pytest.raises(ValueError):
        info_nce(a, b[:5], 0.1)
    with pytest.raises(ValueError):
        info_nce(a[:1], b[:1], 0.1)
    with pytest.raises(ValueError):
        info_nce(a, b, 0.0)


def _sleepfm_code(emb: list[torch.Tensor], temperature: torch.Tensor, mode: str) -> torch.Tensor:
    """The loop of sleepfm/2_pretrain.py (sum-reduced cross-entropies, divided as the code divides)."""
    emb = [F.normalize(e) for e in emb]
    m, n = len(emb), emb[0].shape[0]
    labels = torch.arange(n)
    loss = 0.0
    if mode == "pairwise":
        ij = sum([((i, j), (j, i)) for i in range(m) for j in range(i + 1, m)], ())
        for i in range(m):
            for j in range(i + 1, m):
                logits = torch.matmul(emb[i], emb[j].transpose(0, 1)) * torch.exp(temperature)
                loss += F.cross_entropy(logits, labels, reduction="sum")
                loss += F.cross_entropy(logits.transpose(0, 1), labels, reduction="sum")
        loss /= len(ij)
    else:
        for i in range(m):
            other = torch.stack([emb[j] for j in list(range(i)) + list(range(i + 1, m))]).sum(0) / (m - 1)
            logits = torch.matmul(emb[i], other.transpose(0, 1)) * torch.exp(temperature)
            loss += F.cross_entropy(logits, labels, reduction="sum")
            loss += F.cross_entropy(logits.transpose(0, 1), labels, reduction="sum")
        loss /= m * 2
    return loss / n


@pytest.mark.parametrize("m", [2, 3, 4])
def test_sleepfm_losses_match_the_released_code(m: int) -> None:
    g = torch.Generator().manual_seed(m)
    emb = [torch.randn(7, 6, generator=g) for _ in range(m)]
    t = torch.tensor(0.7)
    torch.testing.assert_close(sleepfm_pairwise_loss(emb, t.exp()), _sleepfm_code(emb, t, "pairwise"))
    torch.testing.assert_close(sleepfm_loo_loss(emb, t.exp()), _sleepfm_code(emb, t, "leave_one_out"))


def test_sleepfm_details() -> None:
    g = torch.Generator().manual_seed(3)
    emb = [torch.randn(5, 4, generator=g) for _ in range(3)]
    scale = torch.tensor(2.0)
    # with two channels, pairwise and leave-one-out are one loss
    torch.testing.assert_close(sleepfm_pairwise_loss(emb[:2], scale), sleepfm_loo_loss(emb[:2], scale))
    # leave-one-out compares with the plain mean of the others' unit embeddings, not its re-normalisation
    e = [F.normalize(x) for x in emb]
    labels = torch.arange(5)

    def loo(renormalise: bool) -> torch.Tensor:
        total = 0.0
        for i in range(3):
            o = torch.stack([e[j] for j in range(3) if j != i]).mean(0)
            o = F.normalize(o) if renormalise else o
            lg = scale * e[i] @ o.T
            total += F.cross_entropy(lg, labels) + F.cross_entropy(lg.T, labels)
        return total / 6

    torch.testing.assert_close(sleepfm_loo_loss(emb, scale), loo(False))
    assert not torch.allclose(loo(False), loo(True))
    # the pairwise loss averages over the 6 directed pairs
    pair = [F.cross_entropy(scale * e[i] @ e[j].T, labels) for i in range(3) for j in range(3) if i != j]
    torch.testing.assert_close(sleepfm_pairwise_loss(emb, scale), torch.stack(pair).mean())
    with pytest.raises(ValueError):
        sleepfm_pairwise_loss(emb[:1], scale)


def test_byol_loss_and_momentum() -> None:
    p = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    assert byol_loss(p, 5 * p).item() == pytest.approx(0.0, abs=1e-7)
    assert byol_loss(p, -p).item() == pytest.approx(4.0)
    q = torch.tensor([[1.0, 1.0], [0.0, 1.0]])
    expected = ((2 - 2 / math.sqrt(2)) + 0.0) / 2
    assert byol_loss(p, q).item() == pytest.approx(expected, rel=1e-6)
    pred, target = p.clone().requires_grad_(True), q.clone().requires_grad_(True)
    byol_loss(pred, target).backward()
    assert pred.grad is not None and target.grad is None  # stop-gradient on the target
    assert byol_momentum(0, 100) == pytest.approx(0.996)
    assert byol_momentum(100, 100) == pytest.approx(1.0)
    assert byol_momentum(50, 100) == pytest.approx(0.998)
    online, target_net = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    before = target_net.weight.detach().clone()
    ema_update(target_net, online, 0.9)
    torch.testing.assert_close(target_net.weight, 0.9 * before + 0.1 * online.weight.detach())
