"""ViT1D and its MAE decoder: the 27-configuration grid (tokens, heads, parameters), masking, patch layout."""

from __future__ import annotations

import itertools

import pytest
import torch

from physiofm.models import MAEDecoder, ViT1D, random_masking, vit1d_parameter_count
from physiofm.models.vit1d import sincos_positions

PATCHES, DEPTHS, WIDTHS = (60, 125, 250), (2, 4, 8), (256, 512, 1024)
TOKENS = {60: 41, 125: 20, 250: 10}  # 2,500 samples; P = 60 leaves 40 samples out


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def per_block(d: int) -> int:
    # qkv (3 D^2 + 3 D) + out proj (D^2 + D) + MLP (4 D^2 + 4 D + 4 D^2 + D) + two LayerNorms (4 D)
    return 12 * d * d + 13 * d


@pytest.mark.parametrize("patch,depth,width", list(itertools.product(PATCHES, DEPTHS, WIDTHS)))
def test_grid_config_tokens_heads_and_parameters(patch: int, depth: int, width: int) -> None:
    with torch.device("meta"):  # shapes and counts only: the big configurations are never run here
        model = ViT1D(12, patch, depth, width)
    assert model.n_tokens == TOKENS[patch] == model.tokens_for(2500)
    assert model.heads == width // 64
    assert all(b.self_attn.num_heads == width // 64 for b in model.blocks)
    assert all(b.linear1.out_features == 4 * width and b.norm_first for b in model.blocks)
    expected = 12 * patch * width + width + depth * per_block(width) + 2 * width
    assert n_params(model) == expected == vit1d_parameter_count(12, patch, depth, width)
    assert model.patch_dim == 12 * patch


def test_selected_configurations_parameter_counts() -> None:
    assert vit1d_parameter_count(12, 60, 2, 512) == 6_674_944  # HL and GL (§4.1)
    assert vit1d_parameter_count(12, 250, 2, 1024) == 28_267_520  # CL (§4.1)


@pytest.mark.parametrize("patch", PATCHES)
def test_small_config_runs_and_masking_keeps_a_quarter(patch: int) -> None:
    torch.manual_seed(0)
    model = ViT1D(12, patch, 2, 256)
    x = torch.randn(2, 12, 2500)
    z = model(x)
    assert z.shape == (2, 256) and torch.isfinite(z).all()
    gen = torch.Generator().manual_seed(1)
    latent, mask, ids_restore = model.forward_encoder(x, 0.75, gen)
    keep = int(TOKENS[patch] * 0.25)
    assert latent.shape == (2, keep, 256)
    assert mask.shape == ids_restore.shape == (2, TOKENS[patch])
    assert (mask.sum(1) == TOKENS[patch] - keep).all()
    # the same masking as the shared contract applied to the embedded tokens
    _, mask2, ids2 = random_masking(model.embed_tokens(x), 0.75, torch.Generator().manual_seed(1))
    assert torch.equal(mask, mask2) and torch.equal(ids_restore, ids2)
    # no masking: every token, in order, and the pooled output is the mean of them
    full, mask0, _ = model.forward_encoder(x, 0.0)
    assert full.shape == (2, TOKENS[patch], 256) and mask0.sum() == 0
    torch.testing.assert_close(full.mean(1), z)


def test_trailing_samples_beyond_the_last_patch_are_ignored() -> None:
    torch.manual_seed(0)
    model = ViT1D(12, 60, 1, 128).eval()
    x = torch.randn(1, 12, 2500)
    y = x.clone()
    y[..., 41 * 60 :] = 100.0  # the last 40 samples
    torch.testing.assert_close(model(x), model(y))
    assert not torch.allclose(model(x), model(x.roll(7, -1)))


def test_patchify_layout_and_inverse() -> None:
    model = ViT1D(3, 4, 1, 64, signal_length=10)
    x = torch.arange(3 * 10, dtype=torch.float32).reshape(1, 3, 10)
    patches = model.patchify(x)
    assert patches.shape == (1, 2, 12)
    # patch 1 holds samples 4..7 of lead 0, then of lead 1, then of lead 2
    assert patches[0, 1].tolist() == [4, 5, 6, 7, 14, 15, 16, 17, 24, 25, 26, 27]
    torch.testing.assert_close(model.unpatchify(patches), x[..., :8])


def test_positions_are_fixed_sincos() -> None:
    pe = sincos_positions(5, 8)
    assert pe.shape == (5, 8)
    torch.testing.assert_close(pe[0], torch.tensor([0.0] * 4 + [1.0] * 4))
    omega = 1.0 / 10000 ** (torch.arange(4) / 4.0)
    torch.testing.assert_close(pe[3], torch.cat([(3 * omega).sin(), (3 * omega).cos()]))
    model = ViT1D(12, 250, 1, 64)
    assert "pos_embed" not in dict(model.named_parameters())
    assert "pos_embed" not in model.state_dict()  # rebuilt from the config, never trained


def test_decoder_reconstructs_every_patch_from_the_kept_ones() -> None:
    torch.manual_seed(0)
    enc = ViT1D(12, 125, 1, 128)
    dec = MAEDecoder(128, enc.n_tokens, enc.patch_dim)
    assert dec.width == 256 and len(dec.blocks) == 2 and dec.blocks[0].self_attn.num_heads == 4
    x = torch.randn(3, 12, 2500)
    latent, mask, ids = enc.forward_encoder(x, 0.75, torch.Generator().manual_seed(0))
    pred = dec(latent, ids)
    assert pred.shape == enc.patchify(x).shape == (3, 20, 12 * 125)
    pred.abs().mean().backward()
    assert enc.patch_embed.weight.grad is not None and dec.mask_token.grad is not None


def test_bad_inputs_are_named() -> None:
    model = ViT1D(12, 60, 1, 64)
    with pytest.raises(ValueError, match=r"\(B, 12, T\)"):
        model(torch.randn(2, 8, 2500))
    with pytest.raises(ValueError, match="at most 2500 samples"):
        model(torch.randn(1, 12, 5000))
    with pytest.raises(ValueError, match="divisible"):
        ViT1D(12, 60, 1, 100, heads=3)


def test_patch_embedding_is_the_strided_convolution() -> None:
    """embed_tokens computes the kernel = stride = P convolution as a linear map of flattened patches."""
    torch.manual_seed(0)
    m = ViT1D(12, 60, 1, 32)
    x = torch.randn(2, 12, 2500)
    conv = m.patch_embed(x).transpose(1, 2) + m.pos_embed
    torch.testing.assert_close(m.embed_tokens(x), conv, rtol=1e-5, atol=1e-5)
