"""Tables and figures of the AnyPPG notebooks (the notebooks only call these and show the result with
:func:`physiofm.figures.show`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from physiofm.anyppg.data import example_pairs
from physiofm.anyppg.evaluate import summarise_probes
from physiofm.anyppg.params import DataParams
from physiofm.anyppg.tasks import PRETRAIN_SOURCES, PROBE_TASKS
from physiofm.evaluation.tasks import label_table, task_rows, task_targets
from physiofm.figures import label_traces
from physiofm.store import SegmentStore

METHOD_LABELS = {"anyppg": "AnyPPG", "simclr": "SimCLR", "byol": "BYOL"}  # panel titles in figures


# ------------------------------------------------------------------------------------------ data tables
def paper_sources_table() -> pd.DataFrame:
    """Table 1 of the paper, pretraining part: subjects, segments, hours and Table 2's test pairs."""
    return pd.DataFrame([{"source": s.paper_name, "subjects": s.paper_subjects, "segments": s.paper_segments,
                          "hours": s.paper_hours, "test pairs (Table 2)": s.paper_test_samples}
                         for s in PRETRAIN_SOURCES]).set_index("source")


def sources_table(params: DataParams) -> pd.DataFrame:
    """The sources of this profile: what each is and whether it can be read."""
    rows = []
    for s in [*params.sources, *params.probe_sets]:
        role = "pretraining" if s in params.sources else "probing"
        if s.kind == "synthetic_icu":
            what = (f"icu_cohort(n_subjects={s.n_subjects}, seed={s.seed}, duration_s={s.duration_s:g}), "
                    f"artefact rates x{s.artefact_scale:g}, {s.mains_hz:g} Hz mains")
            status = "built in"
        elif s.kind == "registry":
            what = f"physiofm.datasets.load({s.dataset!r}, <data_root>/{s.subdir})"
            status = "read from --data-root"
        else:
            what, status = s.paper_name, f"cannot be loaded: {s.reason}"
        rows.append({"role": role, "name": s.name, "data": what, "status": status,
                     "note": getattr(s, "note", "")})
    return pd.DataFrame(rows).set_index(["role", "name"])


def preprocess_table(params: DataParams, paper: DataParams | None = None) -> pd.DataFrame:
    """The preprocessing settings of this profile (and of the paper profile beside them)."""
    def flat(p: DataParams) -> dict[str, str]:
        d = p.preprocess.model_dump()
        return {k: ", ".join(map(str, v)) if isinstance(v, list | tuple) else str(v) for k, v in d.items()}

    table = pd.DataFrame({"this profile": flat(params)})
    if paper is not None:
        table["paper profile"] = pd.Series(flat(paper))
    return table


def sqi_table(stores: Mapping[str, SegmentStore]) -> pd.DataFrame:
    """Kept segments per Zhao ECG-quality class and source (rejected classes no longer appear)."""
    counts = {n: s.index["ecg_sqi"].value_counts() for n, s in stores.items()}
    return pd.DataFrame(counts).fillna(0).astype(int)


def probe_set_summary(stores: Mapping[str, SegmentStore], tasks: Mapping[str, Sequence]) -> pd.DataFrame:
    """Per probe set and task: usable segments, subjects and the label's distribution."""
    rows = []
    for name, store in stores.items():
        labels = label_table(store.index)
        for spec in tasks[name]:
            task = spec.task(name)
            used = task_rows(labels, task)
            y, classes = task_targets(used, task)
            if task.kind == "regression":
                dist = f"mean {np.mean(y):.1f}, sd {np.std(y):.1f}" + (f" {task.unit}" if task.unit else "")
            else:
                counts = np.bincount(y, minlength=len(classes))
                dist = ", ".join(f"{c}: {n}" for c, n in zip(classes, counts, strict=True))
            rows.append({"probe set": name, "task": task.id, "type": task.kind, "segments": len(used),
                         "subjects": used["subject_id"].nunique(), "labels": dist})
    columns = ["probe set", "task", "type", "segments", "subjects", "labels"]  # also when no set is loadable
    return pd.DataFrame(rows, columns=columns).set_index(["probe set", "task"])


def paper_probe_tasks() -> pd.DataFrame:
    """Table 1 of the paper, evaluation part (the eleven dataset-task pairs)."""
    return pd.DataFrame([{"dataset": t.paper_dataset, "task": t.paper_task, "type": t.kind,
                          "subjects": t.paper_subjects if t.paper_subjects is not None else "N/A",
                          "segments": t.paper_segments} for t in PROBE_TASKS])


# -------------------------------------------------------------------------------------------- figures
def plot_examples(stores: Mapping[str, SegmentStore], n: int, seed: int, fs: float) -> plt.Figure:
    """``n`` preprocessed (PPG, ECG) pairs per source, on one time axis (z-scored units)."""
    fig, axes = plt.subplots(len(stores) * n, 1, figsize=(10, 1.7 * len(stores) * n), sharex=True,
                             squeeze=False)
    titles = []
    for i, (name, store) in enumerate(stores.items()):
        arrays, index = example_pairs(store, n, seed)
        for j in range(len(index)):
            ax = axes[i * n + j, 0]
            t = np.arange(arrays["ppg"].shape[-1]) / fs
            ax.plot(t, arrays["ecg"][j, 0], lw=0.6, color="tab:red", label="ECG (lead II)")
            ax.plot(t, arrays["ppg"][j, 0] - 4, lw=0.8, color="tab:blue", label="PPG (offset -4)")
            row = index.iloc[j]
            titles.append(f"{name} · {row['subject_id']} · t = {row['offset_s']:.0f} s · "
                          f"ECG SQI {row.get('ecg_sqi', '')}")
    return label_traces(fig, titles)


def plot_clip_state(curves: pd.DataFrame) -> plt.Figure:
    """AnyPPG's learnable temperature and in-batch PPG->ECG top-1 accuracy over training."""
    c = curves[curves["method"] == "anyppg"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3))
    a.plot(c["step"], c["temperature"])
    a.set_title("temperature tau = 1 / logit scale")
    a.set_xlabel("step")
    b.plot(c["step"], c["batch_top1"])
    b.set_title("in-batch PPG->ECG top-1 (training batches)")
    b.set_xlabel("step")
    fig.tight_layout()
    return fig


def plot_similarity(query: np.ndarray, gallery: np.ndarray, n: int, title: str) -> plt.Figure:
    """Cosine similarities of the first ``n`` PPG queries to the first ``n`` ECG gallery items."""
    q, g = query[:n], gallery[:n]
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    g = g / np.linalg.norm(g, axis=1, keepdims=True)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    im = ax.imshow(q @ g.T, cmap="viridis")
    ax.set_xlabel("ECG gallery item")
    ax.set_ylabel("PPG query")
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def plot_probe_bars(results: pd.DataFrame) -> plt.Figure:
    """Figure 1's layout: per task the primary metric (MAE or AUC) of each method, mean +- std over folds."""
    s = summarise_probes(results)
    kinds = results.drop_duplicates("task").set_index("task")["kind"]
    tasks = list(dict.fromkeys(s["task"]))
    cols = min(4, len(tasks))
    rows = -(-len(tasks) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.8 * cols, 3.0 * rows), squeeze=False)
    for ax in axes.flat[len(tasks):]:
        ax.axis("off")
    for ax, task in zip(axes.flat, tasks):
        metric = "MAE" if kinds[task] == "regression" else "AUC"
        d = s[(s["task"] == task) & (s["metric"] == metric)]
        ax.bar(range(len(d)), d["mean"], yerr=d["std"].fillna(0), color=plt.cm.tab10(np.arange(len(d))))
        ax.set_xticks(range(len(d)), d["method"], rotation=60, fontsize=7)
        ax.set_title(f"{task} ({metric})", fontsize=8)
        if metric == "AUC":
            ax.set_ylim(0.4, 1.0)
    fig.tight_layout()
    return fig
