"""The paper profile's text path end to end, without any download: a sentencepiece model trained here, wrapped
as a T5 tokenizer, and a tiny randomly initialised ``T5EncoderModel``, both ``save_pretrained`` to a temporary
folder and read back through the local-directory loader, the text encoder, the N3S embedder and the method."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

SENTENCES = [
    "sinus rhythm normal ecg", "sinus bradycardia borderline ecg", "atrial fibrillation abnormal ecg",
    "atrial fibrillation with rapid ventricular response abnormal ecg",
    "left bundle branch block abnormal ecg",
    "right bundle branch block abnormal ecg", "sinus rhythm stt changes abnormal ecg",
    "sinus tachycardia abnormal ecg", "left ventricular hypertrophy abnormal ecg", "1st degree av block",
    "inferior infarct age undetermined abnormal ecg", "anterior infarct age undetermined",
    "nonspecific t wave abnormality", "low qrs voltages in limb leads", "left axis deviation",
    "sinus rhythm with premature ventricular complexes", "atrial flutter with variable av block",
    "normal sinus rhythm within normal limits", "st depression consider ischemia",
    "incomplete right bundle branch block borderline ecg",
]


@pytest.fixture(scope="module")
def t5_dir(tmp_path_factory):
    sentencepiece = pytest.importorskip("sentencepiece")
    transformers = pytest.importorskip("transformers")
    model_proto = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(SENTENCES * 3), model_writer=model_proto, vocab_size=80, model_type="unigram",
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, hard_vocab_limit=False, minloglevel=2,
    )
    sp = sentencepiece.SentencePieceProcessor(model_proto=model_proto.getvalue())
    vocab = [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())]
    # transformers 5 builds the T5 tokenizer from (piece, score) pairs; T5's layout: pad 0, </s> 1, <unk> 2
    tokenizer = transformers.T5Tokenizer(vocab=vocab, extra_ids=8)
    config = transformers.T5Config(vocab_size=len(tokenizer) + 4, d_model=16, d_kv=4, d_ff=32, num_layers=2,
                                   num_heads=4, feed_forward_proj="gated-gelu")
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("flan_t5_tiny")
    tokenizer.save_pretrained(path)
    transformers.T5EncoderModel(config).save_pretrained(path)
    return path


def test_load_local_t5(t5_dir, tmp_path, monkeypatch):
    from physiofm.text import load_local_t5

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert any(t5_dir.glob("*.safetensors"))
    tok, model = load_local_t5(t5_dir)
    assert type(model).__name__ == "T5EncoderModel" and model.config.d_model == 16
    assert tok("sinus rhythm")["input_ids"][-1] == tok.eos_token_id
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        load_local_t5(tmp_path / "google" / "flan-t5-base")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_local_t5(tmp_path / "empty")


def test_t5_text_encoder_and_sentinel_masking(t5_dir):
    from physiofm.models import T5TextEncoder
    from physiofm.objectives import mlm_mask

    enc = T5TextEncoder.from_dir(t5_dir, max_length=12)
    assert enc.width == 16 and enc.vocab_size == len(enc.tokenizer) + 4
    assert enc.mask_token_id == enc.tokenizer.convert_tokens_to_ids("<extra_id_0>")
    assert not torch.isin(enc.random_token_ids, torch.tensor(enc.special_ids)).any()
    tok = enc.tokenize(["sinus rhythm normal ecg", "atrial fibrillation with rapid ventricular response"])
    ids, att, special = tok["input_ids"], tok["attention_mask"], tok["special_tokens_mask"]
    assert ids.shape[1] <= 12 and ids.dtype == torch.long
    assert (special == torch.isin(ids, torch.tensor(enc.special_ids))).all()
    assert (special[att == 0]).all()  # padding is special
    h = enc(ids, att)
    assert h.shape == (2, ids.shape[1], 16)
    masked, labels = mlm_mask(ids, special, enc.mask_token_id, enc.random_token_ids, rate=0.9,
                              generator=torch.Generator().manual_seed(0))
    assert (masked == enc.mask_token_id).any() and not (labels[special] != -100).any()


def test_t5_mean_embedder_ignores_padding(t5_dir):
    from physiofm.text import T5MeanEmbedder

    emb = T5MeanEmbedder(t5_dir, batch_size=2)
    alone = emb(["sinus rhythm"])
    batched = emb(["sinus rhythm", "atrial fibrillation with rapid ventricular response abnormal ecg"])
    assert emb.dim == 16 and batched.shape == (2, 16)
    assert np.allclose(np.linalg.norm(batched, axis=1), 1, atol=1e-5)
    assert np.allclose(alone[0], batched[0], atol=1e-5)


def test_dbeta_paper_text_path_one_step(t5_dir):
    from physiofm.methods import build
    from physiofm.text import ReportBank, T5MeanEmbedder

    method = build("dbeta", dict(
        text_encoder="t5", text_model_dir=str(t5_dir), conv_channels=8, ecg_width=16, ecg_layers=1,
        ecg_heads=2, ecg_ffn=32, pos_kernel=8, pos_groups=4, hidden=16, fusion_layers=2, fusion_heads=2,
        fusion_ffn=32, mem_layer=1, mem_decoder_dim=8, mem_decoder_layers=1, mem_decoder_heads=2, n3s_k=4,
    ))
    method.set_report_bank(ReportBank.from_reports(SENTENCES, T5MeanEmbedder(t5_dir)))
    batch = {"ecg12": torch.randn(4, 12, 800), "report": SENTENCES[:4]}
    opt = torch.optim.AdamW(method.parameters(), lr=1e-3)
    loss = method.loss(batch)
    assert torch.isfinite(loss)
    loss.backward()
    opt.step()
    assert method.logs["negatives"] == 0.5
    assert method.text_embeddings(["normal ecg"]).shape == (1, 16)
