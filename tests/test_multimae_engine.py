"""What MultiMAE added to the engine: the ``multimae`` encoder kind and its params section, SleepFM with a
fixed temperature and projectors, SimCLR on adjacent windows with the run loop's adjacent batching, the probe
protocol's three-way split / subject subsets / metrics, and the fine-tuning protocol."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from pydantic import TypeAdapter

from physiofm import methods
from physiofm.evaluation.finetuning import finetune_task, load_finetuned, task_data
from physiofm.evaluation.protocol import holdout_probe, subject_subset
from physiofm.evaluation.tasks import Task, label_table
from physiofm.models import build_encoder
from physiofm.preprocess import MultiMAEPreprocess, multimae_segments
from physiofm.sections import EncoderSection, MethodChoice, MultiMAEEncoderSection, Net1DSection, TrainSection
from physiofm.splits import split_table, write_splits
from physiofm.store import PairedDataset, adjacent_rows, build_store
from physiofm.synthetic import psg_cohort
from physiofm.training.run import RunData, loaders, pretrain

KEYS = ("eeg", "eog", "emg", "ecg")
ENC = {"kind": "multimae", "tokens": 30, "samples_per_token": 100, "width": 16, "depth": 1, "heads": 2,
       "dropout": 0.0, "attn_dropout": 0.0, "conv_channels": 4, "conv_kernel": 5}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A data step on a tiny built-in PSG cohort: stores/psg (four 3,000-sample groups), splits, labels."""
    root = tmp_path_factory.mktemp("psg")
    cohort = psg_cohort(8, seed=3, hours=0.1)
    store = build_store(root / "stores" / "psg", cohort.recordings,
                        functools.partial(multimae_segments, cfg=MultiMAEPreprocess()), {"v": 1},
                        subjects_per_shard=4, workers=1, progress=False)
    splits = split_table({"psg": store.index}, (0.5, 0.25, 0.25), seed=0)
    write_splits(splits, root)
    labels = label_table(store.index).assign(split=splits["split"].to_numpy())
    labels.to_parquet(root / "labels.parquet")
    return root


def test_encoder_section_kinds_and_the_multimae_backbone() -> None:
    adapter = TypeAdapter(EncoderSection)
    assert isinstance(adapter.validate_python({"base_filters": 8}), Net1DSection)  # kind defaults to net1d
    sec = adapter.validate_python(ENC)
    assert isinstance(sec, MultiMAEEncoderSection) and sec.architecture()["width"] == 16
    with pytest.raises(ValueError, match="divisible by heads"):
        adapter.validate_python({**ENC, "width": 18, "heads": 4})
    enc = build_encoder(sec.spec())
    x = torch.randn(3, 1, 3000)
    assert enc(x).shape == (3, 16) and enc.out_features == 16
    assert MultiMAEEncoderSection(kind="multimae").width == 512  # the paper's defaults
    # a multimae method reads the shared section's architecture
    m = methods.build("multimae", MethodChoice(method="multimae").build_config(sec))
    assert (m.config.width, m.config.depth, m.config.conv_channels) == (16, 1, 4)
    with pytest.raises(ValueError, match="kind 'multimae'"):
        methods.build("multimae", {"encoder": {"kind": "net1d"}})


def test_sleepfm_with_a_fixed_temperature_and_projectors() -> None:
    cfg = {"channels": list(KEYS), "encoder": ENC, "temperature": 0.1, "projector_hidden": 8,
           "projector_dim": 4}
    m = methods.build("sleepfm_loo", cfg)
    assert m.log_scale is None and "log_scale" not in dict(m.named_parameters())
    batch = {k: torch.randn(4, 1, 3000) for k in KEYS}
    loss = m.loss(batch)
    assert m.logs["logit_scale"] == pytest.approx(10.0) and torch.isfinite(loss)
    loss.backward()
    assert all(p.grad is not None for p in m.projectors.parameters())
    m.after_step(1, 2)  # no learnable scale to clamp
    emb = m.embeddings(batch)  # projectors discarded: the encoders' 16-d outputs, concatenated
    assert emb["concat"].shape == (4, 64) and emb["eeg"].shape == (4, 16)
    learnable = methods.build("sleepfm_pair", {**cfg, "temperature": None})
    assert learnable.log_scale is not None
    with pytest.raises(ValueError, match="projector_hidden and projector_dim"):
        methods.build("sleepfm_pair", {**cfg, "projector_dim": None})


def test_adjacent_rows_pair_each_window_with_its_successor() -> None:
    index = pd.DataFrame({"record_id": ["a"] * 4 + ["b"] * 3,
                          "offset_s": [0.0, 30.0, 60.0, 120.0, 0.0, 30.0, 60.0]})
    anchors, nxt = adjacent_rows(index, np.arange(7), 30.0)
    assert anchors.tolist() == [0, 1, 4, 5] and nxt.tolist() == [1, 2, 5, 6]  # 60 -> 120 is a gap
    anchors, nxt = adjacent_rows(index, np.array([5, 4, 0, 1]), 30.0)  # the order of rows is kept
    assert anchors.tolist() == [4, 0] and nxt.tolist() == [5, 1]


def test_adjacent_simclr_trains_on_the_run_loops_adjacent_batches(data_dir: Path, tmp_path: Path) -> None:
    choice = MethodChoice(method="simclr", config={"adjacent": list(KEYS), "projector_hidden": 8,
                                                     "projector_dim": 4, "temperature": 0.1})
    method = methods.build("simclr", choice.build_config(TypeAdapter(EncoderSection).validate_python(ENC)))
    assert method.adjacent and method.inputs == KEYS and method.probe_key == "concat"
    with pytest.raises(KeyError, match="successor"):
        method.loss({k: torch.randn(4, 1, 3000) for k in KEYS})
    data = RunData.open(data_dir)
    train = TrainSection(batch_size=4, max_steps=3, lr=1e-3, weight_decay=0.0, val_every=3, log_every=1)
    tr, va = loaders(data, KEYS, train, seed=0, adjacent=True)
    assert isinstance(tr.dataset, PairedDataset)
    batch = next(iter(tr))
    assert set(batch) >= {*KEYS, *(f"next:{k}" for k in KEYS)} and batch["eeg"].shape == (4, 1, 3000)
    store = data.stores["psg"]
    anchor, successor = tr.dataset.first[[0]]["index"].item(), tr.dataset.second[[0]]["index"].item()
    offsets, records = store.index["offset_s"], store.index["record_id"]
    assert offsets.iloc[successor] - offsets.iloc[anchor] == 30
    assert records.iloc[successor] == records.iloc[anchor]
    result = pretrain("simclr", choice, TypeAdapter(EncoderSection).validate_python(ENC), train, data,
                      tmp_path, seed=0)
    assert result.steps == 3 and np.isfinite(result.best_val_loss)


def test_multimae_probe_representation_of_a_subset_hides_the_absent_modalities() -> None:
    m = methods.build("multimae_drop", {"encoder": ENC, "decoder_heads": 2}).eval()
    batch = {k: torch.randn(3, 1, 3000) for k in KEYS}
    reps = m.embed_inputs(batch, {"all": KEYS, "eeg": ("eeg",), "none": ("ppg",)})
    assert set(reps) == {"all", "eeg"} and torch.allclose(reps["all"], m.embed(batch), atol=1e-6)
    with torch.no_grad():
        x = m.stack(batch)
        hidden = torch.zeros(3, 120, dtype=torch.bool)
        hidden[:, 30:] = True
        expected = m.model.encode(x, hidden).mean(1)
    assert torch.allclose(reps["eeg"], expected, atol=1e-6)
    other = {**batch, "ecg": torch.randn(3, 1, 3000)}  # the hidden modality's values do not matter
    assert torch.allclose(m.embed_inputs(other, {"eeg": ("eeg",)})["eeg"], reps["eeg"], atol=1e-6)


def test_holdout_probe_three_way_split_subject_subsets_and_metrics() -> None:
    rng = np.random.default_rng(0)
    subjects = np.repeat([f"s{i}" for i in range(12)], 20)
    split = np.repeat(["train"] * 8 + ["val"] * 2 + ["test"] * 2, 20)
    y = rng.integers(0, 3, len(subjects))
    X = rng.standard_normal((len(y), 5)).astype(np.float32)
    X[:, 0] += 2.0 * y
    labels = pd.DataFrame({"row": np.arange(len(y)), "subject_id": subjects, "record_id": subjects,
                           "offset_s": np.tile(np.arange(20) * 30.0, 12), "stage_code": y, "split": split})
    task = Task("sleep", "multiclass", ("stage_code",))
    kw = dict(method="m", probes=["fc", "lr"], seeds=[0, 1], test_fraction=0.2, max_segments=None,
              probe_kwargs={"fc": {"class_weighted": True, "max_epochs": 20},
                            "lr": {"class_weighted": True}},
              metrics=["balanced_accuracy", "kappa", "f1", "auroc"], validation="split")
    res = holdout_probe(X, labels, task, **kw)
    assert set(res["metric"]) == {"balanced_accuracy", "kappa", "f1", "auroc"}
    assert (res["n_test"] == 40).all() and (res["n_train"] == 160).all()
    assert res.query("metric == 'balanced_accuracy'")["value"].min() > 0.6
    few = holdout_probe(X, labels, task, **kw, train_subjects=3)
    assert (few["n_train"] == 60).all() and (few["train_subjects"] == 3).all()
    picks = {s: set(subjects[:160][subject_subset(subjects[:160], 3, s)]) for s in (0, 1)}
    assert picks[0] != picks[1] and all(len(p) == 3 for p in picks.values())  # a new draw per seed
    with pytest.raises(ValueError, match="three-way split"):
        holdout_probe(X, labels.assign(split="train"), task, **kw)
    with pytest.raises(ValueError, match="three-way split"):
        holdout_probe(X, labels.assign(split="training"), task, **kw)


def test_finetune_task_trains_scores_caches_and_reloads(data_dir: Path, tmp_path: Path) -> None:
    labels = pd.read_parquet(data_dir / "labels.parquet")
    store = RunData.open(data_dir).stores["psg"]
    task = Task("sleep", "multiclass", ("stage_code",))
    parts = task_data(labels, task, seed=0, train_subjects=2)
    assert len(set(labels.set_index("row").loc[parts["train"][0], "subject_id"])) == 2
    choice = MethodChoice(method="multimae", config={"decoder_heads": 2})
    encoder = TypeAdapter(EncoderSection).validate_python(ENC)
    train = TrainSection(batch_size=8, max_steps=4, lr=1e-3, weight_decay=0.0, val_every=2, log_every=1)
    out = tmp_path / "scratch"
    res = finetune_task("scratch_all", choice, encoder, None, store, labels, task, train, out, seed=0,
                        train_subjects=2)
    assert set(res["metric"]) == {"balanced_accuracy", "kappa", "auroc", "f1"}
    assert (res["probe"] == "finetune").all() and (res["train_subjects"] == 2).all()
    assert (out / "checkpoints" / "best.pt").is_file()
    stamp = (out / "results.parquet").stat().st_mtime_ns
    again = finetune_task("scratch_all", choice, encoder, None, store, labels, task, train, out, seed=0,
                          train_subjects=2)
    assert (out / "results.parquet").stat().st_mtime_ns == stamp and again.equals(res)
    model = load_finetuned(choice, encoder, out)
    batch = {k: torch.as_tensor(store.read([0, 1], [k])[k]) for k in KEYS}
    assert model(batch).shape[0] == 2 and len(model.encoder.attentions(batch)) == 1
