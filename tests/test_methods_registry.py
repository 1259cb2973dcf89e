"""The registry contract: every registered method builds, takes one optimiser step on a tiny batch with a
finite scalar loss, and embeds to (B, D); configs reject unknown settings."""

from __future__ import annotations

import math

import pytest
import torch

from physiofm import methods
from physiofm.methods import Method

VIT = {"kind": "vit1d", "in_channels": 12, "signal_length": 400, "patch_size": 40, "depth": 1, "width": 16}
NET = {"kind": "net1d", "base_filters": 8, "filters": [8, 16], "blocks": [1, 1], "kernel_size": 5,
       "stride": 4,
       "groups_width": 8, "stem_stride": 4, "dropout": 0.0}
# MultiMAE on 400-sample windows: 4 one-second tokens of 100 samples per modality.
MAE = {"tokens": 4, "samples_per_token": 100, "width": 16, "depth": 1, "heads": 2, "decoder_heads": 2,
       "conv_channels": 4, "conv_kernel": 5, "modalities": ["eeg", "eog", "emg", "ecg"]}
# A tiny config per method (registry name -> config); a method added later adds its entry here.
TINY = {
    "syneco": {"encoder": {**NET, "embed_dim": 16}},
    "stack": {"encoder": {**NET, "embed_dim": 16}},
    "sleepfm_pair": {"encoder": {**NET, "embed_dim": 16}},
    "sleepfm_loo": {"encoder": {**NET, "embed_dim": 16}},
    "simclr": {"encoder": {**NET, "embed_dim": 16}},
    "byol": {"encoder": {**NET, "embed_dim": 16}, "hidden": 32, "dim": 8},
    "clip": {"encoder": {**NET, "embed_dim": None}, "projector_hidden": 16, "embed_dim": 8},
    # 50 time tokens per 400-sample channel (stem stride 8, stride-1 stage), fused in windows of 10
    "syneco_tokens": {"encoder": {**NET, "stride": 1, "stem_stride": 8, "embed_dim": 16}, "n_tokens": 50,
                      "crop_tokens": 20, "fusion_window": 10, "fusion_dim": 8, "fusion_heads": 2},
    "supervised": {"base": "stack", "encoder": {**NET, "embed_dim": 16}, "targets": ["label"]},
    "mae": {"encoder": VIT, "decoder_width": 16, "decoder_depth": 1, "decoder_heads": 1},
    "hybrid": {"encoder": VIT, "decoder_width": 16, "decoder_depth": 1, "decoder_heads": 1, "proj_dim": 8},
    "multimae": {**MAE},
    "multimae_drop": {**MAE},
}
LABELS = {"label"}  # batch keys that are label columns (B,), not signals
B = 6


def tiny_batch(method: Method, length: int = 400) -> dict[str, torch.Tensor]:
    """One random batch of the method's inputs: (B, C, T) signals, C the channel count its encoder reads
    (12 for a ViT1D), and (B,) int64 subject ids with two records of one subject."""
    g = torch.Generator().manual_seed(0)
    channels = getattr(getattr(method, "encoder", None), "in_channels", 1)
    return {k: torch.tensor([0, 0, 1, 2, 3, 4]) if k == "subject" else
            torch.randint(0, 2, (B,), generator=g).float() if k in LABELS else
            torch.randn(B, channels, length, generator=g) for k in method.inputs}


def test_the_papers_methods_are_registered() -> None:
    assert {"simclr", "byol", "clip", "sleepfm_pair", "sleepfm_loo", "syneco",
            "stack"} <= set(methods.names())


@pytest.mark.parametrize("name", methods.names())
def test_method_builds_trains_one_step_and_embeds(name: str) -> None:
    if name not in TINY:
        pytest.skip(f"no tiny config for {name!r}: add one to TINY in this file")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    method = methods.build(name, TINY[name])
    assert isinstance(method, Method) and method.inputs
    batch = tiny_batch(method)
    opt = torch.optim.AdamW([p for p in method.parameters() if p.requires_grad], lr=1e-3)
    method.train()
    loss = method.loss(batch)
    assert loss.ndim == 0 and math.isfinite(loss.item())
    assert all(isinstance(v, float) for v in method.logs.values())
    before = [p.detach().clone() for p in method.parameters() if p.requires_grad]
    loss.backward()
    opt.step()
    method.after_step(1, 10)
    after = [p.detach() for p in method.parameters() if p.requires_grad]
    assert any(not torch.equal(a, b) for a, b in zip(before, after)), "the step changed no weight"
    z = method.embed(batch)
    assert z.ndim == 2 and z.shape[0] == B and torch.isfinite(z).all()
    assert method.training, "embed must restore the training mode"
    assert method.probe_key in method.embeddings(batch)
    reps = method.embed_inputs(batch, {"first": method.inputs[:1], "none": ("nope",)})
    assert reps["first"].shape[0] == B and "none" not in reps


def test_build_rejects_unknown_names_and_settings() -> None:
    with pytest.raises(KeyError, match="unknown pretraining method"):
        methods.build("nope")
    with pytest.raises(ValueError, match="unknown SyneCoConfig setting"):
        methods.build("syneco", {"tempreature": 0.1})
    with pytest.raises(TypeError):
        methods.build("syneco", 3)


def test_two_view_methods_read_a_12_lead_ecg_through_a_vit1d_encoder() -> None:
    """simclr / byol with a ViT1D encoder spec (the cross-paper benchmark): (B, 12, T) views of one key."""
    torch.manual_seed(0)
    for name, extra in (("simclr", {}), ("byol", {"hidden": 16, "dim": 8})):
        method = methods.build(name, {"pair": ["ecg", "ecg"], "encoder": VIT, **extra})
        batch = {"ecg": torch.randn(B, 12, 400)}
        loss = method.loss(batch)
        loss.backward()
        assert math.isfinite(loss.item()) and method.embed(batch).shape == (B, 16)
    with pytest.raises(ValueError, match=r"\(B, 12, T\)"):
        method.loss({"ecg": torch.randn(B, 1, 400)})
