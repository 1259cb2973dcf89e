"""MultiMAE's three tasks as the engine's one task type, and the names of its models.

Both data sources give the same label columns (the PhysioNet 2018 loader and the built-in PSG cohort write
``stage`` / ``stage_code``, ``arousal`` and ``old``), so one set of :class:`~physiofm.evaluation.tasks.Task`
reads either; ``tests/datasets/test_ds_sleep.py`` checks that the loader's ``info["tasks"]`` names these
columns. Every task reads every 30-s window (age is the patient's, copied to each window, §3.1).
"""

from __future__ import annotations

import pandas as pd

from physiofm.evaluation.tasks import Task

STORE = "psg"  # the data step's one segment store
MODALITIES = ("eeg", "eog", "emg", "ecg")  # token order of every multimodal model
MODALITY_LABELS = {"eeg": "EEG", "eog": "EOG", "emg": "EMG", "ecg": "ECG"}
PAPER_MODALITIES = ("eeg", "emg", "eog", "ecg")  # the row order of Tables 1, 3 and 4

TASKS: dict[str, Task] = {
    "sleep": Task("sleep", "multiclass", ("stage_code",), store=STORE,
                  description="sleep stage of the 30-s window: W, N1, N2, N3, REM (§3.1)"),
    "age": Task("age", "binary", ("old",), store=STORE,
                description="the patient is 55 or older (per patient, copied to each window; §3.1)"),
    "arousal": Task("arousal", "binary", ("arousal",), store=STORE,
                    description="an arousal in the 30-s window (§3.1; 2.7 % positives, §3.4)"),
}
CHANCE = {"sleep": 0.2, "age": 0.5, "arousal": 0.5}  # balanced accuracy of a random guess (Table 1)
STAGE_NAMES = ("W", "N1", "N2", "N3", "REM")

# Row labels of the tables (params/published/multimae.yaml's meta.method_labels, shortened).
RUN_LABELS = {
    "multimae": "MultiMAE only",
    "multimae_drop": "MultiMAE + input modality drop",
    "mae_eeg": "Pretrained EEG",
    "mae_emg": "Pretrained EMG",
    "mae_eog": "Pretrained EOG",
    "mae_ecg": "Pretrained ECG",
    "simclr": "Contrastive SimCLR-style",
    "sleepfm_pair": "Contrastive CLIP-style (pairwise)",
    "sleepfm_loo": "Contrastive CLIP-style (LOO)",
    "scratch_all": "Scratch All",
    "scratch_eeg": "Scratch EEG",
    "scratch_emg": "Scratch EMG",
    "scratch_eog": "Scratch EOG",
    "scratch_ecg": "Scratch ECG",
}


def scratch_name(modalities: str) -> str:
    """Run name of a model trained from scratch on ``modalities`` ("all" or one modality)."""
    return f"scratch_{modalities}"


def scratch_inputs(modalities: str) -> list[str]:
    return list(MODALITIES) if modalities == "all" else [modalities]


def task_table() -> pd.DataFrame:
    """The tasks: label column, kind, classes and chance balanced accuracy."""
    return pd.DataFrame([{"task": t.id, "label column": ", ".join(t.columns), "kind": t.kind,
                          "chance balanced accuracy": CHANCE[t.id], "description": t.description}
                         for t in TASKS.values()]).set_index("task")
