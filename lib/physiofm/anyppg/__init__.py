"""AnyPPG (Nie et al.): ECG-guided PPG pretraining by CLIP alignment of two Net1D encoders.

model.py holds the two-encoder model, its objective and the embedding functions for retrieval and
probing; baselines.py the PPG-only SimCLR / BYOL baselines on the same encoder; tasks.py the paper's
evaluation as data.
"""

from physiofm.anyppg.baselines import BYOL, BYOLObjective, SimCLR, SimCLRObjective, ppg_view
from physiofm.anyppg.model import (
    AnyPPG,
    ClipObjective,
    build_encoder,
    param_groups,
    probe_features,
    retrieval_embeddings,
)
from physiofm.anyppg.tasks import (
    PRETRAIN_SOURCES,
    PROBE_PROTOCOL,
    PROBE_TASKS,
    RETRIEVAL_PROTOCOL,
    PretrainSource,
    ProbeTask,
    probe_task,
    probe_tasks,
)

__all__ = [
    "BYOL", "PRETRAIN_SOURCES", "PROBE_PROTOCOL", "PROBE_TASKS", "RETRIEVAL_PROTOCOL", "AnyPPG",
    "BYOLObjective", "ClipObjective", "PretrainSource", "ProbeTask", "SimCLR", "SimCLRObjective",
    "build_encoder", "param_groups", "ppg_view", "probe_features", "probe_task", "probe_tasks",
    "retrieval_embeddings",
]
