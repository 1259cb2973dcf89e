"""The global batch under DistributedDataParallel: contrastive losses see every rank's samples.

Each process of a torchrun job embeds its own share of the batch. A contrastive loss computed on that
share alone would give each anchor only the negatives of one process (AnyPPG: 1,535 of 6,143). Inside
:func:`global_batch` (the trainer's training step), :func:`gather` concatenates a feature tensor over
ranks, rank order, *with gradient*, as open_clip's ``gather_features(..., gather_with_grad=True)`` does: every
rank then computes the same loss on the whole batch, the backward of the all-gather sums each rank's
gradient back to the rows it produced, and DDP's gradient averaging leaves exactly the one-process
gradient of the whole batch. Outside the context (validation, embedding, single process) it is the identity.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn

_ACTIVE = [False]


@contextmanager
def global_batch() -> Iterator[None]:
    """Within the block, :func:`gather` all-gathers over the process group (when there is one)."""
    was, _ACTIVE[0] = _ACTIVE[0], True
    try:
        yield
    finally:
        _ACTIVE[0] = was


def world_size() -> int:
    """Processes whose samples a loss sees right now (1 outside :func:`global_batch`)."""
    if _ACTIVE[0] and dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def gather(x: torch.Tensor) -> torch.Tensor:
    """(B, D) on each rank -> (world_size * B, D), rank 0's rows first; differentiable; identity when
    alone."""
    if world_size() == 1:
        return x
    return torch.cat(dist_fn.all_gather(x), dim=0)
