"""Training engine: one loop, its schedules, atomic checkpoints and torchrun/DDP support."""

from physiofm.training.checkpoint import (
    file_sha256,
    load_checkpoint,
    load_model_weights,
    save_checkpoint,
    seed_everything,
    state_dict_sha256,
)
from physiofm.training.distributed import DistInfo, epoch_sampler, init_distributed, is_main_process
from physiofm.training.schedules import cosine_with_warmup, schedule_factor, tristage, tristage_steps
from physiofm.training.trainer import TrainConfig, Trainer, TrainResult

__all__ = [
    "DistInfo",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "cosine_with_warmup",
    "epoch_sampler",
    "file_sha256",
    "init_distributed",
    "is_main_process",
    "load_checkpoint",
    "load_model_weights",
    "save_checkpoint",
    "schedule_factor",
    "seed_everything",
    "state_dict_sha256",
    "tristage",
    "tristage_steps",
]
