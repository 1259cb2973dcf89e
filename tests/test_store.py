"""Segment store round trip, resumable and parallel builds, verify(); torch Dataset; splits; cycle sampler."""

from __future__ import annotations

import json
from functools import partial

import numpy as np
import pandas as pd
import pytest
import torch

from physiofm.preprocess import SyneCoPreprocess, syneco_segments
from physiofm.recording import Recording, RecordingSet
from physiofm.sampler import CycleSampler
from physiofm.segments import Segments
from physiofm.splits import check_disjoint, subject_splits
from physiofm.store import SegmentDataset, SegmentStore

CFG = SyneCoPreprocess(min_duration_s=0.0, record_cap={"*": 4}, subject_cap=None)


def small_record(i: int, subject: str, duration_s: float = 60.0) -> Recording:
    rng = np.random.default_rng(i)
    sig = {"II": rng.standard_normal(int(duration_s * 250)), "V": rng.standard_normal(int(duration_s * 250)),
           "PLETH": rng.standard_normal(int(duration_s * 125))}
    return Recording(f"rec{i:02d}", subject, "mimic3_wave" if i % 2 else "vitaldb", sig,
                     {"II": 250.0, "V": 250.0, "PLETH": 125.0}, labels={"age": 40 + i})


@pytest.fixture(scope="module")
def recordings() -> RecordingSet:
    recs = [small_record(i, f"s{i // 2}") for i in range(10)]   # 5 subjects, 2 records each
    return RecordingSet.from_list("toy", recs)


def by_key(segs_index: pd.DataFrame) -> np.ndarray:
    key = segs_index["record_id"] + "@" + segs_index["offset_s"].map("{:08.2f}".format)
    return np.argsort(key.to_numpy())


def test_store_round_trip_and_verify(tmp_path, recordings):
    torch.set_num_threads(1)
    store = SegmentStore.build(tmp_path / "st", recordings, partial(syneco_segments, cfg=CFG),
                               subjects_per_shard=2, progress=False, config={"paper": "syneco"})
    direct = syneco_segments(list(recordings), CFG)
    assert len(store) == len(direct) == 40
    assert store.groups == {"ecg_ii": {"shape": [1, 5000], "fs": 500.0},
                            "ecg_v": {"shape": [1, 5000], "fs": 500.0},
                            "ppg": {"shape": [1, 1250], "fs": 125.0}}
    a, b = by_key(store.index), by_key(direct.index)
    got = store.read(a)
    for g in direct.arrays:
        np.testing.assert_array_equal(got[g], direct.arrays[g][b])
    for col in ("subject_id", "record_id", "source", "start_time", "age"):
        assert store.index[col].to_numpy()[a].tolist() == direct.index[col].to_numpy()[b].tolist()
    assert isinstance(store.shard_array(0, "ppg"), np.memmap)
    assert store.funnel.table().set_index("stage").loc["after_caps", "count"] == 40
    report = store.verify()
    assert report["ok"].all() and len(report) == 3 * 3

    # Flip one float in a shard: verify names the shard and the checksum.
    path = tmp_path / "st" / "shards" / "00001.ecg_v.npy"
    arr = np.load(path, mmap_mode="r+")
    arr[0, 0, 10] += 1.0
    arr.flush()
    del arr
    with pytest.raises(ValueError, match="checksum"):
        SegmentStore(tmp_path / "st").verify()


class FlakyProcess:
    """The SyneCo process, but it raises for one subject while ``fail`` is set, and logs what it ran."""

    def __init__(self, fail_subject: str | None) -> None:
        self.fail_subject, self.seen = fail_subject, []

    def __call__(self, records: list[Recording]) -> Segments:
        self.seen.extend(r.subject_id for r in records)
        if any(r.subject_id == self.fail_subject for r in records):
            raise RuntimeError("simulated crash")
        return syneco_segments(records, CFG)


def test_interrupted_build_resumes_keeping_finished_shards(tmp_path, recordings):
    root = tmp_path / "st"
    crashing = FlakyProcess("s2")
    with pytest.raises(RuntimeError, match="shard 1 with records"):
        SegmentStore.build(root, recordings, crashing, subjects_per_shard=2, progress=False)
    assert not (root / "store.json").exists()
    done = sorted(p.name for p in (root / "shards").glob("*.json"))
    assert done == ["00000.json", "00002.json"]          # shard 1 (subjects s2, s3) failed
    mtimes = {p: p.stat().st_mtime_ns for p in (root / "shards").iterdir()}

    resumed = FlakyProcess(None)
    store = SegmentStore.build(root, recordings, resumed, subjects_per_shard=2, progress=False)
    assert sorted(set(resumed.seen)) == ["s2", "s3"]      # only the unfinished shard was rebuilt
    for p, t in mtimes.items():
        assert p.stat().st_mtime_ns == t                  # finished shards untouched
    assert len(store) == 40 and store.verify()["ok"].all()
    with pytest.raises(ValueError, match="different shard plan"):
        SegmentStore.build(root, recordings, resumed, subjects_per_shard=3, progress=False)


def test_parallel_build_matches_serial(tmp_path, recordings):
    serial = SegmentStore.build(tmp_path / "a", recordings, partial(syneco_segments, cfg=CFG),
                                subjects_per_shard=1, workers=1, progress=False)
    parallel = SegmentStore.build(tmp_path / "b", recordings, partial(syneco_segments, cfg=CFG),
                                  subjects_per_shard=1, workers=2, progress=False)
    pd.testing.assert_frame_equal(serial.index, parallel.index)
    assert json.loads((tmp_path / "a" / "store.json").read_text())["shards"] == \
        json.loads((tmp_path / "b" / "store.json").read_text())["shards"]


def test_dataset_items_batches_and_loader(tmp_path, recordings):
    store = SegmentStore.build(tmp_path / "st", recordings, partial(syneco_segments, cfg=CFG),
                               subjects_per_shard=2, progress=False)
    ds = SegmentDataset(store, indices=np.arange(5, 25), columns=("age", "subject_id"))
    item = ds[3]
    assert item["ecg_ii"].shape == (1, 5000) and item["ppg"].shape == (1, 1250)
    assert item["index"] == 8 and item["age"] == store.index["age"].iloc[8]
    np.testing.assert_array_equal(item["ppg"].numpy(), store.read([8])["ppg"][0])
    batch = ds[[0, 19, 4]]
    assert batch["ecg_v"].shape == (3, 1, 5000) and batch["index"].tolist() == [5, 24, 9]
    assert batch["subject_id"] == store.index["subject_id"].iloc[[5, 24, 9]].tolist()

    seen = []
    for b in ds.loader(batch_size=6, shuffle=True, num_workers=2, seed=0):
        assert b["ecg_ii"].dtype == torch.float32 and b["ecg_ii"].shape[1:] == (1, 5000)
        seen.extend(b["index"].tolist())
    assert sorted(seen) == list(range(5, 25))


def split_index(n_subjects=200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n_subjects):
        source = ["mimic3_wave", "mimic4_wave", "vitaldb"][i % 3]
        rows += [{"subject_id": f"p{i}", "source": source}] * int(rng.integers(1, 6))
    rows += [{"subject_id": "p0", "source": "vitaldb"}]   # one subject seen in two sources
    return pd.DataFrame(rows)


def test_splits_never_share_a_subject_and_are_deterministic():
    index = split_index()
    split = subject_splits(index, (0.8, 0.1, 0.1), seed=0)
    check_disjoint(index, split)
    assert split.notna().all()
    per_subject = pd.DataFrame({"s": index["subject_id"], "p": split, "src": index["source"]})
    per_subject = per_subject.drop_duplicates("s")
    for _, g in per_subject.groupby("src"):
        shares = g["p"].value_counts(normalize=True)
        assert shares["train"] == pytest.approx(0.8, abs=0.03)
        assert shares["val"] == pytest.approx(0.1, abs=0.03)
        assert shares["test"] == pytest.approx(0.1, abs=0.03)
    assert split.equals(subject_splits(index, seed=0))
    assert not split.equals(subject_splits(index, seed=1))
    with pytest.raises(ValueError, match="more than one partition"):
        check_disjoint(index, pd.Series(["train"] * (len(index) - 1) + ["test"]))


def test_cycle_sampler_draws_half_of_each_source_and_reseeds():
    sources = np.array(["mimic3"] * 1000 + ["mimic4"] * 200 + ["vitaldb"] * 50)
    sampler = CycleSampler(sources, fraction=0.5, seed=3)
    assert len(sampler) == 500 + 100 + 25
    first, second = list(sampler), list(sampler)
    for cycle in (first, second):
        assert len(set(cycle)) == len(cycle) == 625
        counts = pd.Series(sources[cycle]).value_counts().to_dict()
        assert counts == {"mimic3": 500, "mimic4": 100, "vitaldb": 25}
    assert set(first) != set(second)          # each cycle draws afresh
    assert first == list(CycleSampler(sources, 0.5, seed=3))


def test_cycle_sampler_resumes_exactly_from_state_dict():
    sources = np.array(["a"] * 30 + ["b"] * 11)
    ref = CycleSampler(sources, seed=1)
    stream = list(ref) + list(ref) + list(ref)                # three cycles
    run = CycleSampler(sources, seed=1)
    assert len(run) == 15 + 6
    taken = list(run)                                         # cycle 0
    it = iter(run)
    taken += [next(it) for _ in range(6)]                     # interrupted 6 positions into cycle 1
    state = run.state_dict()
    resumed = CycleSampler(sources, seed=1)
    resumed.load_state_dict(state)
    rest = list(resumed) + list(resumed)
    assert taken + rest == stream[:len(taken) + len(rest)] and len(taken + rest) == 63
    prefetched = CycleSampler(sources, seed=1)
    prefetched.load_state_dict(run.state_dict(consumed=20))    # a loader ran ahead; 20 were trained on
    assert list(prefetched) == stream[20:21]
    with pytest.raises(ValueError, match="seed"):
        CycleSampler(sources, seed=2).load_state_dict(state)


def test_records_a_loader_left_out_are_counted_in_the_store_funnel(tmp_path, recordings):
    """A loader's ``info["excluded"]`` (records it found but could not use) reaches the funnel as drops into
    the ``records`` stage; chained sets add theirs up; a subset (the caller's selection) carries none."""
    from physiofm.sources import chain

    left_out = RecordingSet(recordings.name, recordings.records, recordings._load_fn,
                            {"excluded": {"missing_channel": 2, "short_record": 1}})
    store = SegmentStore.build(tmp_path / "st", left_out, partial(syneco_segments, cfg=CFG),
                               subjects_per_shard=4, progress=False)
    table = store.funnel.table().set_index("stage")
    assert table.loc["records", "count"] == len(recordings)
    assert table.loc["records", "dropped"] == 3
    assert table.loc["records", "reasons"] == "missing_channel: 2, short_record: 1"
    both = chain("both", [left_out, left_out.subset(np.arange(2)), recordings])
    assert both.info["excluded"] == {"missing_channel": 2, "short_record": 1}
    assert "excluded" not in left_out.subset(np.arange(2)).info and "excluded" not in chain("x", []).info


def test_holdout_subjects_draws_a_stratified_share_of_whole_subjects():
    from physiofm.splits import holdout_subjects

    rng = np.random.default_rng(0)
    subjects = rng.integers(0, 300, 700)
    index = pd.DataFrame({"subject_id": [f"s{i}" for i in subjects],
                          "a": (subjects % 5 == 0).astype(int), "b": (subjects % 7 == 0).astype(int)})
    held = holdout_subjects(index, 0.2, seed=3, strata=["a", "b"])
    per_subject = pd.Series(held).groupby(index["subject_id"].to_numpy()).agg(["min", "max"])
    assert (per_subject["min"] == per_subject["max"]).all()  # whole subjects
    chosen = per_subject["max"].astype(bool)
    assert abs(chosen.mean() - 0.2) < 0.01
    flags = index.groupby("subject_id")[["a"]].max()["a"]
    assert abs(flags[chosen].mean() - flags.mean()) < 0.03  # stratified by the signature
    assert np.array_equal(held, holdout_subjects(index, 0.2, seed=3, strata=["a", "b"]))
