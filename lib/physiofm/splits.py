"""Subject-level train / validation / test splits: no subject ever appears in two partitions."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from physiofm.io import write_parquet

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


def holdout_subjects(index: pd.DataFrame, fraction: float, seed: int, *, strata: Sequence[str] = (),
                     subject_col: str = "subject_id") -> np.ndarray:
    """Boolean mask of the rows whose subject is among a stratified ``fraction`` of the subjects.

    A subject's stratum is its label signature: which ``strata`` columns (0 / 1) are 1 in any of its rows (a
    PTB-XL patient with an MI record counts as MI). Signatures held by a single subject are pooled into one
    stratum so that every stratum can be split; scikit-learn's ``train_test_split`` draws the subjects.
    hybrid_ecg's validation share: 10 % of the patients of strat_fold 1-9, stratified by MI / STTC / CD / HYP.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"holdout_subjects: fraction must lie in (0, 1), got {fraction}")
    subjects = index[subject_col].astype(str)
    if strata:
        flags = index[list(strata)].fillna(0).astype(float).gt(0).groupby(subjects).any()
        keys = flags.apply(lambda r: "".join("1" if v else "0" for v in r), axis=1)
        counts = keys.map(keys.value_counts())
        keys = keys.where(counts > 1, "rare")
        stratify = keys.to_numpy() if keys.value_counts().min() > 1 else None
        names = keys.index.to_numpy()
    else:
        names, stratify = np.sort(subjects.unique()), None
    if len(names) < 2:
        raise ValueError(f"holdout_subjects: {len(names)} subject(s) cannot be split")
    try:
        _, held = train_test_split(names, test_size=fraction, random_state=seed, stratify=stratify)
    except ValueError:  # fewer held-out subjects than strata (tiny cohorts): a plain random share
        _, held = train_test_split(names, test_size=fraction, random_state=seed)
    return subjects.isin(set(held)).to_numpy()


def check_disjoint(index: pd.DataFrame, split: pd.Series, subject_col: str = "subject_id") -> None:
    """Raise ``ValueError`` naming subjects that appear in more than one partition."""
    n = pd.DataFrame({"s": index[subject_col].astype(str), "p": split}).groupby("s")["p"].nunique()
    shared = n[n > 1]
    if len(shared):
        raise ValueError(f"subjects in more than one partition: {list(shared.index[:10])}")


# ------------------------------------------------------------------------------------ the split table
# One row per segment of the stores a study trains on: which store, which row of it, whose, from which
# source, and which partition. Every paper writes it as ``<data step>/splits.parquet``.
SPLIT_COLUMNS = ("store", "row", "subject_id", "source", "split")


def split_table(indexes: Mapping[str, pd.DataFrame],
                fractions: Sequence[float] | Mapping[str, Sequence[float]], seed: int, *,
                seed_by_source: bool = True) -> pd.DataFrame:
    """The split table of several store indexes (store name -> index), whole subjects per source.

    Each source of each store (its ``source`` column, else the store name) is split with
    :func:`subject_splits` into ``fractions`` (one tuple, or source -> tuple). ``seed_by_source`` seeds each
    source's permutation with its name; without it every source draws from the same seeded stream.
    """
    parts = []
    for name, index in indexes.items():
        source = (index["source"] if "source" in index else pd.Series(name, index=index.index)).astype(str)
        split = pd.Series(index=index.index, dtype=object, name="split")
        for src, rows in source.groupby(source).groups.items():
            if isinstance(fractions, Mapping) and src not in fractions:
                raise KeyError(f"no split fractions for source {src!r}; have {sorted(fractions)}")
            fr = fractions[src] if isinstance(fractions, Mapping) else fractions
            part = index.loc[rows].assign(source=src)
            split.loc[rows] = subject_splits(part, tuple(fr), by="source" if seed_by_source else None,
                                             seed=seed).to_numpy()
        check_disjoint(index, split)
        parts.append(pd.DataFrame({"store": name, "row": np.arange(len(index)),
                                   "subject_id": index["subject_id"].astype(str).to_numpy(),
                                   "source": source.to_numpy(), "split": split.to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def write_splits(splits: pd.DataFrame, folder: Path) -> Path:
    """``folder/splits.parquet``, atomically."""
    missing = [c for c in SPLIT_COLUMNS if c not in splits]
    if missing:
        raise ValueError(f"a split table needs the columns {list(SPLIT_COLUMNS)}; missing {missing}")
    return write_parquet(splits[list(SPLIT_COLUMNS)], Path(folder) / "splits.parquet")


def read_splits(folder: Path) -> pd.DataFrame:
    path = Path(folder) / "splits.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no split table; run the data step first")
    return pd.read_parquet(path)


def split_rows(splits: pd.DataFrame, split: str) -> dict[str, np.ndarray]:
    """Store name -> the rows of that store in partition ``split`` (stores in table order)."""
    sel = splits[splits["split"] == split]
    return {n: sel.loc[sel["store"] == n, "row"].to_numpy(np.int64) for n in dict.fromkeys(splits["store"])}


def split_counts(splits: pd.DataFrame, indexes: Mapping[str, pd.DataFrame], segment_s: float) -> pd.DataFrame:
    """Subjects, records, segments and hours per source and partition (the layout of SyneCo's Table B)."""
    records = pd.Series(index=splits.index, dtype=object)
    for name, index in indexes.items():
        mine = splits["store"] == name
        records[mine] = index["record_id"].astype(str).to_numpy()[splits.loc[mine, "row"]]
    df = splits.assign(record_id=records.to_numpy())
    g = df.groupby(["source", "split"])
    return pd.DataFrame({"subjects": g["subject_id"].nunique(), "records": g["record_id"].nunique(),
                         "segments": g.size(), "hours": (g.size() * segment_s / 3600).round(2)}).reset_index()
