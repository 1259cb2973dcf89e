"""Evaluation engine: metrics, retrieval, probes, nested CV, subsampling, risk decomposition, results."""

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
from physiofm.evaluation.nested_cv import NestedCVResult, nested_cv
from physiofm.evaluation.probes import LinearHeadProbe, evaluate_probe, make_probe, probe_scores
from physiofm.evaluation.published import load_published, load_published_table, published_vs_ours
from physiofm.evaluation.results import append_results, read_results, results_frame, write_results
from physiofm.evaluation.retrieval import retrieval_metrics
from physiofm.evaluation.risk import prediction_errors, risk_decomposition, risk_errors
from physiofm.evaluation.subsample import (
    DEFAULT_SEEDS,
    label_fraction_indices,
    low_incidence_indices,
    low_incidence_sets,
    over_seeds,
    random_fraction_indices,
    summarise,
)

__all__ = [
    "DEFAULT_SEEDS",
    "LinearHeadProbe",
    "NestedCVResult",
    "UndefinedMetricWarning",
    "accuracy",
    "append_results",
    "auprc",
    "auroc",
    "balanced_accuracy",
    "chance_level",
    "classification_scores",
    "cohen_kappa",
    "evaluate_probe",
    "f1",
    "hybrid_ecg_criteria",
    "label_fraction_indices",
    "load_published",
    "load_published_table",
    "low_incidence_indices",
    "low_incidence_sets",
    "mae",
    "make_probe",
    "multilabel_scores",
    "multimae_aggregate",
    "nested_cv",
    "over_seeds",
    "prediction_errors",
    "probe_scores",
    "published_vs_ours",
    "r2",
    "random_fraction_indices",
    "read_results",
    "regression_scores",
    "results_frame",
    "retrieval_metrics",
    "risk_decomposition",
    "risk_errors",
    "summarise",
    "write_results",
]
