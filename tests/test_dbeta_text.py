"""Report text for D-BETA: cleaning, the unique-report bank, the fitted tokenizer, frozen embeddings,
zero-shot scores, and what the synthetic 12-lead cohort's machine reports offer N3S and zero-shot."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from physiofm.datasets.mimic4_ecg import clean_report as loader_clean_report
from physiofm.text import (
    SPECIAL_TOKENS,
    ReportBank,
    TfidfSvdEmbedder,
    class_scores,
    class_text_embeddings,
    clean_report,
    fit_report_tokenizer,
    load_report_tokenizer,
    save_report_tokenizer,
    unique_reports,
)

REPORTS = [
    "Sinus rhythm. Normal ECG.",
    "Atrial fibrillation with rapid ventricular response. ST-T changes. Abnormal ECG.",
    "Sinus bradycardia. Borderline ECG.",
    "Sinus rhythm. Left bundle branch block. Abnormal ECG.",
    "Sinus rhythm. 1st degree A-V block. Abnormal ECG.",
    "Sinus rhythm. Normal ECG.",
]


def test_clean_report_is_the_loaders():
    assert loader_clean_report is clean_report
    assert clean_report("  Sinus  Brady-cardia!! ") == "sinus bradycardia"
    cleaned = "atrial fibrillation with rapid ventricular response stt changes abnormal ecg"
    assert clean_report(REPORTS[1]) == cleaned
    assert clean_report(REPORTS[4]) == "sinus rhythm 1st degree av block abnormal ecg"


def test_unique_reports_and_bank():
    texts = [clean_report(r) for r in REPORTS] + [""]
    uniq = unique_reports(texts)
    assert uniq == list(dict.fromkeys(texts[:5]))
    bank = ReportBank.from_reports(texts, lambda ts: np.eye(len(ts), 8))
    assert bank.texts == uniq and bank.counts.tolist() == [2, 1, 1, 1, 1]
    assert bank.embeddings.dtype == np.float32 and bank.embeddings.shape == (5, 8)
    assert bank.index_of([uniq[3], uniq[0]]).tolist() == [3, 0]
    assert uniq[2] in bank and "no such report" not in bank
    with pytest.raises(KeyError, match="not in the N3S report bank"):
        bank.index_of(["no such report"])
    with pytest.raises(ValueError, match="distinct"):
        ReportBank(["a", "a"], np.eye(2))
    with pytest.raises(ValueError, match=r"\(N, d\)"):
        ReportBank(["a", "b"], np.eye(3))
    with pytest.raises(ValueError, match="NaN"):
        ReportBank(["a", "b"], np.full((2, 2), np.nan))


def test_report_tokenizer_round_trip(tmp_path):
    texts = [clean_report(r) for r in REPORTS]
    tok = fit_report_tokenizer(texts, vocab_size=200)
    assert [tok.token_to_id(t) for t in SPECIAL_TOKENS] == [0, 1, 2, 3, 4]
    path = save_report_tokenizer(tok, tmp_path / "sub" / "tokenizer.json")
    again = load_report_tokenizer(path)
    enc = again.encode("sinus rhythm normal ecg")
    assert enc.tokens[0] == "[CLS]" and enc.tokens[-1] == "[SEP]"
    assert enc.ids == tok.encode("sinus rhythm normal ecg").ids
    assert "[UNK]" not in enc.tokens
    with pytest.raises(FileNotFoundError):
        load_report_tokenizer(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="could not be read"):
        load_report_tokenizer(tmp_path / "bad.json")


def test_tfidf_svd_embedder_ranks_similar_reports_closer():
    texts = unique_reports(clean_report(r) for r in REPORTS)
    emb = TfidfSvdEmbedder(n_components=64).fit(texts)
    assert emb.dim == min(64, len(emb.vectorizer.vocabulary_) - 1)  # capped by the tiny corpus
    v = emb(texts + ["sinus rhythm normal ecg", "atrial fibrillation abnormal ecg"])
    assert v.dtype == np.float32 and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    sims = v[-2] @ v[:-2].T  # "sinus rhythm normal ecg" vs the bank
    assert int(np.argmax(sims)) == 0 and int(np.argmin(sims)) == 1
    with pytest.raises(RuntimeError, match="fit"):
        TfidfSvdEmbedder()(texts)


def test_zero_shot_scores():
    def embed(texts):
        return np.array([[len(t), t.count("a")] for t in texts], dtype=np.float32)

    names, cls = class_text_embeddings(embed, {"AFIB": "af", "NORM": ["normal", "sinus rhythm"]})
    assert names == ["AFIB", "NORM"]
    assert cls.tolist() == [[2, 1], [(6 + 12) / 2, (1 + 0) / 2]]
    scores = class_scores(np.array([[1.0, 0.0], [0.0, 2.0]]), cls)
    assert scores.shape == (2, 2) and scores[0].tolist() == [2.0, 9.0] and scores[1].tolist() == [2.0, 1.0]
    with pytest.raises(ValueError, match="empty description"):
        class_text_embeddings(embed, {"X": ""})
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        class_scores(np.zeros((2, 3)), np.zeros((2, 4)))


def test_synthetic_cohort_reports_suit_n3s_and_zero_shot():
    """ecg12_cohort's machine reports: heavy duplication (N3S's motivation), enough distinct texts for a bank
    of far negatives, and PTB-XL-like super / sub / form / rhythm labels for probes and zero-shot."""
    from physiofm.synthetic import ecg12_cohort

    cohort = ecg12_cohort(300, seed=0)
    labels = cohort.labels
    reports = [clean_report(r) for r in labels["report"]]
    counts = collections.Counter(reports)
    top_text, top = counts.most_common(1)[0]
    assert top_text == "sinus rhythm normal ecg" and top / len(reports) > 0.08
    assert 80 < len(counts) < len(reports)
    assert all(r and r == clean_report(r) for r in reports)
    bank = ReportBank.from_reports(reports, TfidfSvdEmbedder(32).fit(unique_reports(reports)))
    assert len(bank) == len(counts) and bank.counts.sum() == len(reports)
    for key, expected in {"superclass": 5, "rhythm": 4, "form": 5, "subclass": 10}.items():
        assert len({c for row in labels[key] for c in row}) >= expected, key
