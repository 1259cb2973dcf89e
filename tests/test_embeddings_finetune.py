"""Frozen-encoder embeddings (batched, cached by checkpoint hash, pooled per subject); fine-tuning."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from physiofm.embeddings import compute_embeddings, pool_by_subject
from physiofm.evaluation import auroc
from physiofm.finetune import balanced_class_weights, finetune, predict
from physiofm.training import TrainConfig, save_checkpoint

torch.set_num_threads(1)


class Segments(Dataset):
    """Signals (1, 32) whose mean level carries the label; 4 segments per subject."""

    def __init__(self, n: int = 64, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.label = torch.arange(n) // 4 % 2
        self.x = torch.randn(n, 1, 32, generator=g) + self.label[:, None, None].float()

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i):
        return {"ecg": self.x[i], "label": self.label[i], "subject": f"s{i // 4:02d}"}


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 5, padding=2)
        self.drop = nn.Dropout(0.5)

    def forward(self, batch):
        return self.drop(self.conv(batch["ecg"])).mean(-1)


def test_embeddings_cache_hit_miss_and_pooling(tmp_path):
    torch.manual_seed(0)
    enc = Encoder().train()
    loader = DataLoader(Segments(), batch_size=10)
    calls = []

    def encode(model, batch):
        calls.append(len(batch["ecg"]))
        return model(batch)

    kw = dict(encode=encode, meta_keys=("subject", "label"), cache_dir=tmp_path / "cache", progress=False)
    a = compute_embeddings(enc, loader, dataset_key="toy/test", **kw)
    assert not a.from_cache and a.X.shape == (64, 4) and a.X.dtype == np.float32 and calls == [10] * 6 + [4]
    assert enc.training  # mode restored; dropout was off while embedding:
    again = compute_embeddings(enc, loader, dataset_key="toy/test-nocache-compare", **kw)
    np.testing.assert_array_equal(a.X, again.X)
    n_calls = len(calls)
    b = compute_embeddings(enc, loader, dataset_key="toy/test", **kw)
    assert b.from_cache and len(calls) == n_calls and b.key == a.key
    np.testing.assert_array_equal(a.X, b.X)
    assert b.meta["subject"].tolist() == a.meta["subject"].tolist()
    # new weights (or a new checkpoint file) -> a new key -> a miss
    with torch.no_grad():
        enc.conv.bias.add_(1.0)
    c = compute_embeddings(enc, loader, dataset_key="toy/test", **kw)
    assert not c.from_cache and c.key != a.key
    ckpt = save_checkpoint(tmp_path / "enc.pt", {"model": enc.state_dict()})
    d = compute_embeddings(enc, loader, dataset_key="toy/test", checkpoint=ckpt, **kw)
    e = compute_embeddings(enc, loader, dataset_key="toy/test", checkpoint=ckpt, **kw)
    assert not d.from_cache and e.from_cache and d.key != c.key

    pooled = pool_by_subject(a)
    assert pooled.X.shape == (16, 4) and pooled.meta["subject"].tolist() == [f"s{i:02d}" for i in range(16)]
    np.testing.assert_allclose(pooled.X[1], a.X[4:8].mean(0), rtol=1e-6)
    assert pooled.meta["label"].tolist() == [i % 2 for i in range(16)]
    first2 = pool_by_subject(a, max_per_group=2)
    np.testing.assert_allclose(first2.X[0], a.X[:2].mean(0), rtol=1e-6)
    with pytest.raises(ValueError, match="both cache_dir and dataset_key"):
        compute_embeddings(enc, loader, cache_dir=tmp_path)


def test_finetune_end_to_end_with_separate_lrs(tmp_path):
    torch.manual_seed(0)
    enc = Encoder()
    enc.drop.p = 0.0
    before = {k: v.clone() for k, v in enc.state_dict().items()}
    train = DataLoader(Segments(64, seed=0), batch_size=16, shuffle=True)
    test = DataLoader(Segments(32, seed=1), batch_size=16)
    cfg = TrainConfig(lr=1e-2, schedule="constant", max_steps=40, log_every=10, progress=False)
    y = Segments(64).label.numpy()
    model, res = finetune(
        enc,
        2,
        train,
        cfg,
        tmp_path / "ft",
        encoder_lr=1e-3,
        head_lr=5e-2,
        class_weights=balanced_class_weights(y),
    )
    assert res.steps == 40 and model.embed is not None
    groups = res.curve  # lr logged is the encoder group's
    assert groups["lr"].iloc[-1] == pytest.approx(1e-3)
    assert any(not torch.equal(before[k], enc.state_dict()[k]) for k in before)  # encoder trained too
    scores, targets = predict(model, test)
    assert scores.shape == (32, 2) and auroc(targets, scores[:, 1]) > 0.9
    frozen_enc = Encoder()
    model2, _ = finetune(frozen_enc, 2, train, cfg, tmp_path / "ft0", encoder_lr=0.0, embed_dim=4)
    assert model2.head.in_features == 4


def test_finetune_segments_on_a_store_scores_splits_and_reads_back(tmp_path):
    """finetune_segments: a ViT1D + head on a 12-lead store with two label columns; early stopping on the
    validation rows; scores per split in row order; a rerun with the same inputs reads them back."""
    from functools import partial

    from physiofm import sources
    from physiofm.finetune import finetune_segments
    from physiofm.models import build_backbone
    from physiofm.preprocess import hybrid_ecg_config, hybrid_ecg_segments
    from physiofm.sections import SyntheticEcg12Source
    from physiofm.store import build_store

    spec = SyntheticEcg12Source(kind="synthetic_ecg12", name="ptb", n_subjects=40, seed=3)
    store = build_store(tmp_path / "st", sources.recordings(spec), partial(hybrid_ecg_segments,
                        cfg=hybrid_ecg_config()), {"v": 1}, subjects_per_shard=20, workers=1, progress=False)
    n = len(store)
    rows = {"train": {"ptb": np.arange(0, n - 16)}, "val": {"ptb": np.arange(n - 16, n - 8)},
            "test": {"ptb": np.arange(n - 8, n)}}
    vit = {"kind": "vit1d", "patch_size": 250, "depth": 1, "width": 16}
    cfg = TrainConfig(lr=1e-3, max_steps=6, val_every=3, patience=2, log_every=2, device="cpu",
                      progress=False)
    torch.manual_seed(0)
    kw = dict(batch_size=8, predict_splits=("train", "test"))
    scores, result = finetune_segments(build_backbone(vit), {"ptb": store}, "ecg", ["MI", "HYP"], rows, cfg,
                                       tmp_path / "ft", **kw)
    assert scores["test"].shape == (8, 2) and scores["train"].shape == (n - 16, 2)
    assert ((scores["test"] > 0) & (scores["test"] < 1)).all() and result.steps == 6
    assert not (tmp_path / "ft" / "checkpoints").exists() and (tmp_path / "ft" / "curve.csv").is_file()
    torch.manual_seed(0)
    again, none = finetune_segments(build_backbone(vit), {"ptb": store}, "ecg", ["MI", "HYP"], rows, cfg,
                                    tmp_path / "ft", **kw)
    assert none is None and np.array_equal(again["test"], scores["test"])
