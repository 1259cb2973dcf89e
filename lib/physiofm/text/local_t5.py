"""Load a (Flan-)T5 encoder and its tokenizer from a local directory — never from the network.

The paper profile of D-BETA uses Flan-T5-base as its text encoder and Flan-T5-small as N3S's frozen embedder.
Nothing is downloaded at run time: the checkpoint directory (``config.json``, ``model.safetensors``,
``tokenizer.json`` / ``tokenizer_config.json``, as ``save_pretrained`` writes them) must already be on disk,
and ``transformers`` is called with ``local_files_only=True``. A directory holding safetensors weights is read
with ``use_safetensors=True`` (no pickle is unpickled). The encoder half of a full T5 checkpoint loads as
``T5EncoderModel``; the decoder weights are ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_local_t5(path: str | Path) -> tuple[Any, Any]:
    """(tokenizer, ``T5EncoderModel``) read from the local directory ``path``."""
    from transformers import AutoTokenizer, T5EncoderModel

    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(
            f"T5 checkpoint directory {path} does not exist: place a Flan-T5 checkpoint there "
            "(config.json, model.safetensors, tokenizer.json); nothing is downloaded"
        )
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"T5 checkpoint directory {path} has no config.json")
    safetensors = any(path.glob("*.safetensors"))
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = T5EncoderModel.from_pretrained(
        str(path), local_files_only=True, use_safetensors=True if safetensors else None
    )
    if model.config.model_type != "t5":
        raise ValueError(f"{path}: expected a T5 checkpoint, found model_type {model.config.model_type!r}")
    return tokenizer, model
