"""The AnyPPG study's pipeline glue (physiofm.anyppg.data / evaluate): small, fast checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from physiofm.anyppg import data, evaluate
from physiofm.anyppg.params import ProbeTaskSpec, RetrievalParams, SyntheticSource
from physiofm.evaluation import retrieval_metrics
from physiofm.preprocess import AnyPPGPreprocess

REPO = Path(__file__).resolve().parents[1]


def test_chance_retrieval_matches_random_embeddings() -> None:
    rng = np.random.default_rng(0)
    n, batch = 300, 128  # batches of 128, 128 and 44
    runs = [retrieval_metrics(rng.standard_normal((n, 8)), rng.standard_normal((n, 8)), batch_size=batch)
            for _ in range(60)]
    mean = pd.DataFrame(runs).mean()
    chance = evaluate.chance_retrieval(n, batch)
    for k, v in chance.items():
        assert mean[k] == pytest.approx(v, abs=0.012), k
    assert chance["R@1"] == pytest.approx(3 / n)  # one hit per batch
    assert evaluate.chance_retrieval(4, 2560)["R@5"] == 1.0  # fewer candidates than k


def test_aggregates_weight_by_samples() -> None:
    df = pd.DataFrame({"method": "AnyPPG", "task": ["a", "b"], "probe": "retrieval", "metric": "R@1",
                       "seed": 0, "value": [1.0, 0.0], "n_samples": [30, 10], "batch_pairs": [30, 10]})
    out = evaluate.add_aggregates(df).set_index("task")["value"]
    assert out["aggregate_weighted"] == pytest.approx(0.75)
    assert out["aggregate_macro"] == pytest.approx(0.5)


def test_task_labels() -> None:
    index = pd.DataFrame({"activity": ["rest", "walking", None, "cycling"], "hr": [60.0, np.nan, 80.0, 90.0],
                          "af": [0, 1, 1, np.nan]})
    y, ok, _ = evaluate.task_labels(index, ProbeTaskSpec(name="hr", target="hr", kind="regression"))
    assert ok.tolist() == [True, False, True, True] and y[0] == 60.0
    spec = ProbeTaskSpec(name="ex", target="activity", kind="binary", positive=["walking", "cycling"])
    y, ok, _ = evaluate.task_labels(index, spec)
    assert y[ok].tolist() == [0, 1, 1]
    spec = ProbeTaskSpec(name="act", target="activity", kind="multiclass")
    y, ok, classes = evaluate.task_labels(index, spec)
    assert classes == ["cycling", "rest", "walking"] and y[ok].tolist() == [1, 2, 0]
    y, ok, _ = evaluate.task_labels(index, ProbeTaskSpec(name="af", target="af", kind="binary"))
    assert y[ok].tolist() == [0, 1, 1]
    with pytest.raises(KeyError, match="no column 'nope'"):
        evaluate.task_labels(index, ProbeTaskSpec(name="x", target="nope", kind="binary"))


def test_sources_are_renamed_apart() -> None:
    spec = dict(kind="synthetic_icu", n_subjects=2, seed=0, duration_s=20.0, artefact_scale=0.0, mains_hz=50,
                alarms_per_hour=0.0)
    a = data.synthetic_recordings(SyntheticSource(name="src_a", **spec))
    b = data.synthetic_recordings(SyntheticSource(name="src_b", **spec))
    assert set(a.records["subject_id"]).isdisjoint(b.records["subject_id"])
    rec = a[1]
    assert rec.source == "src_a" and rec.subject_id.startswith("src_a/")
    assert rec.record_id == a.records.iloc[1]["record_id"]


def test_stores_splits_and_pair_batches(tmp_path: Path) -> None:
    spec = SyntheticSource(kind="synthetic_icu", name="s", n_subjects=10, seed=3, duration_s=30.0,
                           artefact_scale=0.0, mains_hz=50, alarms_per_hour=0.0)
    cfg = AnyPPGPreprocess(ppg=("PPG",), ecg=("II",), sqi=False)
    recs = data.synthetic_recordings(spec)
    import functools

    from physiofm.preprocess import anyppg_segments

    store = data.build_store(tmp_path / "s", recs, functools.partial(anyppg_segments, cfg=cfg), {"v": 1},
                             subjects_per_shard=4, workers=1, progress=False)
    assert store.groups["ppg"]["shape"] == [1, 1250] and len(store) == 30
    assert store.index["subject_id"].str.startswith("s/").all()
    splits = data.make_splits({"s": store}, (0.8, 0.1, 0.1), seed=0)
    per = splits.groupby("split")["subject_id"].nunique()
    assert per.to_dict() == {"test": 1, "train": 8, "val": 1}
    ds = data.PairDataset({"s": store}, data.split_rows(splits, "test", ["s"]))
    batch = ds[[2, 0, 1]]
    rows = data.split_rows(splits, "test", ["s"])["s"]
    assert torch.equal(batch["ecg"][1], torch.from_numpy(store.read([rows[0]])["ecg"][0]))
    assert batch["ppg"].shape == (3, 1, 1250)
    # a rebuild with the same config reuses the store, another config rebuilds it
    again = data.build_store(tmp_path / "s", recs, functools.partial(anyppg_segments, cfg=cfg), {"v": 1},
                             subjects_per_shard=4, workers=1, progress=False)
    assert again.meta == store.meta


def test_ppg_segments_resample_any_rate() -> None:
    from physiofm.recording import Recording

    t = np.arange(0, 25, 1 / 32.0)  # DeepBeat-like: 25 s at 32 Hz
    rec = Recording("r", "s", "x", {"ppg": np.sin(2 * np.pi * 1.2 * t).astype(np.float32)}, {"ppg": 32.0})
    segs = data.ppg_segments([rec], AnyPPGPreprocess(ppg=("ppg",)))
    assert segs.arrays["ppg"].shape == (2, 1, 1250)
    assert np.allclose(segs.arrays["ppg"].std(axis=-1), 1.0, atol=1e-3)


def test_table2_puts_published_rows_first() -> None:
    rows = []
    for src, n in (("a", 10), ("b", 30)):
        for m in ("R@1", "R@5", "R@10", "mAP@10", "MRR"):
            rows.append({"method": "AnyPPG", "task": src, "probe": "retrieval", "metric": m, "seed": 0,
                         "value": 0.5, "n_samples": n, "batch_pairs": n})
    res = evaluate.add_aggregates(pd.DataFrame(rows))
    t = evaluate.table2(res, REPO / "params" / "published" / "anyppg.yaml")
    assert t.index[0] == ("published (paper, Table 2)", "MC-MED")
    assert t.loc[("published (paper, Table 2)", "HSP"), "R@1"] == pytest.approx(0.875)
    assert t.loc[("this study: AnyPPG", "Aggregate (weighted by samples)"), "#Samples"] == 40
    assert list(t.columns) == ["#Samples", "R@1", "R@5", "R@10", "mAP@10", "MRR"]
    assert RetrievalParams(batch_pairs=2560, ks=[1, 5, 10], split="test", checkpoint="best",
                           embed_batch_size=8).batch_pairs == 2560
