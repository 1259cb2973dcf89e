"""The registry contract: every registered method builds, takes one optimiser step on a tiny batch with a
finite scalar loss, and embeds to (B, D); configs reject unknown settings."""

from __future__ import annotations

import math

import pytest
import torch

from physiofm import methods
from physiofm.methods import Method
from physiofm.sections import MethodChoice

NET = {"kind": "net1d", "base_filters": 8, "filters": [8, 16], "blocks": [1, 1], "kernel_size": 5,
       "stride": 4,
       "groups_width": 8, "stem_stride": 4, "dropout": 0.0}
# A tiny config per method (registry name -> config); a method added later adds its entry here.
TINY = {
    "syneco": {"encoder": {**NET, "embed_dim": 16}},
    "stack": {"encoder": {**NET, "embed_dim": 16}},
    "sleepfm_pair": {"encoder": {**NET, "embed_dim": 16}},
    "sleepfm_loo": {"encoder": {**NET, "embed_dim": 16}},
    "simclr": {"encoder": {**NET, "embed_dim": 16}},
    "byol": {"encoder": {**NET, "embed_dim": 16}, "hidden": 32, "dim": 8},
    "clip": {"encoder": {**NET, "embed_dim": None}, "projector_hidden": 16, "embed_dim": 8},
    # D-BETA reads 12-lead ECGs and report texts; its tokenizer and N3S bank are data-step assets.
    "dbeta": {
        "text_encoder": "scratch",
        "tokenizer_file": "asset:tokenizer.json",
        "report_bank": "asset:report_bank.npz",
        "conv_channels": 8,
        "ecg_width": 16,
        "ecg_layers": 1,
        "ecg_heads": 2,
        "ecg_ffn": 32,
        "pos_kernel": 8,
        "pos_groups": 4,
        "text_width": 16,
        "text_layers": 1,
        "text_heads": 2,
        "text_ffn": 32,
        "hidden": 16,
        "fusion_layers": 2,
        "fusion_heads": 2,
        "fusion_ffn": 32,
        "mem_layer": 1,
        "mem_decoder_dim": 8,
        "mem_decoder_layers": 1,
        "mem_decoder_heads": 2,
        "n3s_k": 4,
    },
}
B = 6
REPORTS = ["sinus rhythm normal ecg", "sinus bradycardia borderline ecg", "atrial fibrillation abnormal ecg",
           "sinus rhythm left bundle branch block abnormal ecg", "sinus tachycardia stt changes abnormal ecg",
           "sinus rhythm left ventricular hypertrophy abnormal ecg", "atrial flutter abnormal ecg"]


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict:
    """The data-step assets a text method names: a fitted report tokenizer and an N3S report bank."""
    from physiofm.text import ReportBank, TfidfSvdEmbedder, fit_report_tokenizer, save_report_tokenizer

    folder = tmp_path_factory.mktemp("assets")
    save_report_tokenizer(fit_report_tokenizer(REPORTS, 100), folder / "tokenizer.json")
    ReportBank.from_reports(REPORTS, TfidfSvdEmbedder(4).fit(REPORTS)).save(folder / "report_bank.npz")
    return {p.name: p for p in folder.iterdir()}


def tiny_batch(method: Method, length: int = 400) -> dict:
    """Random signals for every input: ``ecg12`` (B, 12, T), a text input ``report`` as B report texts, any
    other key (B, 1, T)."""
    g = torch.Generator().manual_seed(0)
    out = {}
    for k in method.inputs:
        if k == "report":
            out[k] = [REPORTS[i % len(REPORTS)] for i in range(B)]
        else:
            out[k] = torch.randn(B, 12 if k == "ecg12" else 1, length, generator=g)
    return out


def test_the_papers_methods_are_registered() -> None:
    assert {"simclr", "byol", "clip", "sleepfm_pair", "sleepfm_loo", "syneco",
            "stack", "dbeta"} <= set(methods.names())


@pytest.mark.parametrize("name", methods.names())
def test_method_builds_trains_one_step_and_embeds(name: str, assets: dict) -> None:
    if name not in TINY:
        pytest.skip(f"no tiny config for {name!r}: add one to TINY in this file")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    method = methods.build(name, MethodChoice(method=name, config=TINY[name]).resolved(assets).build_config())
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
