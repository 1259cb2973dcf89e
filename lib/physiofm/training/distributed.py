"""torchrun / DistributedDataParallel with the same code single-process.

Launch a script with ``torchrun --nproc_per_node N script.py`` and the trainer reads ``RANK``,
``WORLD_SIZE`` and ``LOCAL_RANK`` from the environment, initialises the process group (NCCL on CUDA, gloo on
CPU) and wraps the training step in DDP. Without those variables everything runs in one process and the
helpers below return rank 0 of a world of 1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import Dataset, DistributedSampler


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(backend: str | None = None) -> DistInfo:
    """Initialise the process group when launched by torchrun (idempotent); single-process otherwise."""
    if dist.is_available() and dist.is_initialized():
        return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    world_size = int(os.environ.get("WORLD_SIZE", 1))
    if world_size <= 1:
        return DistInfo()
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend=backend)
    return DistInfo(dist.get_rank(), dist.get_world_size(), local_rank)


def dist_info() -> DistInfo:
    """Rank and world size of the running process (rank 0 of 1 when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    return DistInfo()


def is_main_process() -> bool:
    return dist_info().is_main


def barrier() -> None:
    if dist_info().enabled:
        dist.barrier()


def all_reduce_mean(x: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` over ranks (``x`` itself when single-process)."""
    if not dist_info().enabled:
        return x
    x = x.clone()
    dist.all_reduce(x, op=dist.ReduceOp.SUM)
    return x / dist.get_world_size()


def all_gather_object(obj: Any) -> list[Any]:
    """``[obj_rank0, obj_rank1, ...]`` on every rank (``[obj]`` when single-process)."""
    info = dist_info()
    if not info.enabled:
        return [obj]
    out: list[Any] = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out


def epoch_sampler(dataset: Dataset, *, shuffle: bool = True, seed: int = 0, drop_last: bool = False):
    """A seeded, epoch-based sampler that shards across ranks under DDP and works unchanged in one process.

    It is ``torch.utils.data.DistributedSampler`` with rank and world size filled in; the trainer calls
    its ``set_epoch`` at each epoch, so the order depends only on (seed, epoch) and resumes exactly.
    """
    info = dist_info()
    return DistributedSampler(
        dataset, num_replicas=info.world_size, rank=info.rank, shuffle=shuffle, seed=seed, drop_last=drop_last
    )


def cleanup() -> None:
    """Destroy the process group if one was initialised."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
