"""AnyPPG's evaluation as data: pretraining sources (Table 1/2), the eleven probing tasks (Tables 1, 3, 4) and
the evaluation protocols (Methods), for the notebooks to iterate over.

Dataset names are the registry names of :mod:`physiofm.datasets`; each task's column is the label a loader
puts in ``RecordingSet.records`` / the segment index. ``paper_*`` fields are what the paper prints, so a
notebook can put "published" next to "this study" and tests can find the labels in the paper text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from physiofm.evaluation.tasks import Task

TaskKind = Literal["regression", "binary", "multiclass"]

REGRESSION_METRICS = ("MAE", "R2")
CLASSIFICATION_METRICS = ("AUC", "F1", "accuracy")


@dataclass(frozen=True)
class PretrainSource:
    """One synchronized PPG-ECG pretraining source; counts from Table 1 and the test-set size from Table 2."""

    dataset: str
    paper_name: str
    paper_subjects: int
    paper_segments: int
    paper_hours: int
    paper_test_samples: int


@dataclass(frozen=True)
class PaperTask:
    """One dataset-task pair the paper evaluates by linear probing on frozen PPG-encoder features: the
    :class:`~physiofm.evaluation.tasks.Task` on the dataset's store, and what the paper prints about it."""

    task: Task
    paper_dataset: str
    paper_task: str
    paper_subjects: int | None  # None where Table 1 prints N/A
    paper_segments: int
    paper_hours: int
    n_classes: int | None = None  # classification targets only

    @property
    def id(self) -> str:
        """Key of this task in params/published/anyppg.yaml, ``"<dataset>/<target>"``."""
        return self.task.id

    @property
    def dataset(self) -> str:
        return self.task.store

    @property
    def kind(self) -> str:
        return self.task.kind

    @property
    def metrics(self) -> tuple[str, ...]:
        return REGRESSION_METRICS if self.kind == "regression" else CLASSIFICATION_METRICS

    @property
    def published_table(self) -> str:
        return "table3_regression" if self.kind == "regression" else "table4_classification"


def _paper(dataset: str, target: str, kind: TaskKind, paper_dataset: str, paper_task: str,
           subjects: int | None, segments: int, hours: int, unit: str | None = None,
           n_classes: int | None = None) -> PaperTask:
    task = Task(f"{dataset}/{target}", kind, (target,), store=dataset, inputs="ppg", unit=unit)
    return PaperTask(task, paper_dataset, paper_task, subjects, segments, hours, n_classes)


# Table 1, "Pretraining"; Table 2, "#Samples" (held-out test pairs). Split 8:1:1 per source (Methods).
PRETRAIN_SOURCES: tuple[PretrainSource, ...] = (
    PretrainSource("mc_med", "MC-MED", 49_916, 28_420_140, 78_945, 2_796_347),
    PretrainSource("pulsedb", "PulseDB", 4_964, 4_596_304, 12_768, 510_408),
    PretrainSource("mesa", "MESA", 2_010, 2_860_924, 7_947, 277_016),
    PretrainSource("hsp", "HSP", 1_584, 3_333_705, 9_260, 333_059),
    PretrainSource("cfs", "CFS", 322, 355_870, 989, 35_854),
)

_HR = "Heart rate estimation"
_SBP = "Systolic blood pressure estimation"
_DBP = "Diastolic blood pressure estimation"

# Table 1, "Evaluation" (subjects, segments, hours) with Table 3/4's names, in the order of Tables 3 and 4.
PROBE_TASKS: tuple[PaperTask, ...] = (
    _paper("dalia", "hr", "regression", "PPG-DaLiA", _HR, 15, 12_943, 36, unit="bpm"),
    _paper("ucibp", "sbp", "regression", "UCI-BP", _SBP, None, 261_563, 727, unit="mmHg"),
    _paper("ucibp", "dbp", "regression", "UCI-BP", _DBP, None, 261_563, 727, unit="mmHg"),
    _paper("butppg", "hr", "regression", "BUT PPG", _HR, 50, 3_840, 11, unit="bpm"),
    _paper("butppg", "sbp", "regression", "BUT PPG", _SBP, 50, 3_840, 11, unit="mmHg"),
    _paper("butppg", "dbp", "regression", "BUT PPG", _DBP, 50, 3_840, 11, unit="mmHg"),
    _paper("gyroacc", "hr", "regression", "Gyro-Acc-PPG", _HR, 24, 2_016, 6, unit="bpm"),
    _paper("wesad", "stress", "binary", "WESAD", "Stress recognition", 15, 4_419, 12, n_classes=2),
    _paper("wesad", "affect", "multiclass", "WESAD", "Affect recognition", 15, 4_419, 12, n_classes=4),
    _paper("deepbeat", "af", "binary", "DeepBeat", "Atrial fibrillation detection", None, 536_399, 1_490,
           n_classes=2),
    _paper("butppg", "quality", "binary", "BUT PPG", "Signal quality assessment", 50, 3_840, 11, n_classes=2),
)

# Multi-organ diagnosis on held-out MC-MED subjects (Table 1 "MC-MED*"; Methods): end-to-end fine-tuning,
# one multi-label model per ICD-10 chapter I-XV, 20 PPG segments sampled per hospitalisation; codes with < 100
# test positives are dropped (1,014 -> 719 codes). MC-MED is credentialed: recorded here, not rerun.
MULTI_ORGAN_TASK = {
    "dataset": "mc_med",
    "target": "icd10_3digit",
    "kind": "multilabel",
    "protocol": "fine-tune end to end from the pretrained checkpoint, one model per ICD-10 chapter (I-XV)",
    "segments_per_hospitalisation": 20,
    "min_test_positives": 100,
    "paper_subjects": 15_759,
    "paper_segments": 359_900,
    "paper_hours": 1_000,
    "paper_codes": 1_014,
    "paper_codes_evaluated": 719,
}

# Methods, "Linear probing and fine-tuning strategy": nested 5-fold CV, hyper-parameters chosen in the inner
# loop.
_GRID = tuple(10.0**k for k in range(-6, 7))
PROBE_PROTOCOL = {
    "outer_folds": 5,
    "inner_folds": 5,
    "features": "frozen PPG encoder output (1024-d, before the projector)",
    "classification": {
        "model": "logistic_regression",
        "grid": {"C": _GRID, "solver": ("lbfgs", "saga"), "penalty": ("l2",)},
        "select_by": "macro one-vs-rest AUC",
    },
    "regression": {
        "model": "ridge",
        "grid": {"alpha": _GRID, "solver": ("auto", "cholesky", "sparse_cg")},
        "select_by": "MAE",
    },
    "report": "mean and standard deviation over the outer folds",
}

# Results / Table 2: PPG queries against ECG galleries of 2,560 pairs, metrics averaged over batches, then
# aggregated over sources weighted by test samples and as a plain (macro) mean.
RETRIEVAL_PROTOCOL = {
    "query": "ppg",
    "gallery": "ecg",
    "batch_pairs": 2_560,
    "recall_at": (1, 5, 10),
    "map_at": 10,
    "metrics": ("R@1", "R@5", "R@10", "mAP@10", "MRR"),
    "aggregates": ("aggregate_weighted", "aggregate_macro"),
}


def probe_task(task_id: str) -> PaperTask:
    """The :class:`PaperTask` with id ``"<dataset>/<target>"``, e.g. ``"wesad/affect"``."""
    for t in PROBE_TASKS:
        if t.id == task_id:
            return t
    raise KeyError(f"no AnyPPG probe task {task_id!r}; known: {[t.id for t in PROBE_TASKS]}")


def probe_tasks(kind: TaskKind | None = None, dataset: str | None = None) -> tuple[PaperTask, ...]:
    """The probing tasks, optionally only those of one kind and/or one dataset, in the paper's table order."""
    return tuple(
        t
        for t in PROBE_TASKS
        if (kind is None or t.kind == kind) and (dataset is None or t.dataset == dataset)
    )
