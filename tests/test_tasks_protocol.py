"""One task model and one probe protocol: tasks from the loaders' and the cohorts' ``info["tasks"]``, the rows
and targets a task selects, subject means, label fractions, low incidence, seeds, nested CV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from physiofm.evaluation.protocol import holdout_probe, nested_cv_probe, pooled, samples
from physiofm.evaluation.tasks import Task, label_table, task_rows, task_targets, tasks_from_info
from physiofm.sections import TaskSection
from physiofm.synthetic import icu_cohort


def labels_table(n_subjects: int = 40, per_subject: int = 4, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    subj = np.repeat([f"s{i:03d}" for i in range(n_subjects)], per_subject)
    y = np.repeat(rng.integers(0, 2, n_subjects), per_subject)
    return pd.DataFrame({"row": np.arange(len(subj)), "subject_id": subj,
                         "record_id": [f"{s}-r{i // 2 % 2}" for s, i in zip(subj, range(len(subj)))],
                         "offset_s": np.tile(np.arange(per_subject) * 10.0, n_subjects), "y": y,
                         "hr": 60 + 5 * rng.standard_normal(len(subj)),
                         "activity": rng.choice(["rest", "walk", "run"], len(subj))})


def features(labels: pd.DataFrame, dim: int = 12, seed: int = 1) -> np.ndarray:
    X = np.random.default_rng(seed).standard_normal((len(labels), dim)).astype(np.float32)
    X[:, :3] += 2.5 * labels["y"].to_numpy()[:, None]
    return X


def test_tasks_come_from_loaders_and_cohorts_info() -> None:
    info = {"superdiagnostic": {"type": "multilabel", "level": "record", "columns": ["super_MI", "super_CD"],
                                "filter": "n_superdiagnostic > 0", "papers": ["syneco"]},
            "hr": {"type": "regression", "level": "annotation", "columns": ["hr"]},
            "text": {"type": "text", "level": "record", "columns": ["report"]}}
    tasks = tasks_from_info(info, "ptbxl", inputs="ecg")
    assert set(tasks) == {"superdiagnostic", "hr"}  # text targets are not probe tasks
    t = tasks["superdiagnostic"]
    assert (t.kind, t.columns, t.store, t.inputs, t.rows, t.where) == (
        "multilabel", ("super_MI", "super_CD"), "ptbxl", "ecg", "one", "n_superdiagnostic > 0")
    assert tasks["hr"].rows == "segment" and tasks["hr"].metric == "mae"
    assert tasks_from_info(info, "ptbxl", rows="subject")["superdiagnostic"].rows == "subject"
    cohort = icu_cohort(2, 0, duration_s=20.0)
    icu = tasks_from_info(cohort.info["tasks"], "downstream")
    assert (icu["heart_rate"].rows, icu["af"].rows, icu["activity"].kind) == ("segment", "one", "multiclass")
    assert cohort.recordings.info["tasks"] is cohort.info["tasks"]
    spec = TaskSection(name="ex", target="activity", kind="binary", positive=["walk", "run"], rows="subject")
    assert spec.task("probe") == Task("ex", "binary", ("activity",), store="probe", rows="subject",
                                      positive=("walk", "run"))


def test_rows_targets_and_subject_means() -> None:
    labels = labels_table()
    one = task_rows(labels, Task("y", "binary", ("y",), rows="one"))
    assert len(one) == 40 and (one["offset_s"] == 0).all()
    y, classes = task_targets(task_rows(labels, Task("a", "multiclass", ("activity",))),
                              Task("a", "multiclass", ("activity",)))
    assert classes == ["rest", "run", "walk"] and set(y) == {0, 1, 2}
    X = features(labels)
    means, rows = pooled(X, task_rows(labels, Task("y", "binary", ("y",), rows="subject")), labels,
                         max_segments=None)
    assert means.shape == (40, 12) and list(rows["subject_id"])[:2] == ["s000", "s001"]
    np.testing.assert_allclose(means[1], X[4:8].mean(0), rtol=1e-6)  # the mean of every segment
    first2, _ = pooled(X, rows, labels, max_segments=2)
    np.testing.assert_allclose(first2[1], X[4:6].mean(0), rtol=1e-6)  # the first two by record and time
    Xt, yt, r = samples(X, labels, Task("y", "binary", ("y",), rows="subject"))
    assert Xt.shape == (40, 12) and len(yt) == 40 and (yt == r["y"].to_numpy()).all()


def test_holdout_probe_seeds_fractions_and_low_incidence() -> None:
    labels = labels_table()
    X = features(labels)
    task = Task("y", "binary", ("y",), rows="subject")
    kw = dict(method="m", probes=["lr"], test_fraction=0.25, max_segments=None, probe_kwargs={})
    r = holdout_probe(X, labels, task, seeds=[0, 42], **kw)
    auc = r[r["metric"] == "auroc"]
    assert list(auc["seed"]) == [0, 42] and (auc["value"] > 0.9).all() and (auc["n_train"] == 30).all()
    half = holdout_probe(X, labels, task, seeds=[0], label_fraction=0.5, **kw)
    assert half["n_train"].iloc[0] == 15  # a stratified half of the 30 training subjects
    low = holdout_probe(X, labels, task, seeds=[0], case_ratio=0.2, n_total=15, **kw)
    assert low["n_train"].iloc[0] == 15
    # one representation per seed (one pretraining run per seed): seed 42 reads its own
    shuffled = {0: X, 42: np.random.default_rng(5).standard_normal(X.shape).astype(np.float32)}
    both = holdout_probe(shuffled, labels, task, seeds=[0, 42], **kw)
    values = both[both["metric"] == "auroc"].set_index("seed")["value"]
    assert values[0] > 0.9 and values[42] < 0.85


def test_holdout_probe_with_the_datasets_validation_split() -> None:
    """validation="split": rows of split 'val' stop the FC head early and are never trained on; the test rows
    are the dataset's own; LR ignores the validation rows; without a three-way split the option is an
    error."""
    labels = labels_table(n_subjects=60, per_subject=1)
    labels["split"] = np.where(np.arange(60) < 40, "train", np.where(np.arange(60) < 48, "val", "test"))
    X = features(labels)
    task = Task("y", "binary", ("y",), rows="one")
    kw = dict(method="m", test_fraction=0.25, max_segments=None, probe_kwargs={"fc": {"max_epochs": 30}},
              validation="split")
    r = holdout_probe(X, labels, task, probes=["fc", "lr"], seeds=[0, 1], **kw)
    assert (r["n_train"] == 40).all() and (r["n_test"] == 12).all()
    assert (r.loc[r["metric"] == "auroc", "value"] > 0.8).all()
    fc = r[(r["probe"] == "fc") & (r["metric"] == "auprc")].set_index("seed")["value"]
    lr = r[(r["probe"] == "lr") & (r["metric"] == "auprc")].set_index("seed")["value"]
    assert lr[0] == lr[1]  # nothing of LR depends on the seed here: the split is the dataset's
    assert len(fc) == 2
    with pytest.raises(ValueError, match="three-way split"):
        holdout_probe(X, labels.assign(split="train"), task, probes=["fc"], seeds=[0], **kw)


def test_nested_cv_probe_groups_subjects() -> None:
    labels = labels_table(n_subjects=30)
    X = features(labels)
    folds = nested_cv_probe(X, labels, Task("hr", "regression", ("hr",)), grid={"model__alpha": [1.0, 10.0]},
                            outer_folds=3, inner_folds=2, group_by_subject=True, max_iter=200, seed=0)
    assert set(folds["metric"]) == {"MAE", "R2"} and sorted(folds["fold"].unique()) == [0, 1, 2]
    assert (folds["n"] == len(labels)).all()
    cls = nested_cv_probe(X, labels, Task("y", "binary", ("y",), rows="subject"), grid={"model__C": [1.0]},
                          outer_folds=3, inner_folds=2, group_by_subject=True, max_iter=200, seed=0)
    assert (cls.loc[cls["metric"] == "AUC", "value"] > 0.8).all() and (cls["n"] == 30).all()


def test_label_table_from_a_store_index() -> None:
    index = pd.DataFrame({"subject_id": [1, 1, 2], "record_id": ["a", "a", "b"], "offset_s": [0.0, 10.0, 0.0],
                          "shard": [0, 0, 1], "row": [0, 1, 0], "hr": [60.0, 61.0, 70.0]})
    t = label_table(index)
    assert list(t.columns) == ["row", "subject_id", "record_id", "offset_s", "hr"]
    assert list(t["row"]) == [0, 1, 2] and list(t["subject_id"]) == ["1", "1", "2"]
    with pytest.raises(KeyError, match="not in the label table"):
        task_rows(t, Task("x", "binary", ("nope",)))


def test_a_probe_that_cannot_be_fitted_gives_nan_and_says_why() -> None:
    """Real data can hold one class (both Challenge-2015 records are false alarms) or one subject: the
    protocol used to fail inside scikit-learn's split on one subject; now each such probe reports why."""
    from physiofm.evaluation.protocol import ONE_CLASS, ONE_CLASS_IN_TRAINING, TOO_FEW_SUBJECTS

    kw = dict(method="m", probes=["lr", "rf"], seeds=[0], test_fraction=0.25, max_segments=None,
              probe_kwargs={})
    seg = Task("y", "binary", ("y",), rows="segment")
    labels = labels_table()
    X = features(labels)
    fitted = holdout_probe(X, labels, seg, **kw)
    assert (fitted["note"] == "").all() and fitted["value"].notna().all()
    one_class = labels.assign(y=1)
    r = holdout_probe(X, one_class, seg, **kw)
    assert (r["note"] == ONE_CLASS).all() and r["value"].isna().all() and (r["n_test"] == 0).all()
    one_subject = labels[labels["subject_id"] == "s000"].assign(y=[0, 1, 0, 1], row=np.arange(4))
    r = holdout_probe(X[:4], one_subject, seg, **kw)
    assert (r["note"] == TOO_FEW_SUBJECTS).all() and r["value"].isna().all()
    reg = holdout_probe(X[:4], one_subject, Task("hr", "regression", ("hr",), rows="segment"), **kw)
    assert (reg["note"] == TOO_FEW_SUBJECTS).all() and list(reg["probe"].unique()) == ["rf"]
    # two subjects, one class each: whichever is held out, the training split has one class
    two = labels[labels["subject_id"].isin(["s000", "s001"])].reset_index(drop=True)
    two = two.assign(row=np.arange(len(two)), y=(two["subject_id"] == "s001").astype(int))
    r = holdout_probe(X[:len(two)], two, seg, **{**kw, "test_fraction": 0.5})
    assert (r["note"] == ONE_CLASS_IN_TRAINING).all() and r["value"].isna().all()
