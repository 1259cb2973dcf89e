"""Evaluation engine: metrics, retrieval, probes, nested CV, subsampling, results tables."""

from physiofm.evaluation.metrics import (
    UndefinedMetricWarning,
    accuracy,
    auprc,
    auroc,
    balanced_accuracy,
    chance_level,
    classification_scores,
    cohen_kappa,
    f1,
    hybrid_ecg_criteria,
    mae,
    multilabel_scores,
    multimae_aggregate,
    r2,
    regression_scores,
)
from physiofm.evaluation.retrieval import retrieval_metrics

__all__ = [
    "UndefinedMetricWarning",
    "accuracy",
    "auprc",
    "auroc",
    "balanced_accuracy",
    "chance_level",
    "classification_scores",
    "cohen_kappa",
    "f1",
    "hybrid_ecg_criteria",
    "mae",
    "multilabel_scores",
    "multimae_aggregate",
    "r2",
    "regression_scores",
    "retrieval_metrics",
]
