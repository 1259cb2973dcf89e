"""Symmetric InfoNCE / NT-Xent with same-view negatives (SimCLR, Chen et al. 2020; SyneCo §2.3).

For two views a, b of B samples, stack z = [â; b̂] (2B, D) of L2-normalised rows and
    s_ij = z_i . z_j / T,  i != j              (the self-similarity i = j is excluded)
    L = -1/(2B) sum_i log( exp(s_{i,pos(i)}) / sum_{j != i} exp(s_ij) ),   pos(i) = i +- B.
Each row sees 2B - 2 negatives: B - 1 from the other view (the cross-view block) and B - 1 from its own view
(the "same-view similarity blocks aggregated into the negative pool" of SyneCo §2.3). Averaging over all 2B
rows makes it symmetric in a and b. Under DDP the rows of every process take part (:mod:`.gather`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from physiofm.objectives.gather import gather


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Symmetric NT-Xent between paired rows of ``a`` and ``b`` (both (B, D)), mean over the 2B anchors.

    Rows are L2-normalised here, so callers may pass raw or already-normalised embeddings.
    """
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(
            f"info_nce needs two (B, D) tensors of one shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if a.shape[0] < 2:
        raise ValueError(
            f"info_nce needs at least 2 samples per batch (negatives come from the batch), got {a.shape[0]}"
        )
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    a, b = gather(a), gather(b)  # the whole batch under DDP (physiofm.objectives.gather)
    n = a.shape[0]
    z = F.normalize(torch.cat([a, b]), dim=-1)
    logits = z @ z.T / temperature
    eye = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(eye, float("-inf"))
    positives = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(logits, positives)


class NTXentLoss(nn.Module):
    """Module form of :func:`info_nce` with a fixed temperature: ``NTXentLoss(0.1)(a, b)``."""

    def __init__(self, temperature: float = 0.1) -> None:
        super().__init__()
        self.temperature = temperature

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return info_nce(a, b, self.temperature)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}"


def masked_info_nce(
    a: torch.Tensor, b: torch.Tensor, groups: torch.Tensor, temperature: float = 0.1
) -> torch.Tensor:
    """:func:`info_nce` whose negatives exclude rows of the anchor's own group (PCLR-style patient contrast).

    With z = [â; b̂] (2B rows), g = [groups; groups] and pos(i) = i +- B as above,
        N(i) = {j != i : g_j != g_i}                  (rows of the same group are not negatives)
        L = -1/(2B) sum_i log( exp(s_{i,pos(i)}) / (exp(s_{i,pos(i)}) + sum_{j in N(i)} exp(s_ij)) ).
    hybrid_ecg's patient-level loss: row i of ``a`` and ``b`` are two records (or two views) of one patient,
    ``groups`` (B,) the patient ids, so other records of that patient are kept out of the negatives [D].
    With all groups distinct it equals :func:`info_nce`.
    """
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(
            f"masked_info_nce needs two (B, D) tensors of one shape, got {tuple(a.shape)} and "
            f"{tuple(b.shape)}"
        )
    if groups.shape != (a.shape[0],):
        raise ValueError(f"groups must be ({a.shape[0]},) ids, one per row, got {tuple(groups.shape)}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    n = a.shape[0]
    z = F.normalize(torch.cat([a, b]), dim=-1)
    logits = z @ z.T / temperature
    g = torch.cat([groups, groups]).to(z.device)
    positives = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    excluded = g[:, None] == g[None, :]  # includes i itself and pos(i); the positive is restored below
    excluded[torch.arange(2 * n, device=z.device), positives] = False
    logits = logits.masked_fill(excluded, float("-inf"))
    return F.cross_entropy(logits, positives)
