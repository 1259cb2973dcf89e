"""The SyneCo study's task mapping: the paper's Tables 1-3, its benchmarks and their built-in analogues.

Each task is a :class:`physiofm.evaluation.tasks.Task`: which labels, which input channels (``INPUTS``: "ecg"
= ECG-II + ECG-V, "ppg", "all"), which rows (every segment, one segment per subject, or the subject mean of
up to ``max_segments_per_subject`` segments) and which metric. The benchmarks' tasks come from their loaders'
task lists (:func:`paper_tasks`); the analogues are defined here. ``PAPER_TABLES`` lays
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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from physiofm.evaluation.tasks import Task, tasks_from_info

ECG = ("ecg_ii", "ecg_v")
PPG = ("ppg",)
ALL = ("ecg_ii", "ecg_v", "ppg")
INPUTS = {"ecg": ECG, "ppg": PPG, "all": ALL}


def _t(id: str, kind: str, columns: tuple[str, ...], inputs: str, rows: str, **kw) -> Task:
    return Task(id, kind, columns, store="downstream", inputs=inputs, rows=rows, **kw)


# --------------------------------------------------------------------------------- built-in analogues
ANALOGUE_TASKS: dict[str, Task] = {t.id: t for t in [
    _t("ecg_dx", "multilabel", ("af", "conduction", "st_change", "v_rprime"), "ecg", "one",
       description="AF, conduction, ST-T change, V-lead R' (multi-label) from one 10-s ECG"),
    _t("v_rprime", "binary", ("v_rprime",), "ecg", "one",
       description="R' seen only in the V lead, one 10-s ECG"),
    _t("female", "binary", ("female",), "ecg", "one", description="sex from one 10-s ECG"),
    _t("af", "binary", ("af",), "ecg", "one", description="atrial fibrillation from one 10-s ECG"),
    _t("ecg_dx_rate", "multilabel", ("af", "conduction", "st_change", "v_rprime", "tachy", "brady"), "ecg",
       "one", description="the diagnostic set plus tachy- / bradycardia, one 10-s ECG"),
    _t("heart_rate", "regression", ("heart_rate",), "ppg", "segment",
       description="heart rate (bpm) of every 10-s PPG segment"),
    _t("heart_rate_one", "regression", ("heart_rate",), "ppg", "one",
       description="heart rate (bpm) of one 10-s PPG segment per subject"),
    _t("activity", "multiclass", ("activity_code",), "ppg", "segment",
       description="activity (5 classes) of every 10-s PPG segment"),
    _t("hypertensive_one", "binary", ("hypertensive",), "ppg", "one",
       description="hypertension (set by pulse-transit time) from one 10-s PPG segment"),
    _t("false_alarm", "binary", ("false_alarm",), "all", "segment", where="alarm != 'none'",
       description="false vs true VT alarm, alarm segments, three channels"),
    _t("female_subject", "binary", ("female",), "all", "subject",
       description="sex per subject, segments mean-pooled, three channels"),
    _t("older_subject", "binary", ("older",), "all", "subject",
       description="age >= 60 per subject, segments mean-pooled, three channels"),
]}

# ------------------------------------------------------------------------------- the paper's benchmarks
# Benchmark store -> (inputs, rows, {paper task: the loader's task}). App. C.3: a subject with several
# segments is one sample, the mean of its segment embeddings (PTB-XL patients, PPG-BP subjects, VitalDB
# cases; Chapman and Georgia records are their own subjects); PPG-DaLiA windows and VTaC alarm windows are
# samples themselves.
BENCHMARKS: dict[str, tuple[str, str, dict[str, str]]] = {
    "ptbxl": ("ecg", "subject", {"ptbxl_super5": "superdiagnostic", "ptbxl_sub23": "subdiagnostic",
                                 "ptbxl_sex": "sex"}),
    "chapman": ("ecg", "subject", {"chapman_rhythm": "rhythm", "chapman_sex": "sex"}),
    "georgia": ("ecg", "subject", {"georgia_dx": "diagnosis"}),
    "dalia": ("ppg", "segment", {"dalia_hr": "hr", "dalia_activity": "activity"}),
    "ppgbp": ("ppg", "subject", {"ppgbp_hr": "hr", "ppgbp_hypertension": "hypertension"}),
    "vtac": ("all", "segment", {"vtac": "false_alarm"}),
    "vitaldb_test": ("all", "subject", {"vitaldb_sex": "sex", "vitaldb_emergency": "emergency"}),
}


def paper_tasks(loader_tasks: Mapping[str, Mapping[str, dict]]) -> dict[str, Task]:
    """The paper's benchmark tasks from the loaders' task lists (store name -> ``info["tasks"]``), for the
    stores the data step built."""
    out = {}
    for tid, (store, name, inputs, rows) in PAPER_TASKS.items():
        if store in loader_tasks and name in loader_tasks[store]:
            task = tasks_from_info({name: loader_tasks[store][name]}, store, inputs=inputs, rows=rows)[name]
            out[tid] = task.but(id=tid)
    return out


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
# Tables 1 and 2 print no SleepFM 2mod row, but section 4.1 gives its PTB-XL super5 / sub23 AUROC and
# section 4.2 its PPG-DaLiA HR MAE, so it is probed in both tables' columns.
ROWS_ECG_TEXT = {**ROWS_ECG, "sleepfm_2mod": "sleepfm_2mod"}
ROWS_PPG_TEXT = {**ROWS_ECG_TEXT, "byol": "byol_ppg", "simclr": "simclr_ppg"}
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
               ROWS_PPG_TEXT),
    PaperTable("table_3", "Multi-channel benchmark AUROC under logistic regression probing",
               {"vtac": ("lr", "auroc", "false_alarm"), "vitaldb_sex": ("lr", "auroc", "female_subject"),
                "vitaldb_emergency": ("lr", "auroc", "older_subject")},
               ROWS_MULTI, only_three_channel=("vitaldb_sex", "vitaldb_emergency")),
]}

THREE_CHANNEL = ("syneco", "stack", "sleepfm_pair", "sleepfm_loo")

_BY_TASK = {tid: (store, name, inputs, rows)
            for store, (inputs, rows, names) in BENCHMARKS.items() for tid, name in names.items()}
#: Paper task -> (store, the loader's task, inputs, rows), in the column order of Tables 1-3.
PAPER_TASKS: dict[str, tuple[str, str, str, str]] = {
    tid: _BY_TASK[tid] for t in PAPER_TABLES.values() for tid in t.columns
}


def tasks_for(source: Literal["synthetic", "real"],
              loader_tasks: Mapping[str, Mapping[str, dict]] | None = None) -> dict[str, Task]:
    """The tasks that fill Tables 1-3 here: the analogues, or the benchmarks' (``loader_tasks``: store name ->
    the loader's ``info["tasks"]``, from :func:`physiofm.syneco.data.loader_tasks`)."""
    return dict(ANALOGUE_TASKS) if source == "synthetic" else paper_tasks(loader_tasks or {})


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
