"""The AnyPPG study's pipeline glue (physiofm.anyppg.data / evaluate) and the engine pieces it stands on
(sources, stores, the split table, the multi-store dataset, task targets): small, fast checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from physiofm import sources
from physiofm.anyppg import data, evaluate
from physiofm.anyppg.params import ProbeTaskSpec, RetrievalParams
from physiofm.evaluation import retrieval_metrics
from physiofm.evaluation.tasks import label_table, task_rows, task_targets
from physiofm.preprocess import AnyPPGPreprocess
from physiofm.sections import SyntheticSource
from physiofm.splits import split_rows, split_table
from physiofm.store import SegmentDataset, build_store

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


def _targets(index: pd.DataFrame, spec: ProbeTaskSpec):
    labels = label_table(index.assign(subject_id="s"))
    rows = task_rows(labels, spec.task("x"))
    y, classes = task_targets(rows, spec.task("x"))
    return y, labels["row"].isin(rows["row"]).to_numpy(), classes


def test_task_targets() -> None:
    index = pd.DataFrame({"activity": ["rest", "walking", None, "cycling"], "hr": [60.0, np.nan, 80.0, 90.0],
                          "af": [0, 1, 1, np.nan]})
    y, ok, _ = _targets(index, ProbeTaskSpec(name="hr", target="hr", kind="regression"))
    assert ok.tolist() == [True, False, True, True] and y[0] == 60.0
    spec = ProbeTaskSpec(name="ex", target="activity", kind="binary", positive=["walking", "cycling"])
    y, ok, _ = _targets(index, spec)
    assert y.tolist() == [0, 1, 1]
    spec = ProbeTaskSpec(name="act", target="activity", kind="multiclass")
    y, ok, classes = _targets(index, spec)
    assert classes == ["cycling", "rest", "walking"] and y.tolist() == [1, 2, 0]
    y, ok, _ = _targets(index, ProbeTaskSpec(name="af", target="af", kind="binary"))
    assert y.tolist() == [0, 1, 1]
    with pytest.raises(KeyError, match="'nope'"):
        _targets(index, ProbeTaskSpec(name="x", target="nope", kind="binary"))


def test_sources_are_renamed_apart() -> None:
    spec = dict(kind="synthetic_icu", n_subjects=2, seed=0, duration_s=20.0, artefact_scale=0.0, mains_hz=50,
                alarms_per_hour=0.0)
    a = sources.recordings(SyntheticSource(name="src_a", **spec))
    b = sources.recordings(SyntheticSource(name="src_b", **spec))
    assert set(a.records["subject_id"]).isdisjoint(b.records["subject_id"])
    rec = a[1]
    assert rec.source == "src_a" and rec.subject_id.startswith("src_a/")
    assert rec.record_id == a.records.iloc[1]["record_id"]


def test_stores_splits_and_multi_store_batches(tmp_path: Path) -> None:
    import functools

    from physiofm.preprocess import anyppg_segments

    cfg = AnyPPGPreprocess(ppg=("PPG",), ecg=("II",), sqi=False)
    stores = {}
    for name, seed in (("s", 3), ("t", 4)):
        spec = SyntheticSource(kind="synthetic_icu", name=name, n_subjects=10, seed=seed, duration_s=30.0,
                               artefact_scale=0.0, mains_hz=50, alarms_per_hour=0.0)
        stores[name] = build_store(tmp_path / name, sources.recordings(spec),
                                   functools.partial(anyppg_segments, cfg=cfg), {"v": 1},
                                   subjects_per_shard=4, workers=1, progress=False)
    store = stores["s"]
    assert store.groups["ppg"]["shape"] == [1, 1250] and len(store) == 30
    assert store.index["subject_id"].str.startswith("s/").all()
    splits = split_table({n: s.index for n, s in stores.items()}, (0.8, 0.1, 0.1), seed=0)
    per = splits[splits["store"] == "s"].groupby("split")["subject_id"].nunique()
    assert per.to_dict() == {"test": 1, "train": 8, "val": 1}
    assert set(splits["source"]) == {"s", "t"}
    rows = split_rows(splits, "test")
    ds = SegmentDataset(stores, rows, groups=("ppg", "ecg"))
    assert len(ds) == len(rows["s"]) + len(rows["t"]) and list(ds.names) == ["s", "t"]
    last = len(ds) - 1  # the last test row of store "t", asked before rows of store "s"
    batch = ds[[2, last, 0, 1]]
    assert torch.equal(batch["ecg"][0], torch.from_numpy(store.read([rows["s"][2]])["ecg"][0]))
    assert torch.equal(batch["ppg"][1], torch.from_numpy(stores["t"].read([rows["t"][-1]])["ppg"][0]))
    assert batch["ppg"].shape == (4, 1, 1250) and list(ds.source_of(np.array([0, last]))) == ["s", "t"]
    # a rebuild with the same config reuses the store, another config rebuilds it
    spec = SyntheticSource(kind="synthetic_icu", name="s", n_subjects=10, seed=3, duration_s=30.0,
                           artefact_scale=0.0, mains_hz=50, alarms_per_hour=0.0)
    again = build_store(tmp_path / "s", sources.recordings(spec), functools.partial(anyppg_segments, cfg=cfg),
                        {"v": 1}, subjects_per_shard=4, workers=1, progress=False)
    assert again.meta == store.meta
    other = build_store(tmp_path / "s", sources.recordings(spec), functools.partial(anyppg_segments, cfg=cfg),
                        {"v": 2}, subjects_per_shard=4, workers=1, progress=False)
    assert other.meta["config"] == {"v": 2}


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


def test_the_probe_set_table_of_a_run_with_no_loadable_probe_set() -> None:
    """A paper-profile run whose probe sets are all unavailable (the real-sample smoke run) used to fail in
    the data notebook's table; it shows an empty table with the usual columns."""
    from physiofm.anyppg.report import probe_set_summary

    table = probe_set_summary({}, {})
    assert table.empty and list(table.index.names) == ["probe set", "task"]
    assert list(table.columns) == ["type", "segments", "subjects", "labels"]
