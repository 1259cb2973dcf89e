"""Zero-shot classification by ECG–text similarity (D-BETA §4.1.2, Table 3).

    score[n, c] = x'_n . t'_c        raw dot product, no normalisation, no temperature

x'_n is the ECG embedding of record n and t'_c the text embedding of class c's description (the same pooled
features the ETS loss aligns). A class with several descriptions gets the mean of their embeddings [D]. The
scores of one class over the test set give its AUROC.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np


def class_text_embeddings(
    embed_texts: Callable[[list[str]], np.ndarray], descriptions: Mapping[str, str | Sequence[str]]
) -> tuple[list[str], np.ndarray]:
    """(class names, (C, D) embeddings) of each class's description(s), ``embed_texts(texts) -> (N, D)``."""
    names, texts, owner = list(descriptions), [], []
    for c, desc in enumerate(descriptions.values()):
        items = [desc] if isinstance(desc, str) else list(desc)
        if not items or not all(isinstance(t, str) and t.strip() for t in items):
            raise ValueError(f"zero-shot class {names[c]!r} has an empty description")
        texts += items
        owner += [c] * len(items)
    emb = np.asarray(embed_texts(texts), dtype=np.float32)
    if emb.ndim != 2 or emb.shape[0] != len(texts):
        raise ValueError(f"embed_texts returned shape {emb.shape} for {len(texts)} texts")
    owner = np.asarray(owner)
    return names, np.stack([emb[owner == c].mean(0) for c in range(len(names))])


def class_scores(ecg_embeddings: np.ndarray, class_embeddings: np.ndarray) -> np.ndarray:
    """(N, C) scores = ECG embeddings (N, D) @ class embeddings (C, D).T."""
    x, t = np.asarray(ecg_embeddings, dtype=np.float32), np.asarray(class_embeddings, dtype=np.float32)
    if x.ndim != 2 or t.ndim != 2 or x.shape[1] != t.shape[1]:
        raise ValueError(f"class_scores needs (N, D) and (C, D) embeddings, got {x.shape} and {t.shape}")
    return x @ t.T
