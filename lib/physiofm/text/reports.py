"""Report text for ECG–text pretraining: merge a record's report lines, clean them, keep the unique ones.

D-BETA §4.1.1: "Each ECG recording will have several reports, and we simply merge them into one single report"
and the text is cleaned "by using lowercase, strip, and punctuation removal". §A.2: of ~800k MIMIC-IV-ECG
reports only ~180k are unique, which is why negatives come from the *unique* reports (:class:`ReportBank`).

Cleaning removes ASCII punctuation without inserting a space, so "st-t changes" becomes "stt changes" and
"a-v block" becomes "av block", as Python's ``str.translate`` deletion (and the paper's description) does.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from physiofm.io import read_arrays, write_arrays

_PUNCT = str.maketrans("", "", string.punctuation)
_SPACES = re.compile(r"\s+")


def clean_report(text: str) -> str:
    """D-BETA text cleaning: lower case, ASCII punctuation removed, whitespace collapsed, stripped."""
    return _SPACES.sub(" ", text.lower().translate(_PUNCT)).strip()


def merge_reports(row: pd.Series, columns: list[str]) -> str:
    """The non-empty string cells ``columns`` of ``row`` (a study's report lines), in order, space-joined."""
    parts = [str(row[c]).strip() for c in columns if isinstance(row[c], str) and row[c].strip()]
    return " ".join(parts)


def unique_reports(texts: Iterable[str]) -> list[str]:
    """Distinct non-empty texts in order of first appearance (the texts are expected to be cleaned)."""
    return list(dict.fromkeys(t for t in texts if t))


@dataclass
class ReportBank:
    """The unique training reports and their frozen, L2-normalised text embeddings (N3S's search space).

    Attributes:
        texts: N distinct report texts (cleaned).
        embeddings: (N, d) float32, row i embeds ``texts[i]`` (N3S normalises them).
        counts: optional (N,) occurrences of each text in the training corpus; random negatives (the
            no-N3S ablation) are drawn with these frequencies, uniformly over the bank without them.
    """

    texts: list[str]
    embeddings: np.ndarray
    counts: np.ndarray | None = None
    _row: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.texts = list(self.texts)
        emb = np.ascontiguousarray(self.embeddings, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[0] != len(self.texts):
            raise ValueError(
                f"ReportBank: embeddings must be (N, d) with N = {len(self.texts)} texts, got {emb.shape}"
            )
        if len(self.texts) < 2:
            raise ValueError(f"ReportBank needs at least 2 distinct reports, got {len(self.texts)}")
        if not np.isfinite(emb).all():
            raise ValueError("ReportBank: embeddings contain NaN or inf")
        self._row = {t: i for i, t in enumerate(self.texts)}
        if len(self._row) != len(self.texts):
            raise ValueError("ReportBank: texts must be distinct (use unique_reports)")
        self.embeddings = emb
        if self.counts is not None:
            counts = np.asarray(self.counts, dtype=np.float64)
            if counts.shape != (len(self.texts),) or (counts <= 0).any():
                raise ValueError(f"ReportBank: counts must be {len(self.texts)} positive numbers")
            self.counts = counts

    @classmethod
    def from_reports(
        cls, reports: Iterable[str], embed: Callable[[list[str]], np.ndarray]
    ) -> ReportBank:
        """Bank of the distinct ``reports`` with their corpus counts, embedded once by the frozen
        ``embed(texts) -> (N, d)``."""
        counts = Counter(t for t in reports if t)
        texts = list(counts)
        return cls(texts, np.asarray(embed(texts), dtype=np.float32), np.array([counts[t] for t in texts]))

    def save(self, path: str | Path) -> Path:
        """Write the bank as one ``.npz`` (texts as a unicode array: no pickle), atomically."""
        arrays = {"texts": np.array(self.texts, dtype=str), "embeddings": self.embeddings}
        if self.counts is not None:
            arrays["counts"] = self.counts
        return write_arrays(Path(path), arrays)

    @classmethod
    def load(cls, path: str | Path) -> ReportBank:
        """A bank written by :meth:`save`; a missing or foreign file is an error naming it."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"N3S report bank {path} does not exist (the data step writes it)")
        arrays = read_arrays(path)
        if not {"texts", "embeddings"} <= set(arrays):
            raise ValueError(f"{path} is not a report bank (arrays: {sorted(arrays)})")
        return cls([str(t) for t in arrays["texts"]], arrays["embeddings"], arrays.get("counts"))

    def __len__(self) -> int:
        return len(self.texts)

    def __contains__(self, text: object) -> bool:
        return text in self._row

    def index_of(self, texts: Sequence[str]) -> np.ndarray:
        """(B,) int64 row of each text; a text outside the bank is a KeyError naming it."""
        try:
            return np.fromiter((self._row[t] for t in texts), dtype=np.int64, count=len(texts))
        except KeyError as err:
            raise KeyError(
                f"report {err.args[0]!r} is not in the N3S report bank ({len(self)} training reports); "
                "build the bank from the same cleaned training reports the batches carry"
            ) from None
