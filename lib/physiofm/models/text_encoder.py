"""Text encoders for ECG–text pretraining, behind one interface (:class:`TextEncoder`).

    tokenize(list of str) -> {"input_ids" (B, L) long, "attention_mask" (B, L) long,
                              "special_tokens_mask" (B, L) bool}     padded to the longest, cut at max_length
    forward(input_ids, attention_mask) -> (B, L, width) hidden states
    vocab_size (rows of the output vocabulary), mask_token_id, pad_token_id, random_token_ids (MLM's 10 %)

* :class:`T5TextEncoder` — the paper's text encoder (§3.1): the Flan-T5-base encoder (768-d), fine-tuned, with
  its own tokenizer, read from a local directory only (:func:`physiofm.text.local_t5.load_local_t5`). T5 has
  no mask token, so MLM masks with the first sentinel ``<extra_id_0>``. The authors call the T5 encoder
  without an attention mask (padding is attended); here it gets the mask.
* :class:`ScratchTextEncoder` — the demo's substitute, since no pretrained text model can be installed: a
  small BERT-style encoder (token + learned position embeddings, LayerNorm, post-LN layers, GELU) trained from
  scratch, with the WordPiece tokenizer fitted on the training reports
  (:func:`physiofm.text.tokenizer.fit_report_tokenizer`); its ``[CLS]`` is the first token the pooler reads.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from physiofm.text.local_t5 import load_local_t5
from physiofm.text.tokenizer import CLS, MASK, PAD, SPECIAL_TOKENS, load_report_tokenizer


class TextEncoder(nn.Module):
    """Interface of a text encoder (see the module docstring)."""

    width: int
    vocab_size: int
    mask_token_id: int
    pad_token_id: int
    max_length: int

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @property
    def random_token_ids(self) -> torch.Tensor:
        """(V',) long ids MLM may substitute at random: every non-special token of the tokenizer."""
        return self._random_ids

    def _set_random_ids(self, n_tokens: int, special: list[int]) -> None:
        ids = torch.arange(n_tokens, device="cpu")  # a real tensor even under torch.device("meta")
        keep = ~torch.isin(ids, torch.tensor(sorted(set(special)), dtype=torch.long, device="cpu"))
        self.register_buffer("_random_ids", ids[keep], persistent=False)


def _check_texts(texts: list[str]) -> list[str]:
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise TypeError("tokenize expects a list of str")
    if not texts:
        raise ValueError("tokenize got no texts")
    return list(texts)


class T5TextEncoder(TextEncoder):
    """A (Flan-)T5 encoder (``transformers.T5EncoderModel``) and its tokenizer, fine-tuned with the model.

    Build it with :meth:`from_dir` (a local checkpoint directory); the constructor takes the two objects.
    """

    def __init__(self, tokenizer, model, max_length: int = 256) -> None:
        super().__init__()
        self.tokenizer, self.model = tokenizer, model
        self.max_length = max_length
        self.width = int(self.model.config.d_model)
        self.vocab_size = int(self.model.config.vocab_size)  # 32128 for Flan-T5: >= len(tokenizer)
        self.pad_token_id = int(self.tokenizer.pad_token_id)
        sentinel = self.tokenizer.convert_tokens_to_ids("<extra_id_0>")
        if sentinel is None or sentinel == self.tokenizer.unk_token_id:
            raise ValueError("the T5 tokenizer has no <extra_id_0> sentinel to mask with")
        self.mask_token_id = int(sentinel)
        self.special_ids = sorted(set(int(i) for i in self.tokenizer.all_special_ids))
        self._set_random_ids(len(self.tokenizer), self.special_ids)

    @classmethod
    def from_dir(cls, path: str | Path, max_length: int = 256) -> T5TextEncoder:
        """Encoder and tokenizer of the local checkpoint directory ``path`` (nothing is downloaded)."""
        tokenizer, model = load_local_t5(path)
        return cls(tokenizer, model, max_length)

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        enc = self.tokenizer(_check_texts(texts), padding="longest", truncation=True,
                             max_length=self.max_length, return_tensors="pt")
        ids = enc["input_ids"].long()
        special = torch.isin(ids, torch.tensor(self.special_ids, dtype=torch.long))
        mask = enc["attention_mask"].long()
        return {"input_ids": ids, "attention_mask": mask, "special_tokens_mask": special}

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


class ScratchTextEncoder(TextEncoder):
    """Small BERT-style text encoder trained from scratch on the reports (the demo's stand-in for Flan-T5)."""

    def __init__(
        self,
        tokenizer_file: str | Path,
        width: int = 256,
        layers: int = 4,
        heads: int = 4,
        ffn: int = 1024,
        max_length: int = 256,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.tokenizer_file = str(tokenizer_file)
        self.tokenizer = load_report_tokenizer(tokenizer_file)
        self.tokenizer.enable_truncation(max_length)
        self.pad_token_id = self.tokenizer.token_to_id(PAD)
        self.tokenizer.enable_padding(pad_id=self.pad_token_id, pad_token=PAD)
        self.mask_token_id = self.tokenizer.token_to_id(MASK)
        self.cls_token_id = self.tokenizer.token_to_id(CLS)
        self.vocab_size = self.tokenizer.get_vocab_size()
        self.width, self.max_length = width, max_length
        self.special_ids = [self.tokenizer.token_to_id(t) for t in SPECIAL_TOKENS]
        self._set_random_ids(self.vocab_size, self.special_ids)

        self.token_embedding = nn.Embedding(self.vocab_size, width, padding_idx=self.pad_token_id)
        self.position_embedding = nn.Embedding(max_length, width)
        self.norm = nn.LayerNorm(width)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(width, heads, ffn, dropout=dropout, activation="gelu",
                                       batch_first=True)
            for _ in range(layers)
        )
        for m in self.modules():  # BERT initialisation
            if isinstance(m, nn.Linear | nn.Embedding):
                nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)
        with torch.no_grad():
            self.token_embedding.weight[self.pad_token_id].zero_()

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        encs = self.tokenizer.encode_batch(_check_texts(texts))
        ids = torch.tensor([e.ids for e in encs], dtype=torch.long)
        return {
            "input_ids": ids,
            "attention_mask": torch.tensor([e.attention_mask for e in encs], dtype=torch.long),
            "special_tokens_mask": torch.tensor([e.special_tokens_mask for e in encs], dtype=torch.bool)
            | (ids == self.pad_token_id),
        }

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        if input_ids.shape[1] > self.max_length:
            raise ValueError(f"{input_ids.shape[1]} tokens exceed max_length {self.max_length}")
        pos = torch.arange(input_ids.shape[1], device=input_ids.device)
        h = self.dropout(self.norm(self.token_embedding(input_ids) + self.position_embedding(pos)))
        pad = attention_mask == 0
        for layer in self.layers:
            h = layer(h, src_key_padding_mask=pad)
        return h


class TextFeatures(nn.Module):
    """A text encoder as a channel-encoder backbone: B texts -> (B, width), the first token's last state.

    Tokenises on the encoder's device, so a batch may carry its texts as a plain list of str (the ``report``
    key); the first token is ``[CLS]`` for :class:`ScratchTextEncoder` and the first word piece for T5, the
    token D-BETA's text pooler reads as well.
    """

    def __init__(self, encoder: TextEncoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.out_features = encoder.width

    def forward(self, texts: list[str]) -> torch.Tensor:
        device = next(self.encoder.parameters()).device
        tok = self.encoder.tokenize(texts)
        return self.encoder(tok["input_ids"].to(device), tok["attention_mask"].to(device))[:, 0]

