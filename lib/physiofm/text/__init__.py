"""Report text: cleaning and the unique-report bank, the demo's report tokenizer, frozen report embeddings for
N3S, the local-directory T5 loader and zero-shot class scores (D-BETA)."""

from physiofm.text.embedders import T5MeanEmbedder, TfidfSvdEmbedder
from physiofm.text.local_t5 import load_local_t5
from physiofm.text.reports import ReportBank, clean_report, merge_reports, unique_reports
from physiofm.text.tokenizer import (
    SPECIAL_TOKENS,
    fit_report_tokenizer,
    load_report_tokenizer,
    save_report_tokenizer,
)
from physiofm.text.zero_shot import class_scores, class_text_embeddings

__all__ = [
    "SPECIAL_TOKENS",
    "ReportBank",
    "T5MeanEmbedder",
    "TfidfSvdEmbedder",
    "class_scores",
    "class_text_embeddings",
    "clean_report",
    "fit_report_tokenizer",
    "load_local_t5",
    "load_report_tokenizer",
    "merge_reports",
    "save_report_tokenizer",
    "unique_reports",
]
