"""ECG–text sigmoid loss, ETS (D-BETA §3.2, Eq. 4), and its SigLIP form (Zhai et al. 2023) as an ablation.

    L_ETS = -(1/B) sum_i sum_j log sigma( y_ij * x_i^T t_j )

x_i (B, D): pooled ECG features, t_j (B, D): pooled text features — D-BETA's tanh pooler outputs, used as they
are: no L2 normalisation, no temperature, no bias (paper and the authors' code). y_ij = +1 for a matching
ECG–text pair and -1 otherwise; by default y = 2I - 1 (row i's own text is its match). When N3S replaced row
i's text by a negative report, y_ii = -1 (:func:`ets_targets`).

The sum over the B^2 pairs is divided by B, as Eq. 4 (and open_clip's SigLipLoss) writes it; the authors'
later code (``losses/ets.py``) takes the mean over B^2 instead, which is the same loss scaled by 1/B.

:class:`SigLipETS` is the SigLIP form: features L2-normalised, logits = exp(s) x^T t + b with a learnable
log-scale s initialised at log 10 and bias b at -10 (SigLIP's initialisation, as open_clip's SigLipLoss with
``init_logit_scale = log 10``, ``init_logit_bias = -10``), the scale capped at 100 like open_clip's clamp.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def ets_targets(aligned: torch.Tensor) -> torch.Tensor:
    """(B, B) float +-1 labels: -1 off the diagonal, y_ii = +1 where ``aligned[i]`` (B,) bool, else -1."""
    b = aligned.shape[0]
    y = -torch.ones(b, b, device=aligned.device)
    y[torch.arange(b), torch.arange(b)] = 2.0 * aligned.float() - 1.0
    return y


def _check(x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    if x.ndim != 2 or x.shape != t.shape:
        raise ValueError(f"ETS needs two (B, D) tensors of one shape, got {tuple(x.shape)}, {tuple(t.shape)}")
    b = x.shape[0]
    if y is None:
        return 2.0 * torch.eye(b, device=x.device, dtype=x.dtype) - 1.0
    if y.shape != (b, b):
        raise ValueError(f"ETS labels y must be ({b}, {b}), got {tuple(y.shape)}")
    return y.to(x.dtype)


def ets_loss(x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """Eq. 4: -(1/B) sum_ij log sigma(y_ij x_i.t_j); x, t (B, D), y (B, B) +-1 (default 2I - 1)."""
    y = _check(x, t, y)
    return -F.logsigmoid(y * (x @ t.T)).sum() / x.shape[0]


def ets_floor(batch_size: int, positives: float) -> float:
    """Eq. 4's value when every pair gets the same logit z, at the best such z: with P matching pairs among
    the B^2, sigma(z) = P / B^2 and L = (P softplus(-z) + (B^2 - P) softplus(z)) / B. A model whose ETS loss
    sits at this floor scores every ECG against every report alike: it has learned the share of matches and
    nothing that tells pairs apart (the bias-free loss must first reach it through the features)."""
    if not 0 < positives < batch_size**2:
        raise ValueError(f"need 0 < positives < B^2, got {positives} for B = {batch_size}")
    pairs = batch_size**2
    z = math.log(positives / (pairs - positives))
    return (positives * math.log1p(math.exp(-z)) + (pairs - positives) * math.log1p(math.exp(z))) / batch_size


class SigLipETS(nn.Module):
    """SigLIP ablation of ETS, ``SigLipETS()(x, t, y=None)``: normalised features, learnable scale, bias."""

    def __init__(self, init_scale: float = 10.0, init_bias: float = -10.0, max_scale: float = 100.0) -> None:
        super().__init__()
        self.log_scale = nn.Parameter(torch.tensor(math.log(init_scale)))
        self.bias = nn.Parameter(torch.tensor(float(init_bias)))
        self.max_log_scale = math.log(max_scale)

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        y = _check(x, t, y)
        scale = self.log_scale.clamp(max=self.max_log_scale).exp()
        logits = scale * F.normalize(x, dim=-1) @ F.normalize(t, dim=-1).T + self.bias
        return -F.logsigmoid(y * logits).sum() / x.shape[0]

    @torch.no_grad()
    def clamp_(self) -> None:
        """open_clip's in-place clamp of the log-scale to [0, log 100], after each optimiser step."""
        self.log_scale.clamp_(0.0, self.max_log_scale)
