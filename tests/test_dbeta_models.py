"""D-BETA's network pieces: the ECG conv-transformer, co-attention fusion, MEM decoder, lead masking, the
assembled model, and the paper-size parameter counts (built on the meta device: no memory, no weights)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from physiofm.models import (
    CoAttentionFusion,
    DBetaModel,
    ECGConvTransformer,
    ECGEncoderConfig,
    MEMDecoder,
    ScratchTextEncoder,
    random_lead_masking,
    random_masking,
)
from physiofm.models.ecg_conv_transformer import ConvPositionalEncoding
from physiofm.models.mem_decoder import sincos_positions
from physiofm.text import fit_report_tokenizer, save_report_tokenizer

TINY_ECG = ECGEncoderConfig(conv_channels=8, width=16, layers=1, heads=2, ffn=32, pos_kernel=128,
                            pos_groups=16)


def test_ecg_encoder_tokens_and_masking():
    enc = ECGConvTransformer(TINY_ECG).eval()
    assert enc.n_tokens(5000) == 312 and TINY_ECG.patch == 16
    x = torch.randn(2, 12, 5000)
    with torch.no_grad():
        assert enc.tokens(x).shape == (2, 312, 16)  # the even positional kernel's extra output is dropped
        h, mask, ids = enc(x)
        assert h.shape == (2, 313, 16) and mask is None and ids is None
        g = torch.Generator().manual_seed(0)
        h, mask, ids = enc(x, 0.75, g)
    assert h.shape == (2, 1 + int(312 * 0.25), 16)
    assert mask.shape == (2, 312) and (mask.sum(1) == 312 - 78).all()
    ref_mask = random_masking(torch.zeros(2, 312, 1), 0.75, torch.Generator().manual_seed(0))[1]
    assert torch.equal(mask, ref_mask)  # the shared MAE masking, CLS kept outside it
    convs = [m for m in enc.features.modules() if isinstance(m, nn.Conv1d)]
    assert len(convs) == 4
    assert all(c.bias is None and c.kernel_size == (2,) and c.stride == (2,) for c in convs)
    assert sum(isinstance(m, nn.GroupNorm) for m in enc.modules()) == 1
    assert all(not layer.norm_first for layer in enc.layers)  # post-LN
    with pytest.raises(ValueError, match=r"\(B, 12, T\)"):
        enc(torch.randn(2, 11, 5000))
    with pytest.raises(ValueError, match="too short"):
        enc(torch.randn(1, 12, 10))  # 10 -> 5 -> 2 -> 1 -> 0 tokens


@pytest.mark.parametrize("kernel", [4, 5])
def test_conv_positional_encoding_keeps_the_length(kernel):
    pos = ConvPositionalEncoding(8, kernel, 4)
    assert pos(torch.randn(3, 10, 8)).shape == (3, 10, 8)


def test_coattention_fusion_shapes_tap_and_padding():
    fusion = CoAttentionFusion(width=16, layers=3, heads=2, ffn=32).eval()
    g = torch.Generator().manual_seed(0)
    text, ecg = torch.randn(2, 5, 16, generator=g), torch.randn(2, 7, 16, generator=g)
    with torch.no_grad():
        t, e, tapped = fusion(text, ecg, tap=2)
        assert t.shape == (2, 5, 16) and e.shape == (2, 7, 16) and tapped.shape == (2, 7, 16)
        assert not torch.allclose(tapped, e)
        # padded text tokens are invisible to both streams
        padded = torch.cat([text, torch.randn(2, 3, 16, generator=g)], dim=1)
        pad = torch.zeros(2, 8, dtype=torch.bool)
        pad[:, 5:] = True
        t2, e2, _ = fusion(padded, ecg, pad)
    assert torch.allclose(e2, e, atol=1e-5) and torch.allclose(t2[:, :5], t, atol=1e-5)
    with pytest.raises(ValueError, match="beyond"):
        fusion(text, ecg, tap=4)


def test_mem_decoder_restores_token_order():
    dec = MEMDecoder(width=8, dim=8, layers=0, heads=2, leads=2, patch=4)
    with torch.no_grad():
        dec.embed.weight.copy_(torch.eye(8))
        dec.embed.bias.zero_()
        dec.pred.weight.copy_(torch.eye(8))
        dec.pred.bias.zero_()
    g = torch.Generator().manual_seed(0)
    tokens = torch.randn(3, 10, 8, generator=g)
    kept, mask, ids = random_masking(tokens, 0.6, g)
    cls = torch.randn(3, 1, 8, generator=g)
    out = dec(torch.cat([cls, kept], 1), ids)
    assert out.shape == (3, 10, 8)
    restored = torch.where(mask.bool().unsqueeze(-1), dec.mask_token.expand(3, 10, 8), tokens)
    expected = dec.norm(restored + sincos_positions(11, 8)[1:])
    assert torch.allclose(out, expected, atol=1e-5)
    table = sincos_positions(4, 6)
    freq = 10000 ** (-torch.arange(0, 6, 2) / 6)
    assert torch.allclose(table[:, 0::2], torch.sin(torch.arange(4.0)[:, None] * freq))
    assert torch.allclose(table[:, 1::2], torch.cos(torch.arange(4.0)[:, None] * freq))


def test_random_lead_masking():
    x = torch.ones(400, 12, 50)
    out, keep = random_lead_masking(x, 0.5, torch.Generator().manual_seed(0))
    assert keep.float().mean().item() == pytest.approx(0.5, abs=0.02)
    assert torch.equal(out, keep.unsqueeze(-1).float().expand_as(x))  # whole leads, no rescaling
    assert torch.equal(random_lead_masking(x, 0.0)[0], x) and not random_lead_masking(x, 1.0)[0].any()
    with pytest.raises(ValueError):
        random_lead_masking(x, 1.5)


@pytest.fixture(scope="module")
def tokenizer_file(tmp_path_factory):
    texts = ["sinus rhythm normal ecg", "atrial fibrillation abnormal ecg", "left bundle branch block"]
    return save_report_tokenizer(fit_report_tokenizer(texts, 100), tmp_path_factory.mktemp("tok") / "t.json")


def test_dbeta_model_forward_tiny(tokenizer_file):
    text = ScratchTextEncoder(tokenizer_file, width=16, layers=1, heads=2, ffn=32)
    model = DBetaModel(ECGConvTransformer(TINY_ECG), text, hidden=24, fusion_layers=2, fusion_heads=2,
                       fusion_ffn=48, mem_layer=1, mem_decoder_dim=8, mem_decoder_layers=1,
                       mem_decoder_heads=2)
    tok = text.tokenize(["sinus rhythm normal ecg", "left bundle branch block"])
    assert tok["input_ids"][:, 0].tolist() == [text.cls_token_id] * 2
    out = model(torch.randn(2, 12, 1000), tok["input_ids"], tok["attention_mask"], mask_ratio=0.75)
    n = model.ecg_encoder.n_tokens(1000)
    assert out.ecg_pooled.shape == out.text_pooled.shape == (2, 24)
    assert out.ecg_pooled.abs().max() <= 1  # tanh poolers
    assert out.mlm_logits.shape == (2, tok["input_ids"].shape[1], text.vocab_size)
    assert out.etm_logits.shape == (2, 2)
    assert out.mem_pred.shape == (2, n, 12 * 16) and out.mem_mask.shape == (2, n)
    plain = model(torch.randn(2, 12, 1000), tok["input_ids"], tok["attention_mask"], mask_ratio=0.0)
    assert plain.mem_pred is None
    counts = model.parameter_counts()
    assert counts["total"] == sum(p.numel() for p in model.parameters())
    # + projection 16 -> 24 + pooler 24 -> 24
    assert counts["ecg_path"] == counts["ecg_encoder"] + (16 * 24 + 24) + (24 * 24 + 24)


def test_paper_size_parameter_counts():
    """Paper sizes: ECG path ~63 M, all ~321 M with a Flan-T5-base-sized encoder (google/flan-t5-base's
    config: d_model 768, d_ff 2048, 12 layers, 12 heads, gated-GELU, vocabulary 32,128), built on the meta
    device."""
    from transformers import T5Config, T5EncoderModel, T5Tokenizer

    from physiofm.models import T5TextEncoder

    cfg = T5Config(vocab_size=32128, d_model=768, d_kv=64, d_ff=2048, num_layers=12, num_heads=12,
                   feed_forward_proj="gated-gelu", tie_word_embeddings=False)
    tok = T5Tokenizer(vocab=[("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -1.0)], extra_ids=100)
    with torch.device("meta"):
        model = DBetaModel(ECGConvTransformer(ECGEncoderConfig()), T5TextEncoder(tok, T5EncoderModel(cfg)))
    counts = model.parameter_counts()
    assert counts["ecg_encoder"] == 62_022_528
    assert counts["ecg_path"] == 63_203_712  # paper: ~63 M
    assert counts["text_encoder"] == 109_628_544
    assert counts["total"] == 321_387_330  # paper: ~321 M
    assert model.ecg_encoder.n_tokens(5000) == 312
