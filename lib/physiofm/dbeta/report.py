"""Tables and figures of the D-BETA notebooks (the notebooks only call these and show the result with
:func:`physiofm.figures.show`). Published numbers come from ``params/published/dbeta.yaml``; ours from the
tidy results the evaluation steps write. Every published-beside-ours table has one row per (source, method):
"published" rows are the paper's, "this study" rows ours, in AUROC %.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml

from physiofm.dbeta.params import RANDOM_INIT, DataParams
from physiofm.dbeta.tasks import PAPER_TASKS, TABLE_4_COLUMNS
from physiofm.evaluation.published import load_published, published_path
from physiofm.figures import label_traces
from physiofm.store import SegmentStore

PUBLISHED = published_path("dbeta")
OURS, PAPER = "this study", "published"


def published_meta() -> dict:
    return yaml.safe_load(PUBLISHED.read_text())["meta"]


def method_label(name: str, runs: Mapping | None = None) -> str:
    """A readable name of a run or a published method."""
    labels = {"dbeta": "D-BETA", "no_n3s": "D-BETA w/o N3S", "no_ets_no_n3s": "D-BETA w/o ETS, N3S",
              RANDOM_INIT: "random init (untrained D-BETA)", "clip": "ECG-text CLIP", "merl": "MERL",
              "baseline_bert": "BERT, no ETS / N3S", "ets_siglip": "D-BETA, SigLIP-form ETS"}
    if name in labels:
        return labels[name]
    if name.startswith("layers_") and name[7:].isdigit():
        return f"D-BETA, {name[7:]}-layer ECG encoder"
    return published_meta()["method_labels"].get(name, name)


# ------------------------------------------------------------------------------------------ data tables
def sources_table(params: DataParams) -> pd.DataFrame:
    """The pretraining corpus and the downstream sets of this profile: what each is and which tasks."""
    rows = []
    for role, s in [("pretraining", params.pretrain)] + [("downstream", d) for d in params.downstream]:
        if s.kind == "synthetic_ecg12":
            what = (f"ecg12_cohort(n_subjects={s.n_subjects}, seed={s.seed}), {s.layout} label layout, "
                    f"noise x{s.noise_scale:g}")
        elif s.kind == "registry":
            what = f"physiofm.datasets.load({s.dataset!r}, <data_root>/{s.subdir}, {s.options})"
        else:
            what = f"{s.paper_name}: cannot be loaded ({s.reason})"
        tasks = ", ".join(PAPER_TASKS[t.key].label for t in getattr(s, "tasks", []))
        rows.append({"role": role, "name": s.name, "data": what, "paper tasks": tasks,
                     "note": getattr(s, "note", "")})
    return pd.DataFrame(rows).set_index(["role", "name"])


def plot_examples(store: SegmentStore, n: int, seed: int, fs: float) -> plt.Figure:
    """``n`` random records of the corpus: leads I, II and V2 (as the paper's Fig. 4) and the cleaned
    report."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(store), size=min(n, len(store)), replace=False))
    x = store.read(rows, ["ecg12"])["ecg12"]
    fig, axes = plt.subplots(len(rows), 1, figsize=(10, 1.9 * len(rows)), squeeze=False)
    t = np.arange(x.shape[-1]) / fs
    for ax, sig in zip(axes[:, 0], x, strict=True):
        for k, (lead, off) in enumerate((("I", 0), ("II", 1), ("V2", 7))):
            ax.plot(t, sig[off] - 2.5 * k, lw=0.6, label=lead)
    reports = [store.index["report"].iloc[i] for i in rows]
    return label_traces(fig, [r if len(r) < 110 else r[:107] + "..." for r in reports], legend_columns=3)


# -------------------------------------------------------------------------------------------- training
def loss_terms(curves: pd.DataFrame) -> pd.DataFrame:
    """The four loss terms and the accuracies, averaged over the last fifth of each run's training steps."""
    cols = [c for c in ("loss_mlm", "loss_mem", "loss_etm", "loss_ets", "etm_acc", "etm_acc_neg", "mlm_acc",
                        "batch_top1") if c in curves]
    last = curves.groupby("method", sort=False).apply(
        lambda c: c[c["step"] > 0.8 * c["step"].max()][cols].mean(), include_groups=False)
    last.index = [method_label(m) for m in last.index]
    return last.round(3)


def etm_plateaus(curves: pd.DataFrame, with_n3s: str, without_n3s: str) -> pd.DataFrame:
    """Claim C7: ETM accuracy on training batches, averaged over the last fifth of training, with and
    without N3S (the paper: > 96 % and about 75 %)."""
    out = {}
    for name in (with_n3s, without_n3s):
        c = curves[curves["method"] == name]
        if len(c) and "etm_acc" in c:
            late = c[c["step"] > 0.8 * c["step"].max()]
            out[method_label(name)] = {"ETM accuracy (%)": 100 * late["etm_acc"].mean(),
                                       "on the negatives (%)": 100 * late["etm_acc_neg"].mean()}
    return pd.DataFrame(out).T.round(1)


def plot_etm(curves: pd.DataFrame, runs: Sequence[str]) -> plt.Figure:
    """ETM accuracy per logging window (training batches) of ``runs`` against the step (claim C7)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    for name in runs:
        c = curves[curves["method"] == name]
        if len(c) and "etm_acc" in c:
            ax.plot(c["step"], 100 * c["etm_acc"], lw=1.2, label=method_label(name))
    ax.axhline(96, color="grey", ls=":", lw=1)
    ax.axhline(75, color="grey", ls="--", lw=1)
    ax.text(ax.get_xlim()[0], 96.5, "paper, with N3S: > 96 %", fontsize=7, color="grey")
    ax.text(ax.get_xlim()[0], 75.5, "paper, without N3S: ~75 %", fontsize=7, color="grey")
    ax.set_xlabel("step")
    ax.set_ylabel("ETM accuracy (%)")
    ax.set_ylim(0, 102)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_ets(curves: pd.DataFrame, runs: Sequence[str], batch_size: int, negative_share: float) -> plt.Figure:
    """ETS loss per logging window of ``runs`` against the step, with Eq. 4's constant-logit floor
    (:func:`physiofm.objectives.ets_floor`) for the batch's expected matching pairs."""
    from physiofm.objectives import ets_floor

    positives = batch_size - int(negative_share * batch_size + 0.5)
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    for name in runs:
        c = curves[curves["method"] == name]
        if len(c) and "loss_ets" in c and c["loss_ets"].notna().any():
            ax.plot(c["step"], c["loss_ets"], lw=1.2, label=method_label(name))
    floor = ets_floor(batch_size, positives)
    ax.axhline(floor, color="grey", ls=":", lw=1)
    ax.text(ax.get_xlim()[0], floor * 1.03, f"same logit for every pair: {floor:.2f}", fontsize=7,
            color="grey")
    ax.set_xlabel("step")
    ax.set_ylabel("ETS loss (Eq. 4)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def parameter_table(counts: Mapping[str, Mapping[str, int]]) -> pd.DataFrame:
    """Parameters per part of each run's model."""
    table = pd.DataFrame(counts).T.fillna(0).astype(int)
    table.index = [method_label(m) for m in table.index]
    return table


# --------------------------------------------------------------------------------- published vs ours
def _ours(results: pd.DataFrame, column: str, by: Sequence[str]) -> pd.DataFrame:
    """Mean (and ± sd over seeds) of ``value`` x 100 per method and ``by`` as strings, wide by ``column``."""
    g = results.groupby(["method", *by], sort=False)["value"]
    stats = pd.DataFrame({"mean": 100 * g.mean(), "sd": 100 * g.std(), "n": g.count()}).reset_index()
    stats["cell"] = [("–" if pd.isna(m) else f"{m:.2f}" if n < 2 or pd.isna(s) else f"{m:.2f} ± {s:.2f}")
                     for m, s, n in zip(stats["mean"], stats["sd"], stats["n"], strict=True)]
    return stats.pivot_table(index="method", columns=column, values="cell", aggfunc="first", sort=False)


def table_2(results: pd.DataFrame, keys: Sequence[str], methods: Sequence[str] = ("merl", "dbeta")
            ) -> pd.DataFrame:
    """Table 2 layout: macro AUROC (%) at each label fraction per task; the paper's rows, then ours."""
    pub = load_published(PUBLISHED, "table_2")
    pub = pub[pub["method"].isin(methods)]
    frac = {"lp_1": "1%", "lp_10": "10%", "lp_100": "100%"}
    pub = pub.assign(col=[(PAPER_TASKS[t].label, frac[m]) for t, m in zip(pub["task"], pub["metric"],
                                                                          strict=True)])
    paper = pub.pivot_table(index="method", columns="col", values="value", sort=False)
    paper = paper.map(lambda v: f"{v:.2f}")
    ours = results.assign(col=[(PAPER_TASKS[t].label, f"{100 * f:g}%") for t, f in
                               zip(results["task"], results["label_fraction"], strict=True)])
    mine = _ours(ours, "col", ["col"])
    cols = [(PAPER_TASKS[k].label, f) for k in keys for f in ("1%", "10%", "100%")]
    return _stack(paper, mine, cols)


def _stack(paper: pd.DataFrame, mine: pd.DataFrame, cols: Sequence) -> pd.DataFrame:
    paper = paper.reindex(columns=cols)
    mine = mine.reindex(columns=cols)
    paper.index = pd.MultiIndex.from_tuples([(PAPER, method_label(m)) for m in paper.index])
    mine.index = pd.MultiIndex.from_tuples([(OURS, method_label(m)) for m in mine.index])
    out = pd.concat([paper, mine]).fillna("not run")
    if isinstance(cols[0], tuple):
        out.columns = pd.MultiIndex.from_tuples(cols)
    return out


def table_3(results: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Table 3 layout: zero-shot AUROC (%) per task and the average over the tasks; the paper's printed
    average and the average of its printed row are both shown (77.1 vs 77.2 for D-BETA)."""
    pub = load_published(PUBLISHED, "table_3")
    paper = pub.pivot_table(index="method", columns="task", values="value", sort=False)
    tasks = list(PAPER_TASKS)
    recomputed = paper[tasks].mean(axis=1).map(lambda v: f"{v:.2f}")
    paper = paper.map(lambda v: f"{v:.1f}")  # as printed
    paper["average (recomputed)"] = recomputed
    per = results[results["task"].isin(keys)]
    mine = _ours(per, "task", ["task"])
    avg = per.groupby(["method", "seed"], sort=False)["value"].mean().groupby(level=0, sort=False)
    mine["average (recomputed)"] = [f"{100 * v:.2f}" for v in avg.mean().reindex(mine.index)]
    mine["average"] = mine["average (recomputed)"]
    cols = [k for k in tasks] + ["average", "average (recomputed)"]
    out = _stack(paper, mine, cols)
    out.columns = [PAPER_TASKS[c].label if c in PAPER_TASKS else c for c in out.columns]
    return out


def table_4(results: pd.DataFrame, methods: Sequence[str] | None = None) -> pd.DataFrame:
    """Table 4 layout: AUROC (%) source -> target; published rows (every method), then ours (linear probes
    on 100 % of the source, zero-shot models)."""
    pub = load_published(PUBLISHED, "table_4")
    if methods is not None:
        pub = pub[pub["method"].isin(methods)]
    paper = pub.pivot_table(index="method", columns="task", values="value", sort=False)
    paper = paper.map(lambda v: f"{v:.2f}")
    protocol = published_meta()["table_4_protocol"]
    paper.index = [f"{m} ({'zero-shot' if protocol[m] == 'zero_shot' else 'linear probe, 100 %'})"
                   for m in paper.index]
    mine = _ours(results.assign(method=[f"{m} ({'zero-shot' if p == 'zero_shot' else 'linear probe, 100 %'})"
                                        for m, p in zip(results["method"], results["probe"], strict=True)]),
                 "task", ["task"])
    out = _stack(paper, mine, list(TABLE_4_COLUMNS))
    out.index = pd.MultiIndex.from_tuples([(s, _label_with_protocol(m)) for s, m in out.index])
    out.columns = [" → ".join(PAPER_TASKS[t].label for t in c.split("_to_")) for c in out.columns]
    return out


def _label_with_protocol(text: str) -> str:
    name, _, rest = text.partition(" (")
    return f"{method_label(name)} ({rest}" if rest else method_label(name)


def ablation_scores(lp: pd.DataFrame, zs: pd.DataFrame, runs: Mapping[str, str | None]) -> pd.DataFrame:
    """Per variant (paper key -> run): mean and sd over the tasks of the 1 % linear probe and of zero-shot
    with raw category names (AUROC %), the paper's Table 6 / 8 columns."""
    rows = []
    for variant, run in runs.items():
        row = {"variant": variant, "run": run}
        for col, res in (("linear_probe", lp), ("zero_shot", zs)):
            per_task = res[res["method"] == run].groupby("task")["value"].mean() * 100 if run else pd.Series()
            row[col] = per_task.mean() if len(per_task) else np.nan
            row[f"{col}_sd"] = per_task.std() if len(per_task) > 1 else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def table_ablation(scores: pd.DataFrame, table: str) -> pd.DataFrame:
    """Table 6 or 8 layout: the paper's score ± sd per column beside ours (full fine-tuning is not run)."""
    pub = load_published(PUBLISHED, table)
    wide = pub.pivot_table(index=["method"], columns=["task", "metric"], values="value", sort=False)
    out = []
    for variant in wide.index:
        row = {"variant": variant}
        for col in ("full_finetune", "linear_probe", "zero_shot"):
            m, s = wide.loc[variant, (col, "score")], wide.loc[variant, (col, "score_sd")]
            row[(col, PAPER)] = "—" if pd.isna(m) else f"{m:.2f} ± {s:.2f}"
            mine = scores[scores["variant"] == variant]
            if col == "full_finetune" or mine.empty or mine["run"].isna().all():
                row[(col, OURS)] = "not run"
            else:
                v, sd = mine[col].iloc[0], mine[f"{col}_sd"].iloc[0]
                row[(col, OURS)] = _cell(v, sd)
        run = None if mine.empty else mine["run"].iloc[0]
        row["run"] = "" if run is None or pd.isna(run) else str(run)  # a None run reads back as NaN
        out.append(row)
    df = pd.DataFrame(out).set_index(["variant", "run"])
    df.columns = pd.MultiIndex.from_tuples(df.columns)
    return df


def plot_fractions(results: pd.DataFrame) -> plt.Figure:
    """Test macro AUROC (%) against the label fraction, one panel per task, one line per model."""
    tasks = list(dict.fromkeys(results["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(3.2 * len(tasks), 3.0), squeeze=False, sharey=True)
    for ax, t in zip(axes[0], tasks, strict=True):
        r = results[results["task"] == t]
        for m in dict.fromkeys(r["method"]):
            g = r[r["method"] == m].groupby("label_fraction")["value"].mean() * 100
            ax.plot(100 * g.index, g.to_numpy(), "o-", ms=3, label=method_label(m))
        ax.axhline(50, color="grey", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_title(PAPER_TASKS[t].label, fontsize=9)
        ax.set_xlabel("training labels (%)")
    axes[0, 0].set_ylabel("test macro AUROC (%)")
    axes[0, -1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def texts_table(descriptions: pd.DataFrame, names: pd.DataFrame) -> pd.DataFrame:
    """Zero-shot AUROC (%) per model with class descriptions and with raw names, mean over the tasks."""
    out = {}
    for label, res in (("descriptions", descriptions), ("category names", names)):
        per = res.groupby(["method", "task"], sort=False)["value"].mean().groupby(level=0, sort=False).mean()
        out[label] = 100 * per
    table = pd.DataFrame(out)
    table.index = [method_label(m) for m in table.index]
    return table.round(2)


def per_task_table(lp: pd.DataFrame, zs: pd.DataFrame) -> pd.DataFrame:
    """The ablation step's per-task AUROC (%): linear probe and zero-shot, one row per run."""
    frames = []
    for label, res in (("linear probe", lp), ("zero-shot (names)", zs)):
        wide = 100 * res.pivot_table(index="method", columns="task", values="value", aggfunc="mean",
                                     sort=False)
        wide.columns = pd.MultiIndex.from_tuples([(label, PAPER_TASKS[c].label) for c in wide.columns])
        frames.append(wide)
    table = pd.concat(frames, axis=1)
    table.index = [method_label(m) for m in table.index]
    return table.round(2)


def runs_table(lp: pd.DataFrame, zs: pd.DataFrame, runs: Sequence[str]) -> pd.DataFrame:
    """Mean ± sd over the tasks of the 1 % linear probe and the name-prompted zero-shot AUROC (%) per run."""
    scores = ablation_scores(lp, zs, {r: r for r in runs})
    cols = (("linear probe", "linear_probe"), ("zero-shot (names)", "zero_shot"))
    return pd.DataFrame({label: [_cell(m, s) for m, s in zip(scores[col], scores[f"{col}_sd"], strict=True)]
                         for label, col in cols}, index=[method_label(r) for r in runs])


def _cell(mean: float, sd: float) -> str:
    return "–" if pd.isna(mean) else (f"{mean:.2f}" if pd.isna(sd) else f"{mean:.2f} ± {sd:.2f}")


# ------------------------------------------------------------------------------------------- t-SNE
def plot_tsne(points: pd.DataFrame, title: str) -> plt.Figure:
    """One panel per method: the t-SNE plane of the selected test records, one colour per class."""
    if points.empty:
        fig, ax = plt.subplots(figsize=(6, 1.5))
        ax.text(0.5, 0.5, "too few single-label test records of classes above the threshold for a t-SNE",
                ha="center", va="center", fontsize=9)
        ax.axis("off")
        return fig
    methods = list(dict.fromkeys(points["method"]))
    classes = sorted(points["class"].unique())
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    fig, axes = plt.subplots(1, len(methods), figsize=(4.4 * len(methods), 4.2), squeeze=False)
    for ax, m in zip(axes[0], methods, strict=True):
        p = points[points["method"] == m]
        for k, c in enumerate(classes):
            q = p[p["class"] == c]
            ax.scatter(q["x"], q["y"], s=8, color=cmap(k % cmap.N), label=c, alpha=0.8)
        ax.set_title(method_label(m), fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, -1].legend(fontsize=7, markerscale=1.5, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def published_contradictions() -> pd.DataFrame:
    """The paper's own tables against its text (computed from the transcribed numbers)."""
    raw = yaml.safe_load(PUBLISHED.read_text())
    t3 = raw["table_3"]
    row = [t3[k]["dbeta"]["zs_auroc"] for k in PAPER_TASKS]
    t6 = {v: raw["table_6"][c][v]["score"] for c in ("full_finetune",) for v in raw["table_6"][c]}
    lp6 = {v: raw["table_6"]["linear_probe"][v]["score"] for v in raw["table_6"]["linear_probe"]}
    t4 = raw["table_4"]["ptbxl_super_to_csn"]
    t13 = raw["table_13"]["ptbxl_form"]
    said = {k: v["statement"] for k, v in raw["contradictions"].items()}
    return pd.DataFrame([
        {"where": "Table 4, PTBXL-Super → CSN", "text says": said["table_4_ptbxl_super_to_csn"],
         "the table shows": f"ST-MEM {t4['st_mem']['auroc']:.2f} > D-BETA {t4['dbeta']['auroc']:.2f}"},
        {"where": "Table 13, PTBXL-Form", "text says": said["table_13_ptbxl_form"],
         "the table shows": f"without MLM + MEM {t13['without_mlm_mem']['zs_auroc']:.1f} > with "
                            f"{t13['with_mlm_mem']['zs_auroc']:.1f}"},
        {"where": "Table 6, ETS",
         "text says": "ETS improves ~15% in both full fine-tuning and linear probing",
         "the table shows": f"linear probing {lp6['no_ets_no_n3s']:.2f} → {lp6['no_n3s']:.2f} "
                            f"(+{100 * (lp6['no_n3s'] / lp6['no_ets_no_n3s'] - 1):.1f} %), full fine-tuning "
                            f"{t6['no_ets_no_n3s']:.2f} → {t6['no_n3s']:.2f} "
                            f"(+{100 * (t6['no_n3s'] / t6['no_ets_no_n3s'] - 1):.1f} %)"},
        {"where": "Table 3, D-BETA average", "text says": said["table_3_average"],
         "the table shows": f"printed {t3['average']['dbeta']['zs_auroc']:.1f}, the row's mean "
                            f"{np.mean(row):.2f}"},
    ]).set_index("where")


def write_path(out: Path, name: str) -> Path:
    return Path(out) / "figures" / name
