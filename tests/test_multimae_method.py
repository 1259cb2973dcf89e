"""The multimae / multimae_drop pretraining methods in the registry."""

from __future__ import annotations

import pytest
import torch

from physiofm import methods
from physiofm.methods.multimae import MultiMAEDropConfig, MultiMAEMethodConfig

SMALL = dict(tokens=6, samples_per_token=20, width=32, depth=2, heads=4, decoder_heads=4, conv_channels=8,
             conv_kernel=5)
KEYS = ("eeg", "eog", "emg", "ecg")


def batch(b: int = 4, keys=KEYS, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {k: torch.randn(b, 1, 120, generator=g) for k in keys}


def test_registered_with_the_paper_defaults():
    assert {"multimae", "multimae_drop"} <= set(methods.names())
    cfg = MultiMAEMethodConfig()
    assert (cfg.modalities, cfg.tokens, cfg.samples_per_token, cfg.width, cfg.depth, cfg.heads) == (
        KEYS, 30, 100, 512, 8, 8)
    assert cfg.mask_ratio == 0.7 and MultiMAEDropConfig().mask_ratio == 0.7
    assert methods.config_class("multimae_drop") is MultiMAEDropConfig
    m = methods.build("multimae", SMALL)
    d = methods.build("multimae_drop", {**SMALL, "modalities": ["eeg", "eog", "emg", "ecg"]})
    assert not m.modality_drop and d.modality_drop and d.inputs == KEYS and m.probe_key == "embedding"
    with pytest.raises(ValueError, match="unknown"):
        methods.build("multimae", {"mask_prob": 0.5})
    with pytest.raises(ValueError, match="at least two modalities"):
        methods.build("multimae_drop", {**SMALL, "modalities": ["eeg"]})


@pytest.mark.parametrize("name", ["multimae", "multimae_drop"])
def test_loss_trains_and_logs_per_modality(name):
    torch.manual_seed(0)
    method = methods.build(name, {**SMALL, "dropout": 0.0, "attn_dropout": 0.0})
    data = batch(8)
    opt = torch.optim.Adam(method.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss = method.loss(data)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert loss.ndim == 0 and set(method.logs) == {f"mse_{k}" for k in KEYS}
    assert sum(method.logs.values()) == pytest.approx(losses[-1], rel=1e-5)
    assert losses[-1] < 0.8 * losses[0]


def test_embeddings_are_frozen_token_means():
    method = methods.build("multimae", SMALL).train()
    data = batch()
    emb = method.embeddings(data)
    assert method.training  # mode restored
    assert set(emb) == {"embedding", *(f"embedding_{k}" for k in KEYS)}
    assert emb["embedding"].shape == (4, 32) and not emb["embedding"].requires_grad
    per_modality = torch.stack([emb[f"embedding_{k}"] for k in KEYS])
    assert torch.allclose(emb["embedding"], per_modality.mean(0), atol=1e-6)
    assert torch.equal(method.embed(data), emb["embedding"])
    method.eval()
    tokens = method.encode(data)
    assert tokens.shape == (4, 24, 32) and tokens.requires_grad  # for scratch / full fine-tuning
    assert torch.allclose(tokens.mean(1), emb["embedding"], atol=1e-6)


def test_unimodal_mae_is_multimae_with_one_modality():
    method = methods.build("multimae", {**SMALL, "modalities": ["ecg"]})
    data = {"ecg": torch.randn(3, 120)}  # (B, T*S) is accepted beside (B, 1, T*S)
    assert method.inputs == ("ecg",) and method.loss(data).ndim == 0
    assert method.embed(data).shape == (3, 32)


def test_batch_errors_name_the_key():
    method = methods.build("multimae", SMALL)
    with pytest.raises(KeyError, match=r"lacks modality key\(s\) \['ecg'\]"):
        method.loss(batch(keys=KEYS[:3]))
    bad = batch()
    bad["emg"] = torch.randn(4, 1, 100)
    with pytest.raises(ValueError, match=r"batch\['emg'\] must be \(B, 1, 120\)"):
        method.loss(bad)


def test_reconstruct_attentions_and_layer_means():
    method = methods.build("multimae_drop", SMALL)
    data = batch(2)
    rec = method.reconstruct(data, dropped="emg", generator=torch.Generator().manual_seed(0))
    assert set(rec) == {"target", "prediction", "hidden"} and rec["prediction"].shape == (2, 4, 120)
    assert rec["hidden"][:, 2].all() and (~rec["hidden"]).sum().item() == 2 * 7 * 20  # 7 of 24 tokens visible
    assert torch.equal(rec["target"][:, 0], data["eeg"][:, 0])
    rec = method.reconstruct(data, mask_ratio=0.5)
    assert (~rec["hidden"]).sum().item() == 2 * 12 * 20
    with pytest.raises(ValueError, match="not one of"):
        method.reconstruct(data, dropped="ppg")
    att = method.attentions(data)
    assert len(att) == 2 and att[0].shape == (2, 4, 24, 24)
    layers = method.layer_means(method.stack(data))
    assert len(layers) == 2 and layers[0].shape == (2, 32)
