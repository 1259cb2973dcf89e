"""A WordPiece tokenizer fitted on the training reports (the demo's substitute for Flan-T5's tokenizer).

No pretrained text model can be installed on the study's machines, so the demo profile trains a small text
encoder from scratch; its vocabulary is fitted here on the training reports with HuggingFace ``tokenizers``
(BERT-style: lower-casing normaliser, whitespace/punctuation pre-tokeniser, WordPiece, ``[CLS] text [SEP]``).
The fitted tokenizer is one JSON file, saved beside the run's artefacts and loaded by
:class:`physiofm.models.text_encoder.ScratchTextEncoder`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
SPECIAL_TOKENS = (PAD, UNK, CLS, SEP, MASK)  # ids 0..4 in this order


def fit_report_tokenizer(texts: Iterable[str], vocab_size: int = 2000, min_frequency: int = 1) -> Tokenizer:
    """WordPiece tokenizer fitted on ``texts``; ``[PAD]`` = 0, ``[UNK]`` = 1, ``[CLS]`` = 2, ``[SEP]`` = 3,
    ``[MASK]`` = 4; encodings are ``[CLS] tokens [SEP]``."""
    texts = list(texts)
    if not texts:
        raise ValueError("fit_report_tokenizer: no training reports given")
    tok = Tokenizer(models.WordPiece(unk_token=UNK))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=list(SPECIAL_TOKENS),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{CLS} $A {SEP}",
        pair=f"{CLS} $A {SEP} $B {SEP}",
        special_tokens=[(CLS, tok.token_to_id(CLS)), (SEP, tok.token_to_id(SEP))],
    )
    return tok


def save_report_tokenizer(tok: Tokenizer, path: str | Path) -> Path:
    """Write the tokenizer's JSON to ``path`` atomically (temporary file, then rename); return ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        tok.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_report_tokenizer(path: str | Path) -> Tokenizer:
    """Read a tokenizer written by :func:`save_report_tokenizer`; it must hold the five special tokens."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"report tokenizer {path} does not exist (fit it with fit_report_tokenizer)")
    try:
        tok = Tokenizer.from_file(str(path))
    except Exception as err:  # a foreign or damaged file: say which one
        raise ValueError(f"report tokenizer {path} could not be read: {err}") from err
    missing = [t for t in SPECIAL_TOKENS if tok.token_to_id(t) is None]
    if missing:
        raise ValueError(f"report tokenizer {path} lacks special token(s) {missing}")
    return tok
