"""Subject-level train / validation / test splits: no subject ever appears in two partitions."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

SPLITS = ("train", "val", "test")


def subject_splits(index: pd.DataFrame, fractions: Sequence[float] = (0.8, 0.1, 0.1), *,
                   by: str | None = "source", subject_col: str = "subject_id", seed: int = 0,
                   names: Sequence[str] = SPLITS) -> pd.Series:
    """Assign every row a partition name, drawing whole subjects (8:1:1 per source by default).

    Within each ``by`` group (a subject is placed with the group holding most of its rows, so a subject
    seen in two sources still lands in one partition), the sorted subjects are permuted with a generator
    seeded by ``(seed, crc32(group))`` and cut at the cumulative fractions: the same inputs always give
    the same split, and adding a source does not reshuffle the others.

    Args:
        index: one row per segment or record, with ``subject_col`` (and ``by`` unless None).
        fractions: partition shares, summing to 1.
        by: column to stratify by, or None for one pool.
        seed: split seed.
        names: partition names, one per fraction.

    Returns:
        Series aligned with ``index`` holding the partition name of each row.
    """
    if len(fractions) != len(names) or not np.isclose(sum(fractions), 1.0) or min(fractions) < 0:
        raise ValueError(f"subject_splits: fractions {tuple(fractions)} must be >= 0, sum to 1 and match "
                         f"names {tuple(names)}")
    subjects = index[subject_col].astype(str)
    groups = index[by].astype(str) if by is not None else pd.Series("all", index=index.index)
    sizes = pd.DataFrame({"s": subjects, "g": groups}).groupby(["s", "g"]).size().rename("n").reset_index()
    sizes = sizes.sort_values(["s", "n", "g"], ascending=[True, False, True]).drop_duplicates("s")
    home = pd.Series(sizes["g"].to_numpy(), index=sizes["s"].to_numpy())
    assignment: dict[str, str] = {}
    bounds = np.cumsum(fractions)
    for group, members in home.groupby(home):
        subs = np.sort(members.index.to_numpy())
        rng = np.random.default_rng([seed, zlib.crc32(str(group).encode())])
        subs = subs[rng.permutation(len(subs))]
        cuts = np.round(bounds * len(subs)).astype(int)
        for name, lo, hi in zip(names, np.concatenate([[0], cuts[:-1]]), cuts, strict=True):
            assignment.update(dict.fromkeys(subs[lo:hi], name))
    return subjects.map(assignment).rename("split")


def check_disjoint(index: pd.DataFrame, split: pd.Series, subject_col: str = "subject_id") -> None:
    """Raise ``ValueError`` naming subjects that appear in more than one partition."""
    n = pd.DataFrame({"s": index[subject_col].astype(str), "p": split}).groupby("s")["p"].nunique()
    shared = n[n > 1]
    if len(shared):
        raise ValueError(f"subjects in more than one partition: {list(shared.index[:10])}")
