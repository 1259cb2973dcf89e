"""physiofm.objectives.clip: the symmetric CLIP loss and its learnable, clamped logit scale."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from physiofm.objectives import ClipLoss, LogitScale, clip_loss
from physiofm.objectives.clip import MAX_LOGIT_SCALE


def _hand_clip_loss(a: np.ndarray, b: np.ndarray, scale: float) -> float:
    """Paper's formula, looped: -1/(2N) sum_i [log softmax_j(s a_i.b_j)_i + log softmax_j(s b_i.a_j)_i]."""
    n = len(a)
    total = 0.0
    for i in range(n):
        row = [scale * float(a[i] @ b[j]) for j in range(n)]
        col = [scale * float(b[i] @ a[j]) for j in range(n)]
        total += row[i] - math.log(sum(math.exp(v) for v in row))
        total += col[i] - math.log(sum(math.exp(v) for v in col))
    return -total / (2 * n)


def _unit(rows: int, dim: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(rows, dim, generator=g, dtype=torch.float64), dim=-1)


def test_clip_loss_matches_hand_computation():
    a, b = _unit(5, 4, 0), _unit(5, 4, 1)
    for scale in (1.0, 1 / 0.07, 100.0):
        got = clip_loss(a, b, torch.tensor(scale, dtype=torch.float64))
        assert got.item() == pytest.approx(_hand_clip_loss(a.numpy(), b.numpy(), scale), rel=1e-10)


def test_clip_loss_symmetric_and_module_form():
    a, b = _unit(6, 8, 2), _unit(6, 8, 3)
    scale = torch.tensor(14.0, dtype=torch.float64)
    assert clip_loss(a, b, scale).item() == pytest.approx(clip_loss(b, a, scale).item(), rel=1e-12)
    assert ClipLoss()(a, b, scale).item() == pytest.approx(clip_loss(a, b, scale).item(), rel=1e-12)
    # the two directions differ in general: the mean really averages two different cross-entropies
    logits = scale * a @ b.T
    ce_ab = F.cross_entropy(logits, torch.arange(6)).item()
    ce_ba = F.cross_entropy(logits.T, torch.arange(6)).item()
    assert ce_ab != pytest.approx(ce_ba, rel=1e-6)
    assert clip_loss(a, b, scale).item() == pytest.approx((ce_ab + ce_ba) / 2, rel=1e-12)


def test_clip_loss_limits():
    a = _unit(8, 16, 4)
    # aligned pairs with a large scale -> near zero; with scale 0 every pair is equally likely -> log N
    assert clip_loss(a, a, 100.0).item() < 0.05
    assert clip_loss(a, _unit(8, 16, 5), 0.0).item() == pytest.approx(math.log(8), rel=1e-12)


def test_clip_loss_rejects_bad_input():
    with pytest.raises(ValueError, match="one shape"):
        clip_loss(torch.randn(4, 3), torch.randn(5, 3), 10.0)
    with pytest.raises(ValueError, match="at least 2"):
        clip_loss(torch.randn(1, 3), torch.randn(1, 3), 10.0)


def test_logit_scale_init_and_clamp():
    ls = LogitScale()
    assert ls.log_scale.item() == pytest.approx(math.log(1 / 0.07))
    assert ls().item() == pytest.approx(1 / 0.07, rel=1e-6)
    with torch.no_grad():
        ls.log_scale.fill_(10.0)  # exp(10) ~ 22,026 would be the unclamped scale
    assert ls().item() == pytest.approx(MAX_LOGIT_SCALE, rel=1e-6)
    ls.clamp_()  # open_clip's in-place clamp after the optimiser step
    assert ls.log_scale.item() == pytest.approx(math.log(100.0))
    with torch.no_grad():
        ls.log_scale.fill_(-3.0)
    assert ls().item() == pytest.approx(1.0)
    ls.clamp_()
    assert ls.log_scale.item() == 0.0


def test_gradient_reaches_log_scale():
    ls = LogitScale()
    a, b = _unit(6, 8, 6).float(), _unit(6, 8, 7).float()
    loss = clip_loss(a, b, ls())
    loss.backward()
    grad = ls.log_scale.grad
    assert grad is not None and torch.isfinite(grad) and grad.abs().item() > 0
    # d loss / d log_scale = scale * d loss / d scale: compare with a central difference
    eps = 1e-3
    with torch.no_grad():
        s0 = ls.log_scale.item()
        up = clip_loss(a.double(), b.double(), math.exp(s0 + eps)).item()
        down = clip_loss(a.double(), b.double(), math.exp(s0 - eps)).item()
    assert grad.item() == pytest.approx((up - down) / (2 * eps), rel=1e-3)
    # at the cap the clamp still passes the gradient (inclusive boundary), as open_clip's in-place clamp
    ls.zero_grad()
    ls.log_scale.data.fill_(math.log(100.0))
    clip_loss(a, b, ls()).backward()
    assert ls.log_scale.grad.abs().item() > 0
