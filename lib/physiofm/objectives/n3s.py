"""Nearest-neighbour-based negative sampling, N3S (D-BETA §3.2, Fig. 2), and the ETM negative substitution.

The unique training reports are embedded once by a frozen text encoder (paper: Flan-T5-small, mean of the last
hidden state), L2-normalised and put in a ``faiss.IndexFlatL2``. For a positive report with unit embedding q,
the index is searched with the NEGATED query -q: for unit vectors ||v + q||^2 = 2 + 2 cos(v, q), so the k
nearest neighbours of -q are the k reports LEAST similar to q ("top 64 largest cosine distance"). One of them,
drawn uniformly at random, is the negative. (The authors' ``datasets/n3s.py`` does the same search.)

:func:`draw_negatives` replaces the text of int(0.5 B + U[0, 1)) rows of a batch (the authors' collator) by
such negatives. It returns the substituted texts *before* any tokenisation, so MLM masks the text the model
actually sees — the authors' collator re-tokenises MLM inputs from the original texts, losing the negatives.
Without N3S (Table 6's ablation) a negative is a training report drawn at random with its corpus frequency,
duplicates included, so an identical report can come back as a "negative": the false negatives §A.2 describes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from physiofm.text.reports import ReportBank


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"N3S embeddings must be (N, d), got shape {x.shape}")
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-10)


class FarthestNegativeSampler:
    """``FarthestNegativeSampler(text_embeddings (N, d), k=64).sample(query (B, d), rng) -> (B,) rows``.

    The flat L2 index over the normalised bank is built once here. ``sample`` searches with the negated,
    normalised queries and picks one of the k results per query with the numpy Generator ``rng``;
    ``exclude`` (B,) optionally names a bank row per query never to return (the query's own report).
    """

    def __init__(self, text_embeddings: np.ndarray, k: int = 64) -> None:
        import faiss

        if k < 1:
            raise ValueError(f"N3S k must be >= 1, got {k}")
        bank = _unit(text_embeddings)
        if bank.shape[0] < 2:
            raise ValueError(f"N3S needs at least 2 reports in the bank, got {bank.shape[0]}")
        self.k, self.n, self.dim = k, bank.shape[0], bank.shape[1]
        self.index = faiss.IndexFlatL2(self.dim)
        self.index.add(bank)

    def farthest(self, query_embeddings: np.ndarray, k: int | None = None) -> np.ndarray:
        """(B, k') bank rows, least cosine-similar first, k' = min(k, N): a search with the negated query."""
        q = _unit(query_embeddings)
        if q.shape[1] != self.dim:
            raise ValueError(f"N3S queries have dimension {q.shape[1]}, the bank {self.dim}")
        _, idx = self.index.search(-q, min(k or self.k, self.n))
        return idx

    def sample(
        self, query_embeddings: np.ndarray, rng: np.random.Generator, exclude: np.ndarray | None = None
    ) -> np.ndarray:
        """(B,) int64: one random bank row among the k least similar to each query (not its ``exclude``)."""
        idx = self.farthest(query_embeddings, self.k + (exclude is not None))
        out = np.empty(idx.shape[0], dtype=np.int64)
        for i, row in enumerate(idx):
            cand = row[row >= 0]
            if exclude is not None:
                cand = cand[cand != exclude[i]]
            cand = cand[: self.k]
            out[i] = cand[rng.integers(len(cand))]
        return out


def negative_rows(batch_size: int, rng: np.random.Generator, share: float = 0.5) -> np.ndarray:
    """Rows whose text becomes a negative: int(share B + U[0, 1)) of them, without replacement, sorted."""
    n = min(batch_size, int(share * batch_size + rng.random()))
    return np.sort(rng.choice(batch_size, size=n, replace=False))


def draw_negatives(
    texts: Sequence[str],
    bank: ReportBank,
    rng: np.random.Generator,
    sampler: FarthestNegativeSampler | None = None,
    share: float = 0.5,
) -> tuple[list[str], np.ndarray]:
    """Replace about ``share`` of the batch's reports by negatives.

    Args:
        texts: B cleaned reports, each one of ``bank.texts`` (the batch's positives).
        bank: the unique training reports with their frozen embeddings (and optional corpus counts).
        rng: numpy Generator for the rows and the picks.
        sampler: N3S over ``bank.embeddings``; None draws random training reports instead (the ablation).
        share: fraction of rows replaced (0.5 in the paper).

    Returns:
        the B texts after substitution, and aligned (B,) bool: False where the text was replaced.
    """
    texts = list(texts)
    rows = negative_rows(len(texts), rng, share)
    aligned = np.ones(len(texts), dtype=bool)
    if rows.size == 0:
        return texts, aligned
    own = bank.index_of([texts[i] for i in rows])
    if sampler is not None:
        picks = sampler.sample(bank.embeddings[own], rng, exclude=own)
    else:
        p = None if bank.counts is None else bank.counts / bank.counts.sum()
        picks = rng.choice(len(bank), size=rows.size, p=p)
    for i, j in zip(rows, picks, strict=True):
        texts[i] = bank.texts[j]
    aligned[rows] = False
    return texts, aligned
