"""hybrid_ecg's evaluations, composed from the engine: which encoders, which rows, which seeds.

* Linear probes (the grid, Table 1): frozen mean-pooled ViT-1D embeddings of every downstream record
  (:func:`physiofm.embeddings.embed_runs`, cached by checkpoint), a linear head per task trained on the
  training share and stopped early on the validation share, scored on the test folds
  (:func:`physiofm.evaluation.protocol.holdout_probes` on the dataset's three-way ``split``), one result per
  probe seed.
* Fine-tuning (Tables 3-5): encoder + linear head trained end to end
  (:func:`physiofm.finetune.finetune_segments`) from a pretrained encoder (CL / GL / HL), a freshly
  initialised ViT-1D (SL ViT) or 1-D ResNet-50 (SL ResNet); one sigmoid output per task (Tables 3 and 5:
  the four tasks at once; Table 4: one disease per model, as its training sets differ per disease); one
  run per seed.
* Risk decomposition (Table 2): :func:`physiofm.evaluation.risk.risk_errors` on the linear-probe features
  of the selected models, with the supervised ViT of the same architecture as the approximation reference.

Every result is a tidy row (method, task, probe, metric, seed, value, ...), criteria included (the sum of
the eight AUROCs and AUPRCs of one model and seed, task ``all``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from physiofm.embeddings import embed_runs
from physiofm.evaluation.metrics import auprc, auroc
from physiofm.evaluation.protocol import holdout_probes
from physiofm.evaluation.results import results_frame
from physiofm.evaluation.risk import prediction_errors, risk_decomposition, risk_errors
from physiofm.evaluation.subsample import label_fraction_indices, low_incidence_indices
from physiofm.evaluation.tasks import Task
from physiofm.finetune import finetune_segments
from physiofm.hybrid_ecg.data import GROUP
from physiofm.hybrid_ecg.grid import Config
from physiofm.hybrid_ecg.params import FinetuneSection, LinearProbeSection
from physiofm.io import read_arrays, read_json
from physiofm.models import build_backbone
from physiofm.parallel import parallel_map
from physiofm.runtime import resolve_device
from physiofm.sections import MethodChoice, ResNet1DSection, TaskSection, ViT1DSection
from physiofm.store import SegmentDataset, SegmentStore
from physiofm.training import TrainConfig
from physiofm.training.run import checkpoint, load_method

METHOD_LABELS = {"cl": "CL", "gl": "GL", "hl": "HL", "sl": "SL", "sl_resnet50": "SL ResNet-50"}
METRICS = ("auroc", "auprc")


def label(name: str) -> str:
    """A run's name as the tables print it: ``hl`` -> HL, ``random_60_2_64`` -> Random init 60/2/64."""
    if name in METHOD_LABELS:
        return METHOD_LABELS[name]
    for prefix, text in (("random_", "Random init "), ("sl_vit_", "SL ViT ")):
        if name.startswith(prefix):
            return text + name.removeprefix(prefix).replace("_", "/")
    return name


def tasks(shared, store: str) -> list[Task]:
    """The four binary tasks (MI, STTC, CD, HYP) on the downstream store, read from the ``ecg`` group."""
    return [t.task(store).but(inputs=GROUP) for t in shared.tasks]


def task_columns(task_sections: Sequence[TaskSection]) -> list[str]:
    return [t.target for t in task_sections]


# -------------------------------------------------------------------------------------- encoders
@dataclass(frozen=True)
class Run:
    """An encoder to evaluate: a pretrained run's checkpoint, or (``checkpoint`` None) the same model
    untrained, initialised with the evaluation seed."""

    name: str
    choice: MethodChoice
    encoder: ViT1DSection
    checkpoint: Path | None


def arch_name(config: Config | Sequence[int]) -> str:
    values = (config.patch, config.depth, config.width) if isinstance(config, Config) else tuple(config)
    return "_".join(str(v) for v in values)


def selected_runs(grid_dir: Path, pretrain_dir: Path, methods: Mapping[str, MethodChoice],
                  base: ViT1DSection, seed: int, which: str = "best") -> dict[str, Run]:
    """Objective -> its selected run (``grid/selection.json``): the grid run, or the run the grid step
    trained when the pick was not in the design."""
    out = {}
    for m, s in read_json(Path(grid_dir) / "selection.json").items():
        folder = Path(grid_dir) / "runs" if s["trained_by"] == "grid" else Path(pretrain_dir)
        enc = base.model_copy(update={"patch_size": s["patch"], "depth": s["depth"], "width": s["width"]})
        out[m] = Run(m, methods[m], enc, checkpoint(folder, s["run"], seed, which))
    return out


def random_runs(selected: Mapping[str, Run]) -> dict[str, Run]:
    """The random-init encoders of Table 1: one per distinct selected architecture (untrained ViT-1D)."""
    out = {}
    for run in selected.values():
        e = run.encoder
        out[f"random_{arch_name((e.patch_size, e.depth, e.width))}"] = dataclasses.replace(
            run, name="random", checkpoint=None)
    return out


# -------------------------------------------------------------------------------------- linear probes
def embed(runs: Mapping[str, Run], seeds: Sequence[int], store_name: str, store: SegmentStore, cache: Path,
          batch_size: int, workers: int = 1,
          device: str = "cpu") -> dict[str, dict[int, dict[str, np.ndarray]]]:
    """Run name -> seed -> {"in:ecg": (N, D)} mean-pooled token embeddings of every downstream record (a
    pretrained run serves every seed; an untrained one is initialised with each seed)."""
    jobs = {name: {s: (r.choice, r.encoder, r.checkpoint, s) for s in seeds} for name, r in runs.items()}
    data = SegmentDataset({store_name: store}, groups=[GROUP])
    return embed_runs(jobs, data, cache, batch_size=batch_size, inputs={GROUP: (GROUP,)}, workers=workers,
                      device=device)


def linear_probes(embeddings: Mapping[str, Mapping], labels: pd.DataFrame, task_list: Sequence[Task],
                  probe: LinearProbeSection, seeds: Sequence[int], workers: int = 1) -> pd.DataFrame:
    """Every (run, task) linear probe for every seed, with each run's criteria (task ``all``)."""
    jobs = [(m, t) for m in embeddings for t in task_list]
    res = holdout_probes(embeddings, labels, jobs, seeds=seeds, workers=workers, probes=["fc"],
                         test_fraction=0.1, max_segments=None, probe_kwargs=probe.probe_kwargs(),
                         validation="split")
    return with_criteria(res.assign(probe="linear"))


def with_criteria(results: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """``results`` plus one ``criteria`` row per (method, probe, seed, *by): the sum of its tasks' AUROCs and
    AUPRCs (hybrid_ecg's criteria, max 8 for four tasks); NaN when a metric is missing."""
    keys = ["method", "probe", "seed", *by]
    part = results[results["metric"].isin(METRICS)]
    n_tasks = part.groupby(keys, dropna=False)["task"].nunique()
    if by:  # the tasks a (setting, level) ran: Table 4 may run fewer diseases than Table 5
        n_tasks = n_tasks.groupby(level=list(by), dropna=False).transform("max")
    else:
        n_tasks = n_tasks.max()
    total = part.groupby(keys, dropna=False)["value"].agg(lambda v: v.sum() if v.notna().all() else np.nan)
    count = part.groupby(keys, dropna=False)["value"].size()
    crit = total.where(count == 2 * n_tasks).rename("value").reset_index()
    crit = crit.assign(task="all", metric="criteria")
    return results_frame(pd.concat([results, crit], ignore_index=True))


# ---------------------------------------------------------------------------------------- fine-tuning
@dataclass(frozen=True)
class FinetuneJob:
    """One fine-tuning run: the model it starts from (a pretrained or random :class:`Run`, or a backbone
    section trained from scratch), the label columns, the store rows per split, and tags for its results."""

    name: str
    seed: int
    start: Run | ViT1DSection | ResNet1DSection
    columns: tuple[str, ...]
    rows: Mapping[str, np.ndarray]  # split -> store rows (train, val, test)
    out_dir: Path
    tags: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    predict_train: bool = False  # also score the training rows (the SL ViTs: risk's approximation error)


def start_encoder(start: Run | ViT1DSection | ResNet1DSection, seed: int) -> nn.Module:
    """The encoder a fine-tuning run trains: a run's ViT-1D (pretrained weights, or initialised with
    ``seed``), or a fresh backbone of a section initialised with ``seed``."""
    if isinstance(start, Run):
        return load_method(start.choice, start.encoder, start.checkpoint, seed=seed).encoder.train()
    torch.manual_seed(seed)
    return build_backbone(start.spec())


def train_config(p: FinetuneSection, seed: int, device: str) -> TrainConfig:
    return TrainConfig(optimizer="adamw", lr=p.lr, weight_decay=p.weight_decay, betas=p.betas,
                       schedule="cosine", warmup_steps=p.warmup_steps, max_steps=p.max_steps,
                       val_every=p.val_every, patience=p.patience, log_every=p.val_every, seed=seed,
                       device=device, progress=False)


def task_scores(scores: np.ndarray, y: np.ndarray, columns: Sequence[str],
                names: Mapping[str, str]) -> list[dict[str, Any]]:
    """AUROC and AUPRC of each column of (N, K) ``scores`` against (N, K) 0 / 1 ``y``."""
    rows = []
    for k, c in enumerate(columns):
        both = 0 < y[:, k].sum() < len(y)
        for metric, fn in (("auroc", auroc), ("auprc", auprc)):
            rows.append({"task": names.get(c, c), "metric": metric,
                         "value": float(fn(y[:, k], scores[:, k])) if both else np.nan})
    return rows


def _finetune_job(job: FinetuneJob, p: FinetuneSection, store_name: str, store: SegmentStore,
                  labels: pd.DataFrame, names: Mapping[str, str], device: str) -> pd.DataFrame:
    rows = {split: {store_name: r} for split, r in job.rows.items()}
    scores, _ = finetune_segments(start_encoder(job.start, job.seed), {store_name: store}, GROUP,
                                  job.columns, rows, train_config(p, job.seed, device), job.out_dir,
                                  batch_size=p.batch_size, head_lr=p.head_lr,
                                  predict_splits=("train", "test") if job.predict_train else ("test",))
    y = labels.set_index("row").loc[job.rows["test"], list(job.columns)].to_numpy(float)
    out = task_scores(scores["test"], y, job.columns, names)
    return pd.DataFrame(out).assign(method=job.name, probe="finetune", seed=job.seed,
                                    n_train=len(job.rows["train"]), **dict(job.tags))


def finetune_all(jobs: Iterable[FinetuneJob], p: FinetuneSection, store_name: str, store: SegmentStore,
                 labels: pd.DataFrame, task_sections: Sequence[TaskSection], device: str = "auto",
                 workers: int = 1, threads: int = 1, by: Sequence[str] = ()) -> pd.DataFrame:
    """Tidy test results of every fine-tuning job (runs whose folder holds their scores are read back), with
    each job's criteria; independent jobs over ``workers`` processes on the CPU."""
    device = str(resolve_device(device))
    names = {t.target: t.name for t in task_sections}
    items = [(j, p, store_name, store, labels, names, device) for j in jobs]
    parts = parallel_map(_finetune_job, items, workers if device == "cpu" else 1, threads, desc="finetune")
    res = results_frame(pd.concat(parts, ignore_index=True))
    return with_criteria(res, by)


def split_rows(labels: pd.DataFrame) -> dict[str, np.ndarray]:
    """Split name -> the store rows of the downstream label table's train / val / test records."""
    return {s: labels.loc[labels["split"] == s, "row"].to_numpy(np.int64) for s in ("train", "val", "test")}


def table3_jobs(selected: Mapping[str, Run], resnet: ResNet1DSection, labels: pd.DataFrame,
                task_sections: Sequence[TaskSection], seeds: Sequence[int], out: Path) -> list[FinetuneJob]:
    """Table 3: every selected SSL model, a supervised ViT of each distinct selected architecture and the
    1-D ResNet-50, on all four tasks, once per seed."""
    rows, cols = split_rows(labels), tuple(task_columns(task_sections))
    starts: dict[str, Run | ViT1DSection | ResNet1DSection] = dict(selected)
    for run in selected.values():
        e = run.encoder
        starts[f"sl_vit_{arch_name((e.patch_size, e.depth, e.width))}"] = e
    starts["sl_resnet50"] = resnet
    return [FinetuneJob(name, s, start, cols, rows, Path(out) / name / f"seed{s}",
                        predict_train=name.startswith("sl_vit_"))
            for s in seeds for name, start in starts.items()]


def scarcity_jobs(selected: Mapping[str, Run], sl: ViT1DSection, labels: pd.DataFrame,
                  task_sections: Sequence[TaskSection], seeds: Sequence[int], case_ratios: Sequence[float],
                  n_total: int, fractions: Sequence[float], out: Path,
                  case_ratio_tasks: Sequence[str] | None = None) -> list[FinetuneJob]:
    """Table 4 (per disease: ``n_total`` training records, a ``case_ratio`` share of them cases; validation
    and test at the natural prevalence) and Table 5 (a stratified ``fraction`` of the training records, all
    four tasks) for SL (a ViT of ``sl``'s architecture) and the selected CL, GL and HL models; Table 4 for
    the diseases named in ``case_ratio_tasks`` only when given."""
    names = [t.name for t in task_sections]
    unknown = sorted(set(case_ratio_tasks or ()) - set(names))
    if unknown:
        raise KeyError(f"scarcity.case_ratio_tasks: unknown task(s) {unknown} (tasks: {names})")
    by_case = [t for t in task_sections if case_ratio_tasks is None or t.name in case_ratio_tasks]
    rows = split_rows(labels)
    train = labels.set_index("row").loc[rows["train"]]
    cols = tuple(task_columns(task_sections))
    starts: dict[str, Run | ViT1DSection] = {"sl": sl, **selected}
    jobs = []
    for s in seeds:
        for t in by_case:
            for r in case_ratios:
                keep = rows["train"][low_incidence_indices(train[t.target].to_numpy(), r, n_total, s)]
                for name, start in starts.items():
                    jobs.append(FinetuneJob(name, s, start, (t.target,), {**rows, "train": keep},
                                            Path(out) / "case_ratio" / f"{r:g}" / t.name / name
                                            / f"seed{s}", {"setting": "case_ratio", "level": r}))
        for f in fractions:
            keep = rows["train"][label_fraction_indices(train[list(cols)].to_numpy(), f, s)]
            for name, start in starts.items():
                jobs.append(FinetuneJob(name, s, start, cols, {**rows, "train": keep},
                                        Path(out) / "label_fraction" / f"{f:g}" / name / f"seed{s}",
                                        {"setting": "label_fraction", "level": f}))
    return jobs


# -------------------------------------------------------------------------------------- risk
def supervised_train_scores(finetune_dir: Path, name: str, seed: int) -> np.ndarray:
    """(N_train, 4) scores of a Table 3 fine-tuning run on its own training rows."""
    path = Path(finetune_dir) / "runs" / name / f"seed{seed}" / "scores.npz"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no scores of {name!r} seed {seed}; run the finetune step first")
    return read_arrays(path)["train"]


def risk_results(embeddings: Mapping[str, Mapping[int, Mapping[str, np.ndarray]]],
                 selected: Mapping[str, Run], labels: pd.DataFrame, task_sections: Sequence[TaskSection],
                 finetune_dir: Path, seeds: Sequence[int], probe: str = "lr",
                 probe_kwargs: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Risk decomposition of each selected model's linear probe per task, seed and error kind.

    Tr = the training share, Te = the test folds; the approximation error is the training error of the SL
    ViT of the model's architecture, fine-tuned on Tr in the finetune step with the same seed;
    ``probe_kwargs`` go to the probe (e.g. ``max_iter`` of the logistic regression). Rows:
    method, task, probe, metric (= component), seed, value, error (``zero_one`` or ``one_minus_auroc``).
    """
    rows = split_rows(labels)
    by_row = labels.set_index("row")
    out = []
    for m, run in selected.items():
        e = run.encoder
        sl = f"sl_vit_{arch_name((e.patch_size, e.depth, e.width))}"
        for s in seeds:
            X = embeddings[m][s][f"in:{GROUP}"]
            sup = supervised_train_scores(finetune_dir, sl, s)
            for k, t in enumerate(task_sections):
                y_tr = by_row.loc[rows["train"], t.target].to_numpy(int)
                y_te = by_row.loc[rows["test"], t.target].to_numpy(int)
                errors = risk_errors(X[rows["train"]], y_tr, X[rows["test"]], y_te,
                                     prediction_errors(y_tr, sup[:, k]), probe=probe, seed=s,
                                     **(probe_kwargs or {}))
                for kind, measured in errors.items():
                    for component, v in risk_decomposition(**measured).items():
                        out.append({"method": m, "task": t.name, "probe": probe, "metric": component,
                                    "seed": s, "value": v, "error": kind})
    return results_frame(out)
