"""The one run loop (physiofm.training.run): a fingerprinted run that resumes exactly after a kill, returns a
finished run at once, restarts when its config or data change; batches, validation subset, summaries."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from physiofm import sources
from physiofm.io import read_json
from physiofm.preprocess import AnyPPGPreprocess, anyppg_segments
from physiofm.sampler import PairedBatch, PairedBatches
from physiofm.sections import SyntheticSource, TrainSection
from physiofm.splits import split_table, write_splits
from physiofm.store import build_store
from physiofm.training.run import RunData, checkpoint, curves, loaders, run_dir, run_summary

SCRIPT = Path(__file__).resolve().parent / "engine_scripts" / "pretrain_run.py"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A data step of two tiny synthetic sources: stores/<name> and splits.parquet."""
    root = tmp_path_factory.mktemp("data")
    cfg = AnyPPGPreprocess(ppg=("PPG",), ecg=("II",), sqi=False)
    stores = {}
    for name, seed in (("a", 1), ("b", 2)):
        spec = SyntheticSource(kind="synthetic_icu", name=name, n_subjects=12, seed=seed, duration_s=40.0,
                               artefact_scale=0.0, alarms_per_hour=0.0)
        stores[name] = build_store(root / "stores" / name, sources.recordings(spec),
                                   functools.partial(anyppg_segments, cfg=cfg), {"seed": seed},
                                   subjects_per_shard=6, workers=1, progress=False)
    write_splits(split_table({n: s.index for n, s in stores.items()}, (0.6, 0.2, 0.2), seed=0), root)
    return root


def _run(data_dir: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, str(SCRIPT), str(data_dir), str(out), *args], env=env,
                          capture_output=True, timeout=300)


def test_resume_after_a_kill_gives_the_uninterrupted_weights(data_dir: Path, tmp_path: Path) -> None:
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert _run(data_dir, whole).returncode == 0
    run = _run(data_dir, killed, "8")
    assert run.returncode != 0  # SIGKILLed in step 8, after the checkpoint of step 6
    assert (run_dir(killed, "tiny", 3) / "checkpoints" / "last.pt").is_file()
    assert not (killed / "final.pt").exists()
    resumed = _run(data_dir, killed)
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    a, b = torch.load(whole / "final.pt"), torch.load(killed / "final.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)
    summary = read_json(run_dir(whole, "tiny", 3) / "run.json")
    assert summary["steps"] == 12 and summary["best_step"] in (4, 8, 12)
    assert summary["inputs"] == ["ppg", "ecg"]


def test_fingerprint_reuses_a_finished_run_and_restarts_a_changed_one(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    assert _run(data_dir, out).returncode == 0
    last = checkpoint(out, "tiny", 3, "last")
    stamp = last.stat().st_mtime_ns
    assert _run(data_dir, out).returncode == 0  # same fingerprint: the finished run is returned as it is
    assert last.stat().st_mtime_ns == stamp
    state = read_json(run_dir(out, "tiny", 3) / "state.json")
    assert _run(data_dir, out, "0", "0.005").returncode == 0  # another lr: a fresh run
    assert read_json(run_dir(out, "tiny", 3) / "state.json")["config"] != state["config"]
    assert last.stat().st_mtime_ns != stamp
    assert list(run_summary(out, ["tiny"])["steps"]) == [12] and (out / "runs.csv").is_file()
    assert set(curves(out, ["tiny"])["seed"]) == {3}


def test_batches_and_the_fixed_validation_subset(data_dir: Path) -> None:
    data = RunData.open(data_dir)
    assert list(data.stores) == ["a", "b"]
    shuffle = TrainSection(batch_size=8, max_steps=1, lr=1e-3, weight_decay=0.0, val_segments=10)
    train, val = loaders(data, ("ppg",), shuffle, seed=0)
    batches = list(train)
    assert all(b["ppg"].shape == (8, 1, 1250) for b in batches)
    n_train = int((data.splits["split"] == "train").sum())
    assert len(batches) == n_train // 8
    val_batches = list(val)
    assert sum(len(b["ppg"]) for b in val_batches) == 8  # 10 rows drawn, the incomplete batch dropped
    again = [b["index"] for b in loaders(data, ("ppg",), shuffle, seed=0)[1]]
    assert all(torch.equal(x["index"], y) for x, y in zip(val_batches, again))  # the same at every validation
    cycle = TrainSection(batch_size=4, max_steps=1, lr=1e-3, weight_decay=0.0, sampler="cycle",
                         cycle_fraction=0.5)
    train, _ = loaders(data, ("ppg", "ecg"), cycle, seed=0)
    first = [b["index"] for b in train]
    assert all(np.all(np.diff(ix.numpy()) >= 0) for ix in first)  # sorted within a batch
    per_source = data.splits[data.splits["split"] == "train"].groupby("source").size()
    assert len(first) == sum(int(0.5 * n + 0.5) for n in per_source) // 4  # half of each source per cycle
    assert data.key() == RunData.open(data_dir).key()


def test_paired_batches_draw_another_member_of_the_same_group() -> None:
    groups = np.array([5, 5, 5, 7, 9, 9, 7, 3])  # subject 3 has one segment
    paired = PairedBatches([[0, 1, 2, 3], [4, 5, 6, 7]], groups, seed=1)
    first = list(paired)
    for b in first:
        assert np.array_equal(groups[b.partners], groups[b.positions])
        alone = np.bincount(groups)[groups[b.positions]] == 1
        assert np.all((b.partners == b.positions) == alone)  # itself only when it has no other segment
    assert all(np.array_equal(a.partners, b.partners) for a, b in zip(first, PairedBatches(
        [[0, 1, 2, 3], [4, 5, 6, 7]], groups, seed=1)))  # deterministic
    draws = set()
    for epoch in range(20):
        paired.set_epoch(epoch)
        draws.add(int(next(iter(paired)).partners[0]))
    assert draws == {1, 2}  # every other member of the group, epoch by epoch


def test_paired_loaders_give_pairs_of_one_subject(data_dir: Path) -> None:
    data = RunData.open(data_dir)
    train = TrainSection(batch_size=8, max_steps=1, lr=1e-3, weight_decay=0.0, val_segments=16)
    tr, val = loaders(data, ("ppg", "ppg_pair", "subject"), train, seed=0)
    ds = tr.dataset
    codes = ds.subject_codes()
    subjects = [f"{n}/{sub}" for n, st, rows in zip(ds.names, ds.stores, ds.rows)
                for sub in st.index["subject_id"].astype(str).to_numpy()[rows]]
    assert len(np.unique(codes)) == len(set(subjects))
    assert all(len({s for s, c in zip(subjects, codes) if c == k}) == 1 for k in np.unique(codes))
    for batch in list(tr)[:3]:
        assert batch["ppg_pair"].shape == batch["ppg"].shape == (8, 1, 1250)
        assert batch["subject"].dtype == torch.int64
        assert torch.equal(batch["subject"], torch.from_numpy(codes[batch["index"].numpy()]))
        assert not torch.equal(batch["ppg_pair"], batch["ppg"])  # another segment, not the same one
    item = ds[PairedBatch(np.array([0, 1]), np.array([1, 0]))]
    assert torch.equal(item["ppg_pair"][0], item["ppg"][1])
    assert torch.equal(item["ppg_pair"][1], item["ppg"][0])
    v1 = [b["ppg_pair"] for b in val]
    assert v1 and all(torch.equal(a, b) for a, b in zip(v1, [b["ppg_pair"] for b in val]))


def test_encoder_sections_are_told_apart_by_kind() -> None:
    """sections.EncoderSection: one section per backbone kind; a section without kind is a Net1D; the spec
    builds the backbone of the registry."""
    from pydantic import TypeAdapter, ValidationError

    from physiofm.models import ResNet1D, ViT1D, build_backbone
    from physiofm.sections import EncoderSection, Net1DSection, ResNet1DSection, ViT1DSection

    adapter = TypeAdapter(EncoderSection)
    assert isinstance(adapter.validate_python({"base_filters": 8}), Net1DSection)
    vit = adapter.validate_python({"kind": "vit1d", "patch_size": 50, "depth": 1, "width": 16,
                                   "signal_length": 500})
    assert isinstance(vit, ViT1DSection) and isinstance(build_backbone(vit.spec()), ViT1D)
    res = adapter.validate_python({"kind": "resnet1d", "blocks": [1, 1, 1, 1], "base_width": 4})
    assert isinstance(res, ResNet1DSection) and build_backbone(res.spec()).out_features == 4 * 8 * 4
    assert isinstance(build_backbone(res.spec()), ResNet1D)
    with pytest.raises(ValidationError, match="heads"):
        adapter.validate_python({"kind": "vit1d", "patch_size": 50, "depth": 1, "width": 24, "heads": 5})
    with pytest.raises(ValidationError, match="extra"):
        adapter.validate_python({"kind": "vit1d", "patch_size": 50, "depth": 1, "width": 16, "filters": [8]})


def test_sections_reject_inconsistent_settings() -> None:
    with pytest.raises(ValueError, match="cycle_fraction"):
        TrainSection(batch_size=8, max_steps=10, lr=1e-3, weight_decay=0.0, sampler="cycle")
    with pytest.raises(ValueError, match="warmup_steps"):
        TrainSection(batch_size=8, max_steps=10, lr=1e-3, weight_decay=0.0, warmup_steps=20)
