"""Samplers of segment positions and the batches the trainer reads.

* :class:`CycleSampler`: SyneCo's cycle-based sampler, each cycle draws a fixed share of every source's
  segments afresh; :class:`CycleBatches` cuts one cycle per epoch into sorted batches.
* :class:`EpochBatches`: batches of any epoch-based sampler (e.g. the shuffled, rank-sharded
  :func:`physiofm.training.epoch_sampler`), in the sampler's order.
* :class:`PairedBatches`: any of these batches with a partner for every position, another segment of the same
  subject (hybrid_ecg's patient-level positive: another record of the same patient), as
  :class:`PairedBatch` items that :class:`physiofm.store.SegmentDataset` reads into ``<group>_pair`` and
  ``subject`` keys.

All forward ``set_epoch`` so the trainer resumes a run on the exact batch it stopped at.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch


class CycleSampler(torch.utils.data.Sampler[int]):
    """Yield dataset positions cycle by cycle; one ``__iter__`` is one cycle.

    SyneCo (appendix C): "a cycle-based sampling strategy independently draws 50% of segments from each
    data source at the start of each cycle ... and reseeds the sampler at the start of every new cycle".
    Cycle ``c`` draws ``fraction * n_s`` (rounded half up) positions without replacement from each
    source ``s`` with a generator seeded by ``(seed, c, crc32(s))``, then shuffles the union with
    ``(seed, c)``. The whole state is the number of positions handed out so far, so a trainer resumes
    exactly by saving :meth:`state_dict` (passing ``consumed`` = batches taken x batch size when a
    DataLoader prefetches ahead of training) and calling :meth:`load_state_dict`.

    Args:
        sources: ``(N,)`` source name per dataset position (e.g. ``store.index["source"]``).
        fraction: share of each source drawn per cycle (0.5).
        seed: base seed.
    """

    def __init__(self, sources: Sequence[str] | np.ndarray, fraction: float = 0.5, seed: int = 0) -> None:
        if not 0 < fraction <= 1:
            raise ValueError(f"CycleSampler: fraction must be in (0, 1], got {fraction}")
        sources = np.asarray(sources).astype(str)
        self.fraction, self.seed = float(fraction), int(seed)
        self.by_source = {s: np.flatnonzero(sources == s) for s in np.unique(sources)}
        self.cycle_len = sum(self._share(len(p)) for p in self.by_source.values())
        if self.cycle_len == 0:
            raise ValueError("CycleSampler: a cycle would be empty (no positions or fraction too small)")
        self.position = 0  # positions handed out since cycle 0 began

    def _share(self, n: int) -> int:
        return int(self.fraction * n + 0.5)  # half up, unlike round()'s half-to-even

    def __len__(self) -> int:
        return self.cycle_len

    @property
    def cycle(self) -> int:
        return self.position // self.cycle_len

    def cycle_indices(self, cycle: int) -> np.ndarray:
        """The ``cycle_len`` positions of one cycle, in the order they are yielded."""
        drawn = []
        for s, pos in self.by_source.items():
            rng = np.random.default_rng([self.seed, cycle, zlib.crc32(s.encode())])
            drawn.append(rng.choice(pos, size=self._share(len(pos)), replace=False))
        union = np.concatenate(drawn)
        return union[np.random.default_rng([self.seed, cycle]).permutation(len(union))]

    def __iter__(self) -> Iterator[int]:
        cycle, offset = divmod(self.position, self.cycle_len)
        for i in self.cycle_indices(cycle)[offset:]:
            self.position += 1
            yield int(i)

    def state_dict(self, consumed: int | None = None) -> dict:
        """``{"position", "seed", "fraction", "cycle_len"}``; ``consumed`` overrides the position."""
        return {"position": int(self.position if consumed is None else consumed), "seed": self.seed,
                "fraction": self.fraction, "cycle_len": self.cycle_len}

    def load_state_dict(self, state: dict) -> None:
        mine = (self.seed, self.fraction, self.cycle_len)
        if (state["seed"], state["fraction"], state["cycle_len"]) != mine:
            raise ValueError(f"CycleSampler: checkpoint was made with seed/fraction/cycle length "
                             f"{state['seed']}/{state['fraction']}/{state['cycle_len']}, this sampler has "
                             f"{self.seed}/{self.fraction}/{self.cycle_len}")
        self.position = int(state["position"])


class CycleBatches(torch.utils.data.Sampler[list[int]]):
    """Batches of a :class:`CycleSampler`, one cycle per epoch, each batch sorted for forward memmap reads.

    ``set_epoch(e)`` moves the sampler to the start of cycle ``e``, which is what lets the trainer resume
    mid-run on the exact batch sequence. The last incomplete batch of a cycle is dropped.
    """

    def __init__(self, sampler: CycleSampler, batch_size: int) -> None:
        if len(sampler) < batch_size:
            raise ValueError(f"a cycle holds {len(sampler)} segments, fewer than one batch of {batch_size}; "
                             "lower batch_size or raise cycle_fraction / the cohort size")
        self.sampler, self.batch_size = sampler, batch_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.sampler.position = epoch * len(self.sampler)

    def __len__(self) -> int:
        return len(self.sampler) // self.batch_size

    def __iter__(self) -> Iterator[list[int]]:
        self.set_epoch(self.epoch)
        order = list(self.sampler)
        for i in range(len(self)):
            yield sorted(order[i * self.batch_size:(i + 1) * self.batch_size])


class EpochBatches(torch.utils.data.Sampler[list[int]]):
    """Batches of position lists from ``sampler`` in its order; forwards ``set_epoch`` to it."""

    def __init__(self, sampler: torch.utils.data.Sampler, batch_size: int, drop_last: bool) -> None:
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(torch.utils.data.BatchSampler(self.sampler, self.batch_size, self.drop_last))

    def __iter__(self) -> Iterator[list[int]]:
        yield from torch.utils.data.BatchSampler(self.sampler, self.batch_size, self.drop_last)


@dataclass(frozen=True)
class PairedBatch:
    """One batch: dataset ``positions`` (B,) and, row for row, the position of each one's partner (B,)."""

    positions: np.ndarray
    partners: np.ndarray

    def __len__(self) -> int:
        return len(self.positions)


class PairedBatches(torch.utils.data.Sampler[PairedBatch]):
    """The batches of ``batches`` with a partner for every position: another position of the same group.

    ``groups`` (N,) is the group (subject) of every dataset position. A position's partner is drawn uniformly
    from the *other* positions of its group, afresh for each batch with a generator seeded by
    ``(seed, epoch, batch number)``; a position alone in its group is its own partner (a patient with one
    record: the pair is then two augmented views of that record). Partners are drawn from the whole dataset,
    so they need not lie in the same batch. ``set_epoch`` is forwarded to ``batches``, so a resumed run draws
    the same partners.
    """

    def __init__(self, batches: Iterable[Sequence[int]], groups: Sequence[int] | np.ndarray,
                 seed: int = 0) -> None:
        groups = np.asarray(groups)
        if groups.ndim != 1:
            raise ValueError(f"PairedBatches: groups must be (N,), got shape {groups.shape}")
        self.batches, self.seed, self.epoch = batches, int(seed), 0
        _, codes = np.unique(groups, return_inverse=True)
        self.order = np.argsort(codes, kind="stable")  # positions grouped, each group in position order
        sizes = np.bincount(codes)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self.start, self.size = starts[codes], sizes[codes]
        self.rank = np.empty(len(codes), np.int64)  # place of each position within its group
        self.rank[self.order] = np.arange(len(codes)) - np.repeat(starts, sizes)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if hasattr(self.batches, "set_epoch"):
            self.batches.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.batches)

    def partners(self, positions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A partner for every position: another member of its group, or itself when it has none."""
        pos = np.asarray(positions, dtype=np.int64)
        size, rank = self.size[pos], self.rank[pos]
        pick = np.floor(rng.random(len(pos)) * np.maximum(size - 1, 1)).astype(np.int64)
        pick += pick >= rank  # skip the position itself
        return np.where(size > 1, self.order[self.start[pos] + np.minimum(pick, size - 1)], pos)

    def __iter__(self) -> Iterator[PairedBatch]:
        for k, batch in enumerate(self.batches):
            pos = np.asarray(batch, dtype=np.int64)
            rng = np.random.default_rng([self.seed, self.epoch, k])
            yield PairedBatch(pos, self.partners(pos, rng))
