"""The SyneCo study's downstream tasks as data: the paper's Tables 1-3 and their built-in analogues.

A :class:`Task` says which labels, which input channels, which rows (every segment, one segment per subject,
or the subject mean of up to ``max_segments_per_subject`` segments) and which metric. ``PAPER_TABLES`` lays
out Tables 1-3 exactly as printed (columns = the paper's tasks, rows = methods) and names, for each column,
the task that stands for it here: the real benchmark in the ``paper`` profile, an analogue of the built-in
cohort in ``ci`` / ``demo`` (``analogue``).

Analogues (built-in cohort, :mod:`physiofm.synthetic.icu`), and why:

=====================  ===============================  ==================================================
paper task             analogue                          reason
=====================  ===============================  ==================================================
PTB-XL super5          ``ecg_dx`` (multi-label: AF,      a multi-label diagnostic set on one 10-s ECG
                       conduction, ST-T, V-lead R')
PTB-XL sub23           ``v_rprime``                      a fine sub-class (incomplete-RBBB-like R') that
                                                         only one lead shows
PTB-XL sex             ``female``                        sex from one 10-s ECG
Chapman rhythm         ``af``                            rhythm from one 10-s ECG
Chapman sex            --                                the cohort has one sex label; see PTB-XL sex
Georgia diagnosis      ``ecg_dx_rate`` (+ tachycardia,   a wider multi-label set with rate findings
                       bradycardia)
PPG-DaLiA HR           ``heart_rate`` (every segment)    windowed heart-rate regression from PPG
PPG-BP HR              ``heart_rate_one`` (one segment   one short record per subject
                       per subject)
PPG-DaLiA activity     ``activity`` (5 classes)          activity from PPG windows
PPG-BP hypertension    ``hypertensive_one``              the literal label; here it is set by the
                                                         ECG-to-PPG delay, so PPG alone cannot see it
VTaC false alarm       ``false_alarm``                   alarm segments: VT run vs VT-like artefact
VitalDB sex            ``female_subject``                per-subject, up to 50 segments mean-pooled
VitalDB emergency      ``older_subject`` (age >= 60)     no acute-state label exists in the cohort; age is
                                                         the other per-case attribute both channels carry
=====================  ===============================  ==================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Kind = Literal["binary", "multiclass", "multilabel", "regression"]
Rows = Literal["segment", "one", "subject"]
ECG = ("ecg_ii", "ecg_v")
PPG = ("ppg",)
ALL = ("ecg_ii", "ecg_v", "ppg")
INPUTS = {"ecg": ECG, "ppg": PPG, "all": ALL}


@dataclass(frozen=True)
class Task:
    """One probing task.

    Attributes:
        id: our name for it (results table ``task`` column).
        kind: binary / multiclass / multilabel / regression.
        columns: label column(s) in the downstream label table.
        inputs: "ecg" (ECG-II + ECG-V), "ppg" or "all" (the three channels).
        rows: "segment" (every segment a sample), "one" (one segment per subject: a 10-s record per
            patient, as PTB-XL / Chapman / Georgia / PPG-BP give) or "subject" (subject mean of segments).
        store: which downstream store holds it ("downstream" for the built-in cohort).
        where: optional pandas query selecting the rows a task uses (e.g. alarm segments only).
        description: one line for tables.
    """

    id: str
    kind: Kind
    columns: tuple[str, ...]
    inputs: Literal["ecg", "ppg", "all"]
    rows: Rows
    store: str = "downstream"
    where: str | None = None
    description: str = ""

    @property
    def probe_task(self) -> str:
        """The :mod:`physiofm.evaluation.probes` task type."""
        return {"binary": "classification", "multiclass": "classification"}.get(self.kind, self.kind)

    @property
    def metric(self) -> str:
        return "mae" if self.kind == "regression" else "auroc"


# --------------------------------------------------------------------------------- built-in analogues
ANALOGUE_TASKS: dict[str, Task] = {t.id: t for t in [
    Task("ecg_dx", "multilabel", ("af", "conduction", "st_change", "v_rprime"), "ecg", "one",
         description="AF, conduction, ST-T change, V-lead R' (multi-label) from one 10-s ECG"),
    Task("v_rprime", "binary", ("v_rprime",), "ecg", "one",
         description="R' seen only in the V lead, one 10-s ECG"),
    Task("female", "binary", ("female",), "ecg", "one", description="sex from one 10-s ECG"),
    Task("af", "binary", ("af",), "ecg", "one", description="atrial fibrillation from one 10-s ECG"),
    Task("ecg_dx_rate", "multilabel", ("af", "conduction", "st_change", "v_rprime", "tachy", "brady"),
         "ecg", "one", description="the diagnostic set plus tachy- / bradycardia, one 10-s ECG"),
    Task("heart_rate", "regression", ("heart_rate",), "ppg", "segment",
         description="heart rate (bpm) of every 10-s PPG segment"),
    Task("heart_rate_one", "regression", ("heart_rate",), "ppg", "one",
         description="heart rate (bpm) of one 10-s PPG segment per subject"),
    Task("activity", "multiclass", ("activity_code",), "ppg", "segment",
         description="activity (5 classes) of every 10-s PPG segment"),
    Task("hypertensive_one", "binary", ("hypertensive",), "ppg", "one",
         description="hypertension (set by pulse-transit time) from one 10-s PPG segment"),
    Task("false_alarm", "binary", ("false_alarm",), "all", "segment", where="alarm != 'none'",
         description="false vs true VT alarm, alarm segments, three channels"),
    Task("female_subject", "binary", ("female",), "all", "subject",
         description="sex per subject, segments mean-pooled, three channels"),
    Task("older_subject", "binary", ("older",), "all", "subject",
         description="age >= 60 per subject, segments mean-pooled, three channels"),
]}

# ------------------------------------------------------------------------------- the paper's benchmarks
PAPER_TASKS: dict[str, Task] = {t.id: t for t in [
    Task("ptbxl_super5", "multilabel", ("superdiagnostic",), "ecg", "one", store="ptbxl",
         where="n_superdiagnostic > 0"),
    Task("ptbxl_sub23", "multilabel", ("subdiagnostic",), "ecg", "one", store="ptbxl",
         where="n_subdiagnostic > 0"),
    Task("ptbxl_sex", "binary", ("female",), "ecg", "one", store="ptbxl"),
    Task("chapman_rhythm", "multiclass", ("rhythm",), "ecg", "one", store="chapman"),
    Task("chapman_sex", "binary", ("female",), "ecg", "one", store="chapman"),
    Task("georgia_dx", "multilabel", ("diagnosis",), "ecg", "one", store="georgia"),
    Task("dalia_hr", "regression", ("hr",), "ppg", "segment", store="dalia"),
    Task("ppgbp_hr", "regression", ("hr",), "ppg", "one", store="ppgbp"),
    Task("dalia_activity", "multiclass", ("activity",), "ppg", "segment", store="dalia"),
    Task("ppgbp_hypertension", "binary", ("hypertension",), "ppg", "one", store="ppgbp"),
    Task("vtac", "binary", ("false_alarm",), "all", "segment", store="vtac"),
    Task("vitaldb_sex", "binary", ("female",), "all", "subject", store="vitaldb_test"),
    Task("vitaldb_emergency", "binary", ("emop",), "all", "subject", store="vitaldb_test"),
]}


@dataclass(frozen=True)
class PaperTable:
    """One of Tables 1-3: its columns (paper task -> probe, metric, analogue) and method rows."""

    id: str
    caption: str
    columns: dict[str, tuple[str, str, str | None]]  # paper task -> (probe, metric, analogue task or None)
    methods: dict[str, str]  # published method key -> our method id
    only_three_channel: tuple[str, ...] = ()  # paper tasks restricted to three-channel models


ROWS_ECG = {"syneco": "syneco", "sleepfm_loo": "sleepfm_loo", "sleepfm_pair": "sleepfm_pair",
            "syneco_2mod": "syneco_2mod", "stack": "stack", "byol": "byol_ecg", "simclr": "simclr_ecg"}
ROWS_PPG = {**ROWS_ECG, "byol": "byol_ppg", "simclr": "simclr_ppg"}
# Table 1 prints no SleepFM 2mod row, but section 4.1 compares it with SleepFM LOO on super5 / sub23.
ROWS_ECG_TEXT = {**ROWS_ECG, "sleepfm_2mod": "sleepfm_2mod"}
ROWS_MULTI = {"syneco": "syneco", "sleepfm_loo": "sleepfm_loo", "sleepfm_pair": "sleepfm_pair",
              "sleepfm_2mod": "sleepfm_2mod", "syneco_2mod": "syneco_2mod", "stack": "stack"}

PAPER_TABLES: dict[str, PaperTable] = {t.id: t for t in [
    PaperTable("table_1", "AUROC on ECG benchmarks, logistic regression probing on ECG-lead II and V inputs",
               {"ptbxl_super5": ("lr", "auroc", "ecg_dx"), "ptbxl_sub23": ("lr", "auroc", "v_rprime"),
                "ptbxl_sex": ("lr", "auroc", "female"), "chapman_rhythm": ("lr", "auroc", "af"),
                "chapman_sex": ("lr", "auroc", None), "georgia_dx": ("lr", "auroc", "ecg_dx_rate")},
               ROWS_ECG_TEXT),
    PaperTable("table_2", "PPG benchmarks: MAE under random forest (lower is better), AUROC under LR",
               {"dalia_hr": ("rf", "mae", "heart_rate"), "ppgbp_hr": ("rf", "mae", "heart_rate_one"),
                "dalia_activity": ("lr", "auroc", "activity"),
                "ppgbp_hypertension": ("lr", "auroc", "hypertensive_one")},
               ROWS_PPG),
    PaperTable("table_3", "Multi-channel benchmark AUROC under logistic regression probing",
               {"vtac": ("lr", "auroc", "false_alarm"), "vitaldb_sex": ("lr", "auroc", "female_subject"),
                "vitaldb_emergency": ("lr", "auroc", "older_subject")},
               ROWS_MULTI, only_three_channel=("vitaldb_sex", "vitaldb_emergency")),
]}

THREE_CHANNEL = ("syneco", "stack", "sleepfm_pair", "sleepfm_loo")


def tasks_for(source: Literal["synthetic", "real"]) -> dict[str, Task]:
    return ANALOGUE_TASKS if source == "synthetic" else PAPER_TASKS


def column_task(table: PaperTable, paper_task: str, source: Literal["synthetic", "real"]) -> str | None:
    """The task id that stands for ``paper_task`` of ``table`` here (None: no analogue)."""
    return table.columns[paper_task][2] if source == "synthetic" else paper_task


def analogue_map() -> pd.DataFrame:
    """Paper task -> built-in analogue, with the analogue's description (for the notebooks)."""
    rows = []
    for t in PAPER_TABLES.values():
        for paper_task, (probe, metric, ours) in t.columns.items():
            rows.append({"table": t.id, "paper task": paper_task, "probe": probe, "metric": metric,
                         "analogue": ours or "–",
                         "what the analogue is": ANALOGUE_TASKS[ours].description if ours else
                         "no separate analogue (the cohort has a single sex label; see ptbxl_sex)"})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------- label columns
ACTIVITY_CODES = {"rest": 0, "sitting": 1, "walking": 2, "cycling": 3, "stairs": 4}


def synthetic_labels(index: pd.DataFrame, subjects: pd.DataFrame) -> pd.DataFrame:
    """Label table of the built-in downstream store, one row per segment (aligned with ``index``).

    Segment-level columns come from the 10-s block annotations (``heart_rate``, ``activity``, ``alarm``,
    block ``hypertensive``); subject attributes (``af``, ``conduction``, ``st_change``, ``v_rprime``,
    ``stiff``, ``female``, ``older``, subject ``hypertensive_subject``) from the cohort's subject table.
    Derived: ``tachy`` (> 100 bpm), ``brady`` (< 60 bpm), ``hr_high`` (> 90 bpm), ``hr_high_subject``
    (subject mean heart rate above the cohort's median subject), ``false_alarm`` (1 false, 0 true, NaN
    without alarm), ``activity_code``.
    """
    subj = subjects.set_index("subject_id")
    sid = index["subject_id"].astype(str)
    out = pd.DataFrame({"row": np.arange(len(index)), "subject_id": sid.to_numpy(),
                        "record_id": index["record_id"].astype(str).to_numpy(),
                        "offset_s": index["offset_s"].to_numpy()})
    for col in ("af", "conduction", "st_change", "v_rprime", "stiff", "age", "stiffness"):
        out[col] = subj.loc[sid, col].to_numpy()
    out["female"] = (subj.loc[sid, "sex"].to_numpy() == "F").astype(int)
    out["older"] = (out["age"] >= 60).astype(int)
    out["hypertensive_subject"] = subj.loc[sid, "hypertensive"].to_numpy().astype(int)
    hr = pd.to_numeric(index["heart_rate"], errors="coerce").to_numpy()
    out["heart_rate"] = hr
    out["tachy"] = (hr > 100).astype(int)
    out["brady"] = (hr < 60).astype(int)
    out["hr_high"] = (hr > 90).astype(int)
    hr_mean = pd.Series(hr).groupby(out["subject_id"].to_numpy()).transform("mean").to_numpy()
    out["hr_mean_subject"] = hr_mean
    out["hr_high_subject"] = (hr_mean > np.nanmedian(np.unique(hr_mean))).astype(int)
    out["hypertensive"] = index["hypertensive"].astype(int).to_numpy()
    out["ptt_ms"] = index["ptt_ms"].to_numpy()
    out["activity"] = index["activity"].astype(str).to_numpy()
    out["activity_code"] = out["activity"].map(ACTIVITY_CODES).to_numpy()
    alarm = index["alarm"].astype(str).to_numpy()
    out["alarm"] = alarm
    out["false_alarm"] = np.where(alarm == "false", 1.0, np.where(alarm == "true", 0.0, np.nan))
    return out


def task_rows(labels: pd.DataFrame, task: Task, per_subject: int | None = None) -> pd.DataFrame:
    """The label rows a task uses: ``where`` applied, rows with a label; for "one", each subject's first
    usable segment; for "segment", at most ``per_subject`` segments per subject (a fixed random subset)."""
    df = labels.query(task.where) if task.where else labels
    cols = list(task_columns(labels, task))
    df = df[df[cols].notna().all(axis=1)]
    if task.rows == "one":
        df = df.sort_values(["subject_id", "record_id", "offset_s"]).groupby("subject_id", sort=False).head(1)
    elif task.rows == "segment" and per_subject is not None:
        order = np.random.default_rng(0).permutation(len(df))
        df = df.iloc[order].groupby("subject_id", sort=False).head(per_subject).sort_values("row")
    return df


def task_columns(labels: pd.DataFrame, task: Task) -> tuple[str, ...]:
    """Label columns of ``task``; a multi-label task named by a prefix expands to its indicator columns."""
    if task.kind == "multilabel" and len(task.columns) == 1 and task.columns[0] not in labels:
        prefix = {"superdiagnostic": "super_", "subdiagnostic": "sub_", "diagnosis": "dx_"}.get(
            task.columns[0], task.columns[0] + "_")
        cols = tuple(c for c in labels.columns if c.startswith(prefix))
        if not cols:
            raise KeyError(f"task {task.id}: no label columns with prefix {prefix!r}")
        return cols
    missing = [c for c in task.columns if c not in labels]
    if missing:
        raise KeyError(f"task {task.id}: label column(s) {missing} not in the label table")
    return task.columns


def task_targets(rows: pd.DataFrame, task: Task, labels: pd.DataFrame | None = None) -> np.ndarray:
    """``y`` of a task: (N,) ints / floats, or (N, L) indicators for multi-label (constant labels dropped)."""
    cols = list(task_columns(labels if labels is not None else rows, task))
    if task.kind == "multilabel":
        return rows[cols].to_numpy().astype(int)
    y = rows[cols[0]].to_numpy()
    if task.kind == "regression":
        return y.astype(float)
    if y.dtype.kind in "OUS":  # string classes -> codes in sorted order
        classes = sorted(pd.unique(y))
        return np.searchsorted(classes, y)
    return y.astype(int)
