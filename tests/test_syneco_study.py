"""The SyneCo study's pipeline glue: downstream padding, cycle batches, probing, the paper-layout tables, the
benchmark tasks from the loaders' task lists (subject means for PTB-XL and PPG-BP), SleepFM 2mod in Table
2."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from physiofm.evaluation.protocol import holdout_probe
from physiofm.evaluation.tasks import Task, task_rows
from physiofm.recording import Recording
from physiofm.sampler import CycleBatches, CycleSampler
from physiofm.syneco.data import padded_segments, preprocess_config
from physiofm.syneco.params import PreprocessSection
from physiofm.syneco.probing import seed_runs, table_jobs
from physiofm.syneco.tables import paper_table, published
from physiofm.syneco.tasks import ANALOGUE_TASKS, PAPER_TABLES, paper_tasks

PRE = PreprocessSection(window_s=10.0, min_duration_s=0.0, max_gap_s=0.1, max_invalid=0.0, max_flatline=0.25,
                        ecg_fs=500.0, ppg_fs=125.0, ecg_band=(0.67, 40.0), ecg_order=5, ppg_band=(0.5, 8.0),
                        ppg_order=4, ppg_rs=20.0)


def ppg_record(seconds: float, fs: float = 64.0, rid: str = "r0") -> Recording:
    t = np.arange(int(seconds * fs)) / fs
    x = np.sin(2 * np.pi * 1.2 * t) + 0.1 * np.random.default_rng(0).standard_normal(t.size)
    return Recording(rid, "s" + rid, "test", {"ppg": x}, {"ppg": fs}, labels={"hr": 72.0})


def test_short_records_are_zero_padded_and_long_ones_windowed() -> None:
    cfg = preprocess_config(PRE, channels=("ppg",))
    short = padded_segments([ppg_record(2.1)], cfg, window_s=10.0, pad_short=True)
    assert short.arrays["ppg"].shape == (1, 1, 1250)
    n_real = int(round(2.1 * 125))
    assert np.all(short.arrays["ppg"][0, 0, n_real + 1:] == 0)
    assert np.std(short.arrays["ppg"][0, 0, :n_real]) > 0.5
    dalia = padded_segments([ppg_record(25.0, rid="r1")], cfg, window_s=8.0, pad_short=True)
    assert dalia.arrays["ppg"].shape == (3, 1, 1250)  # three 8-s windows, each padded to 10 s
    assert np.all(dalia.arrays["ppg"][:, 0, 1000:] == 0)
    assert list(dalia.index["hr"]) == [72.0] * 3


def test_cycle_batches_resume_on_the_cycle_of_an_epoch() -> None:
    sampler = CycleSampler(np.array(["a"] * 40 + ["b"] * 20), fraction=0.5, seed=3)
    batches = CycleBatches(sampler, batch_size=4)
    epoch0, epoch1 = list(batches), (batches.set_epoch(1), list(batches))[1]
    assert len(epoch0) == len(batches) == 30 // 4
    assert all(len(b) == 4 and b == sorted(b) for b in epoch0 + epoch1)
    fresh = CycleBatches(CycleSampler(np.array(["a"] * 40 + ["b"] * 20), fraction=0.5, seed=3), batch_size=4)
    fresh.set_epoch(1)
    assert list(fresh) == epoch1 != epoch0


def fake_labels(n_subjects: int = 60, per_subject: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    subj = np.repeat([f"s{i:03d}" for i in range(n_subjects)], per_subject)
    y = np.repeat(rng.integers(0, 2, n_subjects), per_subject)
    return pd.DataFrame({"row": np.arange(len(subj)), "subject_id": subj, "record_id": subj,
                         "offset_s": np.tile(np.arange(per_subject) * 10.0, n_subjects), "af": y,
                         "rare": np.r_[1, np.zeros(len(subj) - 1, int)]})


def test_probe_task_learns_a_separable_label_and_reports_nan_without_two_classes() -> None:
    torch.set_num_threads(1)
    labels = fake_labels()
    X = np.random.default_rng(1).standard_normal((len(labels), 16)).astype(np.float32)
    X[:, :4] += 3 * labels["af"].to_numpy()[:, None]
    task = Task("af", "binary", ("af",), inputs="all", rows="subject")
    r = holdout_probe(X, labels, task, method="m", probes=["lr", "fc", "rf"], seeds=[0, 42],
                      test_fraction=0.3, max_segments=50, probe_kwargs={"rf": {"n_estimators": 10}})
    auc = r[r["metric"] == "auroc"]
    assert len(auc) == 6 and (auc["value"] > 0.85).all()
    rare = Task("rare", "binary", ("rare",), inputs="all", rows="one")
    r = holdout_probe(X, labels, rare, method="m", probes=["lr"], seeds=[0], test_fraction=0.3,
                      max_segments=50, probe_kwargs={})
    assert r["value"].isna().all()


def test_one_segment_per_subject_and_segment_caps() -> None:
    labels = fake_labels()
    one = task_rows(labels, Task("af", "binary", ("af",), inputs="ecg", rows="one"))
    assert len(one) == 60 and (one["offset_s"] == 0).all()
    seg = task_rows(labels, Task("af", "binary", ("af",), inputs="ecg", rows="segment"), per_subject=2)
    assert seg.groupby("subject_id").size().max() == 2 and len(seg) == 120


def test_paper_table_sets_published_beside_ours() -> None:
    rows = [{"method": m, "task": "ecg_dx", "probe": "lr", "metric": "auroc", "seed": s, "value": v}
            for m, v in (("syneco", 0.9), ("byol_ecg", 0.8), ("sleepfm_2mod", 0.7)) for s in (0, 42)]
    table = paper_table(pd.DataFrame(rows), "table_1", "synthetic")
    col = "ptbxl_super5 ↔ ecg_dx"
    assert table.loc["SyneCo", (col, "published")] == "0.842"
    assert table.loc["SyneCo", (col, "this study")] == "0.900 ± 0.000"
    assert table.loc["BYOL", (col, "this study")] == "0.800 ± 0.000"  # byol_ecg is Table 1's BYOL
    assert table.loc["SleepFM 2mod", (col, "published")] == "0.732"  # section 4.1's number
    assert table.loc["SleepFM LOO", (col, "this study")] == "–"
    assert "chapman_sex ↔ no analogue" in table.columns.get_level_values(0)
    assert set(published("table_3")["task"]) == {"vtac", "vitaldb_sex", "vitaldb_emergency"}


def test_sleepfm_2mod_is_probed_and_published_in_table_2() -> None:
    """Section 4.2 gives SleepFM 2mod's PPG-DaLiA HR MAE (7.74): Table 2 has its row, probed and published."""
    assert PAPER_TABLES["table_2"].methods["sleepfm_2mod"] == "sleepfm_2mod"
    assert ("sleepfm_2mod", "heart_rate") in table_jobs("synthetic", ["sleepfm_2mod"], reference=False)
    pub = published("table_2").set_index(["task", "method"])["value"]
    assert pub[("dalia_hr", "sleepfm_2mod")] == 7.74
    rows = [{"method": "sleepfm_2mod", "task": "heart_rate", "probe": "rf", "metric": "mae", "seed": s,
             "value": 6.0} for s in (0, 42)]
    table = paper_table(pd.DataFrame(rows), "table_2", "synthetic")
    col = "dalia_hr ↔ heart_rate"
    assert table.loc["SleepFM 2mod", (col, "published")] == "7.740"
    assert table.loc["SleepFM 2mod", (col, "this study")] == "6.000 ± 0.000"


def test_benchmark_tasks_come_from_the_loaders_and_pool_subjects() -> None:
    """App. C.3: a subject with several segments is the mean of its embeddings (PTB-XL, PPG-BP, VitalDB)."""
    loader = {"ptbxl": {"superdiagnostic": {"type": "multilabel", "level": "record", "columns": ["super_MI"],
                                            "filter": "n_superdiagnostic > 0"},
                        "sex": {"type": "binary", "level": "record", "columns": ["female"]}},
              "ppgbp": {"hr": {"type": "regression", "level": "record", "columns": ["hr"]}},
              "dalia": {"hr": {"type": "regression", "level": "annotation", "columns": ["hr"]}}}
    tasks = paper_tasks(loader)
    assert set(tasks) == {"ptbxl_super5", "ptbxl_sex", "ppgbp_hr", "dalia_hr"}
    assert tasks["ptbxl_super5"].rows == "subject" and tasks["ptbxl_super5"].where == "n_superdiagnostic > 0"
    assert tasks["ppgbp_hr"].rows == "subject" and tasks["ppgbp_hr"].inputs == "ppg"
    assert tasks["dalia_hr"].rows == "segment" and tasks["dalia_hr"].store == "dalia"


def test_probe_seeds_read_their_own_pretraining_run() -> None:
    assert seed_runs([0, 42, 1234], [0, 42, 1234]) == {0: 0, 42: 42, 1234: 1234}  # paper profile
    assert seed_runs([0, 42, 1234], [0]) == {0: 0, 42: 0, 1234: 0}  # demo: one run, three probe draws


@pytest.mark.parametrize("task", list(ANALOGUE_TASKS.values()), ids=lambda t: t.id)
def test_analogue_tasks_are_well_formed(task: Task) -> None:
    assert task.inputs in ("ecg", "ppg", "all") and task.rows in ("segment", "one", "subject")
    assert (task.metric == "mae") == (task.kind == "regression")
