"""Cross-modal retrieval scores as AnyPPG reports them (Table 2: PPG-to-ECG retrieval).

Row ``i`` of ``query`` (e.g. PPG embeddings) and row ``i`` of ``gallery`` (the synchronous ECG) are a pair.
Following AnyPPG, the pairs are cut into consecutive batches of ``batch_size`` (2,560 in the paper); within a
batch each query ranks the batch's gallery by cosine similarity, and "all metrics were computed on batches of
2,560 paired samples and averaged across batches". With one relevant item per query:

* ``R@k``: fraction of queries whose match is among the top ``k``;
* ``mAP@10``: average precision at 10 with a single relevant item, i.e. ``1/rank`` if ``rank <= 10`` else 0;
* ``MRR``: mean of ``1/rank``.

Choices the paper leaves open, made here: ties count against the query (rank = 1 + number of other gallery
items scoring at least as high as the match, so a collapsed embedding scores chance, not 1); a last, shorter
batch is kept and batches are averaged weighted by their number of queries (identical to the plain average of
batch means when every batch is full).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def match_ranks(query: torch.Tensor, gallery: torch.Tensor) -> torch.Tensor:
    """1-based rank of ``gallery[i]`` among the rows of ``gallery`` for ``query[i]``; (B, D) -> (B,)."""
    q = torch.nn.functional.normalize(query.double(), dim=1)
    g = torch.nn.functional.normalize(gallery.double(), dim=1)
    sim = q @ g.T
    own = sim.diagonal().unsqueeze(1)
    others_at_least = (sim >= own).sum(1) - 1  # minus the match itself
    return others_at_least + 1


def retrieval_metrics(
    query, gallery, ks: Sequence[int] = (1, 5, 10), batch_size: int = 2560
) -> dict[str, float]:
    """Recall@k, mAP@10 and MRR of retrieving ``gallery[i]`` from ``query[i]`` in batches of ``batch_size``.

    Args:
        query: (N, D) array or tensor of query embeddings.
        gallery: (N, D') array or tensor, row ``i`` paired with ``query[i]`` (D' = D).
        ks: cut-offs for ``R@k``.
        batch_size: number of consecutive pairs per retrieval batch (AnyPPG: 2,560).

    Returns:
        ``{"R@1": ..., "R@5": ..., "R@10": ..., "mAP@10": ..., "MRR": ...}`` (one ``R@k`` per ``k``).
    """
    query, gallery = torch.as_tensor(np.asarray(query)), torch.as_tensor(np.asarray(gallery))
    if query.ndim != 2 or gallery.ndim != 2 or query.shape != gallery.shape:
        raise ValueError(
            f"query and gallery must be (N, D) of the same shape, got {tuple(query.shape)} "
            f"and {tuple(gallery.shape)}"
        )
    if len(query) == 0:
        raise ValueError("retrieval_metrics needs at least one pair")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if not (torch.isfinite(query).all() and torch.isfinite(gallery).all()):
        raise ValueError("query/gallery contain NaN or infinite values")
    ranks = torch.cat(
        [
            match_ranks(query[i : i + batch_size], gallery[i : i + batch_size])
            for i in range(0, len(query), batch_size)
        ]
    ).double()
    # weighting batches by their size == averaging over all queries of all batches
    out = {f"R@{k}": float((ranks <= k).double().mean()) for k in ks}
    out["mAP@10"] = float(torch.where(ranks <= 10, 1.0 / ranks, torch.zeros_like(ranks)).mean())
    out["MRR"] = float((1.0 / ranks).mean())
    return out
