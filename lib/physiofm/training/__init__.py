"""Training engine: the Trainer, its schedules, atomic checkpoints, torchrun/DDP support, and the one
pretraining run every paper uses (:mod:`physiofm.training.run`)."""

from physiofm.training.checkpoint import (
    file_sha256,
    load_checkpoint,
    load_model_weights,
    save_checkpoint,
    seed_everything,
    state_dict_sha256,
)
from physiofm.training.distributed import DistInfo, epoch_sampler, init_distributed, is_main_process
from physiofm.training.run import (
    RunData,
    checkpoint,
    curves,
    data_assets,
    load_method,
    pretrain,
    pretrain_runs,
    pretrain_step,
    run_summary,
)
from physiofm.training.schedules import cosine_with_warmup, schedule_factor, tristage, tristage_steps
from physiofm.training.trainer import TrainConfig, Trainer, TrainResult

__all__ = [
    "DistInfo",
    "RunData",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "checkpoint",
    "cosine_with_warmup",
    "curves",
    "data_assets",
    "epoch_sampler",
    "file_sha256",
    "init_distributed",
    "is_main_process",
    "load_checkpoint",
    "load_method",
    "load_model_weights",
    "pretrain",
    "pretrain_runs",
    "pretrain_step",
    "run_summary",
    "save_checkpoint",
    "schedule_factor",
    "seed_everything",
    "state_dict_sha256",
    "tristage",
    "tristage_steps",
]
