"""SleepFM's multi-channel contrastive losses (Thapa et al. 2024), as the released code computes them.

Following ``sleepfm/2_pretrain.py`` of github.com/rthapa84/sleepfm-codebase, for M channel embeddings e_1..e_M
(each (B, D), L2-normalised first) and a logit scale s (the code's ``exp(temperature)``):

pairwise:       for every unordered pair (i, j): logits = s * e_i @ e_j.T, CE(logits) + CE(logits.T);
                the sum is divided by the number of directed pairs M(M-1) (and by B: a mean over the batch).
leave-one-out:  for every i: o_i = mean_{j != i} e_j (not re-normalised), logits = s * e_i @ o_i.T,
                CE(logits) + CE(logits.T); the sum is divided by 2M (and by B).

With M = 2 both reduce to the same symmetric CLIP loss. The code learns ``temperature`` (a log-scale, init 0)
and clamps it at >= 0 after each step; the learnable parameter lives in the model (see physiofm.syneco).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from physiofm.objectives.gather import gather


def _normalised(embeddings: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    if len(embeddings) < 2:
        raise ValueError(f"SleepFM losses need at least 2 channel embeddings, got {len(embeddings)}")
    shape = embeddings[0].shape
    for e in embeddings:
        if e.ndim != 2 or e.shape != shape:
            shapes = [tuple(x.shape) for x in embeddings]
            raise ValueError(f"every channel embedding must be (B, D) of one shape; got {shapes}")
    return [F.normalize(gather(e), dim=-1) for e in embeddings]  # whole batch under DDP (.gather)


def _two_way_ce(logits: torch.Tensor) -> torch.Tensor:
    labels = torch.arange(logits.shape[0], device=logits.device)
    return F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)


def sleepfm_pairwise_loss(
    embeddings: Sequence[torch.Tensor], logit_scale: torch.Tensor | float
) -> torch.Tensor:
    """Mean over the M(M-1) directed channel pairs of the batch-mean cross-entropy; M tensors (B, D)."""
    e = _normalised(embeddings)
    m = len(e)
    total = sum(_two_way_ce(logit_scale * e[i] @ e[j].T) for i in range(m) for j in range(i + 1, m))
    return total / (m * (m - 1))


def sleepfm_loo_loss(embeddings: Sequence[torch.Tensor], logit_scale: torch.Tensor | float) -> torch.Tensor:
    """Each channel vs the (un-normalised) mean of the others, both directions, averaged over 2M terms."""
    e = _normalised(embeddings)
    m = len(e)
    total = 0.0
    for i in range(m):
        others = torch.stack([e[j] for j in range(m) if j != i]).mean(dim=0)
        total = total + _two_way_ce(logit_scale * e[i] @ others.T)
    return total / (2 * m)
