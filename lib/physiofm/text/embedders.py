"""Frozen report embeddings for N3S: ``embedder(texts) -> (N, d)`` float32 with unit-norm rows.

N3S (D-BETA §3.2) searches the unique training reports by cosine similarity in the space of a *frozen*,
pretrained small text encoder: the paper uses Flan-T5-small's mean-pooled last hidden state (512-d) —
:class:`T5MeanEmbedder`, which the paper profile loads from a local directory. No pretrained text model can be
installed on the study's machines, so the demo uses :class:`TfidfSvdEmbedder` instead: TF-IDF over word 1- and
2-grams fitted on the training reports, reduced by a truncated SVD (LSA), then L2-normalised. Both only need
to rank reports by dissimilarity; neither is trained with the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-10)


class TfidfSvdEmbedder:
    """TF-IDF (word 1-2 grams, sublinear tf) -> TruncatedSVD(``n_components``) -> unit rows (demo N3S space).

    ``n_components`` is capped at (number of TF-IDF features - 1), which a small report corpus can require.
    """

    def __init__(self, n_components: int = 64, ngram_range: tuple[int, int] = (1, 2), seed: int = 0) -> None:
        self.n_components, self.ngram_range, self.seed = n_components, ngram_range, seed
        self.vectorizer = None
        self.svd = None

    def fit(self, texts: Sequence[str]) -> TfidfSvdEmbedder:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = list(texts)
        if len(texts) < 2:
            raise ValueError(f"TfidfSvdEmbedder.fit needs at least 2 reports, got {len(texts)}")
        self.vectorizer = TfidfVectorizer(ngram_range=self.ngram_range, sublinear_tf=True)
        x = self.vectorizer.fit_transform(texts)
        k = min(self.n_components, x.shape[1] - 1)
        if k < 1:
            raise ValueError(f"TfidfSvdEmbedder: the reports have only {x.shape[1]} distinct term(s)")
        self.svd = TruncatedSVD(n_components=k, random_state=self.seed).fit(x)
        return self

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if self.svd is None:
            raise RuntimeError("TfidfSvdEmbedder: call fit(training_reports) first")
        return _unit_rows(self.svd.transform(self.vectorizer.transform(list(texts))))

    @property
    def dim(self) -> int:
        return 0 if self.svd is None else int(self.svd.n_components)


class T5MeanEmbedder:
    """Frozen (Flan-)T5 encoder from a local directory: mean of the last hidden state over real tokens.

    The paper's N3S space (Flan-T5-small, 512-d). The authors' script averages over padded positions too; the
    mean here is over the attention mask, so a report's embedding does not depend on its batch's padding.
    """

    def __init__(self, path: str | Path, max_length: int = 256, batch_size: int = 128,
                 device: str = "cpu") -> None:
        from physiofm.text.local_t5 import load_local_t5

        self.tokenizer, self.model = load_local_t5(path)
        self.model.eval().requires_grad_(False).to(device)
        self.max_length, self.batch_size, self.device = max_length, batch_size, device

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        import torch
        from tqdm.auto import tqdm

        texts = list(texts)
        out = []
        starts = range(0, len(texts), self.batch_size)
        for i in tqdm(starts, desc="T5 report embeddings", disable=len(starts) < 10, leave=False):
            enc = self.tokenizer(texts[i : i + self.batch_size], max_length=self.max_length, padding=True,
                                 truncation=True, return_tensors="pt").to(self.device)
            with torch.no_grad():
                out_t5 = self.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
            h = out_t5.last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).to(h.dtype)
            out.append(((h * m).sum(1) / m.sum(1).clamp_min(1)).float().cpu().numpy())
        return _unit_rows(np.concatenate(out) if out else np.zeros((0, self.model.config.d_model)))

    @property
    def dim(self) -> int:
        return int(self.model.config.d_model)
