"""The registered ``dbeta`` method on a tiny batch of the synthetic 12-lead cohort: one optimiser step for
every switch combination, ETM / ETS labels after N3S, MLM on the substituted texts, embeddings and errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import physiofm.methods.dbeta as dbeta_module
from physiofm.methods import build, config_class, names
from physiofm.text import (
    ReportBank,
    TfidfSvdEmbedder,
    clean_report,
    fit_report_tokenizer,
    save_report_tokenizer,
)

SAMPLES = 800  # 50 tokens of 16 samples: the paper's 5,000 would only cost CPU here


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from physiofm.synthetic import ecg12_cohort

    cohort = ecg12_cohort(60, seed=0)
    reports = [clean_report(r) for r in cohort.labels["report"]]
    leads = cohort.info["channels"]
    ecg = np.stack([np.stack([cohort.recordings[i].signals[c][:SAMPLES] for c in leads]) for i in range(8)])
    path = tmp_path_factory.mktemp("tok") / "t.json"
    save_report_tokenizer(fit_report_tokenizer(reports, 400), path)
    bank = ReportBank.from_reports(reports, TfidfSvdEmbedder(16).fit(sorted(set(reports))))
    batch = {"ecg12": torch.tensor(ecg), "report": reports[:8]}
    return {"batch": batch, "tokenizer": str(path), "bank": bank}


def tiny(data, **overrides) -> dict:
    cfg = dict(
        text_encoder="scratch", tokenizer_file=data["tokenizer"], conv_channels=8, ecg_width=16, ecg_layers=1,
        ecg_heads=2, ecg_ffn=32, pos_kernel=8, pos_groups=4, text_width=16, text_layers=1, text_heads=2,
        text_ffn=32, hidden=16, fusion_layers=2, fusion_heads=2, fusion_ffn=32, mem_layer=1,
        mem_decoder_dim=8, mem_decoder_layers=1, mem_decoder_heads=2, n3s_k=8,
    )
    return cfg | overrides


def test_registered_with_paper_defaults():
    assert "dbeta" in names()
    cfg = config_class("dbeta")()
    sizes = (cfg.ecg_layers, cfg.ecg_width, cfg.fusion_layers, cfg.mem_layer, cfg.mem_ratio)
    assert sizes == (8, 768, 6, 3, 0.75)
    assert (cfg.mlm_rate, cfg.n3s_k, cfg.lead_mask_p, cfg.text_encoder) == (0.25, 64, 0.5, "t5")
    with pytest.raises(ValueError, match="text_model_dir"):
        build("dbeta")  # the paper profile reads Flan-T5 from a local directory only
    with pytest.raises(ValueError, match="ets_form"):
        config_class("dbeta")(ets_form="softmax")


SWITCHES = [(n3s, ets, form) for n3s, ets in itertools.product([True, False], [True, False])
            for form in (["paper", "siglip"] if ets else ["paper"])]


@pytest.mark.parametrize(("n3s", "ets", "form"), SWITCHES)
def test_one_step_every_switch(data, n3s, ets, form):
    torch.manual_seed(0)
    method = build("dbeta", tiny(data, n3s=n3s, ets=ets, ets_form=form))
    method.set_report_bank(data["bank"])
    assert (method.sampler is not None) == n3s and (method.siglip is not None) == (ets and form == "siglip")
    before = [p.detach().clone() for p in method.parameters()]
    opt = torch.optim.AdamW(method.parameters(), lr=1e-3)
    method.train()
    loss = method.loss(data["batch"])
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    opt.step()
    method.after_step(1, 10)
    assert any(not torch.equal(a, b) for a, b in zip(before, method.parameters()))
    logs = method.logs
    assert {"loss_mlm", "loss_mem", "loss_etm", "etm_acc", "negatives"} <= set(logs)
    assert ("loss_ets" in logs) == ets
    assert logs["negatives"] == 0.5 and 0 <= logs["etm_acc"] <= 1
    assert loss.item() == pytest.approx(sum(v for k, v in logs.items() if k.startswith("loss_")), rel=1e-5)


def test_etm_and_ets_labels_follow_the_substitution(data, monkeypatch):
    method = build("dbeta", tiny(data))
    method.set_report_bank(data["bank"])
    seen = {}

    def spy_draw(*args, **kwargs):
        seen["texts"], seen["aligned"] = dbeta_module.draw_negatives.__wrapped__(*args, **kwargs)
        return seen["texts"], seen["aligned"]

    def spy_ets(x, t, y):
        seen["y"] = y
        return dbeta_module.ets_loss.__wrapped__(x, t, y)

    spy_draw.__wrapped__ = dbeta_module.draw_negatives
    spy_ets.__wrapped__ = dbeta_module.ets_loss
    monkeypatch.setattr(dbeta_module, "draw_negatives", spy_draw)
    monkeypatch.setattr(dbeta_module, "ets_loss", spy_ets)
    original = data["batch"]["report"]
    for _ in range(3):
        method.loss(data["batch"])
        aligned = seen["aligned"]
        assert (~aligned).sum() == 4
        bank, sampler = data["bank"], method.sampler
        for orig, new, ok in zip(original, seen["texts"], aligned):
            if ok:
                assert new == orig
            else:
                assert new != orig
                far = sampler.farthest(bank.embeddings[bank.index_of([orig])], method.config.n3s_k + 1)[0]
                assert bank.index_of([new])[0] in far
        expected = -torch.ones(8, 8)
        expected[range(8), range(8)] = torch.tensor(2.0 * aligned - 1.0, dtype=torch.float32)
        assert torch.equal(seen["y"], expected)


def test_mlm_masks_the_substituted_texts(data):
    method = build("dbeta", tiny(data))
    method.set_report_bank(data["bank"])
    p = method.prepare(data["batch"])
    assert (~p["aligned"]).sum() == 4
    enc = method.net.text_encoder
    restored = torch.where(p["mlm_labels"] != -100, p["mlm_labels"], p["input_ids"])
    assert torch.equal(restored, enc.tokenize(p["texts"])["input_ids"])
    original = enc.tokenize(data["batch"]["report"])
    for i in np.flatnonzero(~p["aligned"].numpy()):
        ours = restored[i][p["attention_mask"][i].bool()]
        theirs = original["input_ids"][i][original["attention_mask"][i].bool()]
        assert not torch.equal(ours, theirs)  # the negative's tokens, not the original report's
    assert (p["mlm_labels"] != -100).any()


def test_lead_masking_in_training_only(data):
    method = build("dbeta", tiny(data, n3s=False))
    method.set_report_bank(data["bank"])
    x = data["batch"]["ecg12"].float()
    torch.manual_seed(0)
    method.train()
    ecg = method.prepare(data["batch"])["ecg"]
    zeroed = (ecg == 0).all(-1)  # (B, 12) leads removed
    assert 0.25 < zeroed.float().mean().item() < 0.75
    assert torch.equal(ecg[~zeroed], x[~zeroed])
    method.eval()
    assert torch.equal(method.prepare(data["batch"])["ecg"], x)


def test_embeddings_and_text_embeddings(data):
    method = build("dbeta", tiny(data))
    method.train()
    emb = method.embeddings({"ecg12": data["batch"]["ecg12"]})
    assert set(emb) == {"embedding", "cls"} and emb["embedding"].shape == (8, 16)
    assert method.training  # mode restored
    assert torch.equal(method.embed(data["batch"]), emb["embedding"])  # unmasked, no dropout: deterministic
    assert not emb["embedding"].requires_grad
    t = method.text_embeddings(["sinus rhythm normal ecg", "atrial fibrillation"], batch_size=1)
    assert t.shape == (2, 16) and not torch.allclose(t[0], t[1])


def test_bad_batches_and_missing_bank(data):
    method = build("dbeta", tiny(data))
    with pytest.raises(RuntimeError, match="set_report_bank"):
        method.loss(data["batch"])
    method.set_report_bank(data["bank"])
    bad = data["batch"]["ecg12"].clone()
    bad[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        method.loss({"ecg12": bad, "report": data["batch"]["report"]})
    with pytest.raises(ValueError, match="list of 8 str"):
        method.loss({"ecg12": data["batch"]["ecg12"], "report": data["batch"]["report"][:7]})
    with pytest.raises(KeyError, match="report"):
        method.loss({"ecg12": data["batch"]["ecg12"]})
    with pytest.raises(TypeError, match="ReportBank"):
        method.set_report_bank({"texts": []})
    # with neither ETM nor ETS there are no negatives, so no bank is needed
    plain = build("dbeta", tiny(data, w_etm=0.0, ets=False))
    assert torch.isfinite(plain.loss(data["batch"])) and plain.logs["negatives"] == 0.0


def test_state_dict_carries_the_negative_sampler_state(data):
    a = build("dbeta", tiny(data))
    a.set_report_bank(data["bank"])
    a.prepare(data["batch"])  # advance the generator
    state = a.state_dict()
    b = build("dbeta", tiny(data))
    b.load_state_dict(state)
    b.set_report_bank(data["bank"])
    assert a.prepare(data["batch"])["texts"] == b.prepare(data["batch"])["texts"]
