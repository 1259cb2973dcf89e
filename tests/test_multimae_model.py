"""MultiMAE model: tokenizer, embeddings, encoder attention, per-modality decoders, loss."""

from __future__ import annotations

import pytest
import torch

from physiofm.models import MultiMAE, MultiMAEConfig, modality_mask, multimodal_mask
from physiofm.models.multimae import ChunkTokenizer, sincos_embedding
from physiofm.objectives import masked_modality_mse

SMALL = dict(tokens=6, samples_per_token=20, width=32, depth=2, heads=4, decoder_heads=4, conv_channels=8,
             conv_kernel=5)


def small(**kw) -> MultiMAE:
    torch.manual_seed(0)
    return MultiMAE(MultiMAEConfig(**{**SMALL, **kw}))


def windows(b: int = 3, m: int = 4, seed: int = 1) -> torch.Tensor:
    return torch.randn(b, m, 6 * 20, generator=torch.Generator().manual_seed(seed))


def test_paper_model_size_and_tokenizer_layout():
    with torch.device("meta"):  # shapes only: no memory, no compute
        model = MultiMAE()
    assert sum(p.numel() for p in model.parameters()) == 50_803_600
    encoder = [model.tokenizers, model.blocks, model.norm]
    n_encoder = sum(p.numel() for part in encoder for p in part.parameters()) + model.modality_embed.numel()
    assert n_encoder == 25_364_992
    tok = model.tokenizers[0]
    conv = tok.conv
    assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.padding) == (1, 64, (21,), (10,))
    assert (tok.proj.in_features, tok.proj.out_features) == (64, 512)
    assert len(model.blocks) == 8 and model.blocks[0].attn.heads == 8 and len(model.decoders) == 4
    assert model.decoders[0].head.out_features == 100 and model.n_tokens == 120
    assert model.blocks[0].attn.attn_drop.p == 0.1 and model.blocks[0].attn.proj_drop.p == 0.1


def test_tokenizer_turns_each_chunk_into_one_token_independently():
    tok = ChunkTokenizer(samples=100, width=16, channels=8)
    x = torch.randn(2, 3000)
    out = tok(x)
    assert out.shape == (2, 30, 16)
    y = x.clone()
    y[:, 100:200] += 5.0  # change the second chunk only
    changed = (tok(y) - out).abs().sum(-1) > 1e-6
    assert changed[:, 1].all() and not changed[:, [0, *range(2, 30)]].any()


def test_sincos_embedding():
    pe = sincos_embedding(30, 8)
    assert pe.shape == (30, 8)
    assert torch.allclose(pe[0], torch.tensor([0.0] * 4 + [1.0] * 4))
    five = torch.tensor(5.0)
    assert torch.allclose(pe[5, 0], five.sin()) and torch.allclose(pe[5, 4], five.cos())
    with pytest.raises(ValueError, match="even"):
        sincos_embedding(30, 7)


def test_embeddings_time_shared_by_modalities_and_modality_learnable():
    model = small()
    assert model.modality_embed.requires_grad and not model.pos_embed.requires_grad
    assert 0.01 < model.modality_embed.std().item() < 0.03  # trunc-normal(0.02)
    assert 0.01 < model.decoders[0].mask_token.std().item() < 0.03
    z = torch.zeros(1, 4, 120)
    tokens = model.embed(z)  # zero input: every chunk gives the same tokenizer output per modality
    assert tokens.shape == (1, 24, 32)
    t0 = tokens.reshape(4, 6, 32)
    tok0 = model.tokenizers[0](torch.zeros(1, 120))[0]
    assert torch.allclose(t0[0], tok0 + model.pos_embed + model.modality_embed[0], atol=1e-6)


@pytest.mark.parametrize("train", [False, True])
def test_attention_is_returned_without_changing_the_output(train):
    model = small().train(train)
    x = windows()
    torch.manual_seed(7)
    plain = model.encode(x)
    torch.manual_seed(7)
    out, attentions = model.encode(x, return_attention=True)
    assert torch.equal(plain, out) and out.shape == (3, 24, 32)
    assert len(attentions) == 2 and all(a.shape == (3, 4, 24, 24) for a in attentions)
    assert torch.allclose(attentions[0].sum(-1), torch.ones(3, 4, 24), atol=1e-5)


def test_hidden_tokens_never_reach_the_encoder_or_decoders():
    model = small().eval()
    x = windows()
    hidden = multimodal_mask(3, 4, 6, 0.7, generator=torch.Generator().manual_seed(0))
    latent = model.encode(x, hidden)
    assert latent.shape == (3, 7, 32)  # int(24 * 0.3) = 7 visible
    per_sample = hidden.reshape(3, 4, 6, 1).expand(-1, -1, -1, 20).reshape(3, 4, 120)
    y = torch.where(per_sample, torch.randn_like(x) * 10, x)  # change only hidden chunks
    assert torch.allclose(model.encode(y, hidden), latent, atol=1e-6)
    pred = model(x, hidden)
    assert pred.shape == x.shape and torch.allclose(model(y, hidden), pred, atol=1e-5)
    # a mask hiding nothing is the unmasked encoder, tokens in their original order
    assert torch.allclose(model.encode(x, torch.zeros(3, 24, dtype=torch.bool)), model.encode(x), atol=1e-6)


def test_dropped_modality_is_rebuilt_from_the_others():
    model = small().eval()
    x = windows()
    hidden = modality_mask(3, 4, 6, 0.7, dropped=1, generator=torch.Generator().manual_seed(0))
    pred = model(x, hidden)
    y = x.clone()
    y[:, 1] = torch.randn_like(y[:, 1])  # the dropped modality's own signal does not matter ...
    assert torch.allclose(model(y, hidden), pred, atol=1e-5)
    y = x.clone()
    y[:, [0, 2, 3]] = torch.randn_like(y[:, [0, 2, 3]])  # ... the other modalities do (cross-attention)
    assert not torch.allclose(model(y, hidden)[:, 1], pred[:, 1], atol=1e-3)


def test_masked_modality_mse_counts_hidden_tokens_only():
    target = torch.zeros(2, 2, 3, 4)
    pred = torch.zeros(2, 2, 3, 4)
    pred[0, 0, 0] = 2.0  # hidden: error 4 per sample
    pred[1, 0, 2] = 1.0  # visible: ignored
    pred[:, 1] = 3.0  # modality 1 has no hidden token: adds 0
    hidden = torch.zeros(2, 2, 3, dtype=torch.bool)
    hidden[0, 0, 0] = hidden[1, 0, 0] = True
    loss, per = masked_modality_mse(pred, target, hidden)
    assert per.tolist() == [2.0, 0.0] and loss.item() == 2.0  # (4 + 0) / 2 hidden tokens
    hidden[:, 1, 1] = True
    loss, per = masked_modality_mse(pred, target, hidden)
    assert per.tolist() == [2.0, 9.0] and loss.item() == 11.0  # summed over modalities
    with pytest.raises(ValueError, match="expected pred"):
        masked_modality_mse(pred, target, hidden[:, 0])


def test_config_and_input_are_checked():
    with pytest.raises(ValueError, match="conv_kernel must be odd"):
        MultiMAEConfig(conv_kernel=20)
    with pytest.raises(ValueError, match="distinct"):
        MultiMAEConfig(modalities=("eeg", "eeg"))
    with pytest.raises(ValueError, match="divisible"):
        MultiMAEConfig(width=30, heads=4)
    model = small()
    with pytest.raises(ValueError, match=r"expects x of shape \(B, 4, 120\)"):
        model.encode(torch.zeros(2, 4, 100))
    with pytest.raises(ValueError, match="hidden must be a bool mask"):
        model(windows(), torch.zeros(3, 24))
    hidden = torch.zeros(3, 24, dtype=torch.bool)
    hidden[0, :5] = True
    with pytest.raises(ValueError, match="same number of tokens"):
        model(windows(), hidden)
