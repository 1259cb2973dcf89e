"""MultiMAE's evaluation on the engine: which runs are embedded, probed and fine-tuned, and with what.

* Linear probes (§3.4, Tables 1-3, 5-7): every pretrained run embeds every labelled window once
  (:func:`physiofm.embeddings.embed_runs`, cached by checkpoint); the probe protocol
  (:func:`physiofm.evaluation.protocol.holdout_probe`) trains a linear head with class-weighted cross-entropy
  on ``patients`` training patients, stops it on the validation patients and scores the test patients.
* Scratch models (Table 1) and full fine-tuning (Table 4):
  :func:`physiofm.evaluation.finetuning.finetune_task`.
* The mask-probability sweep (Fig 3): pretraining runs with other mask ratios (:func:`physiofm.training.run.
  pretrain`), each scored on sleep staging of the validation patients.

Results are tidy rows (method, task, probe, metric, seed, value, patients, ...); probe is the linear probe's
kind ("fc" or "lr"), "scratch" or "finetune". Seeds: probe (or fine-tuning) seed s reads the run pretrained
with seed s when the profile pretrained one (the paper profile: 5 seeds), else the first pretraining seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from physiofm.config import StepContext
from physiofm.embeddings import embed_runs
from physiofm.evaluation import results_frame, write_results
from physiofm.evaluation.finetuning import finetune_tasks
from physiofm.evaluation.metrics import multimae_aggregate
from physiofm.evaluation.protocol import holdout_probe
from physiofm.models import overall_mask_ratio
from physiofm.multimae import data
from physiofm.multimae.tasks import CHANCE, MODALITIES, TASKS, scratch_inputs, scratch_name
from physiofm.parallel import parallel_map
from physiofm.runtime import resolve_device
from physiofm.sections import MethodChoice
from physiofm.store import SegmentDataset
from physiofm.training.run import RunData, checkpoint, pretrain

METRICS = ("balanced_accuracy", "kappa", "auroc", "f1", "accuracy")
INPUTS = {"all": MODALITIES}
LINEAR = ("fc", "lr")


def seed_runs(seeds: Sequence[int], pretrain_seeds: Sequence[int]) -> dict[int, int]:
    """Probe / fine-tuning seed -> the pretraining seed of the run it reads."""
    return {s: s if s in pretrain_seeds else pretrain_seeds[0] for s in seeds}


def run_jobs(ctx: StepContext, names: Sequence[str], seeds: Sequence[int],
             pretrain_dir: Path | None = None) -> dict[str, dict[int, tuple]]:
    """:func:`physiofm.embeddings.embed_runs` jobs: each run's checkpoint (best, or last where
    ``shared.checkpoints`` says so) per seed."""
    pretrain_dir = pretrain_dir or ctx.input("pretrain")
    runs = seed_runs(seeds, ctx.step_params("pretrain").seeds)
    return {n: {s: (ctx.shared.methods[n], ctx.shared.encoder,
                    checkpoint(pretrain_dir, n, r, ctx.shared.checkpoint_of(n)), r) for s, r in runs.items()}
            for n in names}


def labelled_rows(labels: pd.DataFrame) -> pd.DataFrame:
    """The windows of labelled patients (every task reads only these), in store order."""
    return labels[labels["labelled"]].sort_values("row")


def embed(ctx: StepContext, jobs: Mapping[str, Mapping[int, tuple]], labels: pd.DataFrame,
          cache: Path) -> dict[str, dict[int, dict[str, np.ndarray]]]:
    """Run -> seed -> {"in:all": (N, D), ...} over the labelled windows (rows of ``labelled_rows``)."""
    rows = labelled_rows(labels)["row"].to_numpy()
    dataset = SegmentDataset(data.open_store(ctx.input("data")), rows, groups=list(MODALITIES))
    return embed_runs(jobs, dataset, cache, batch_size=ctx.params.embed_batch_size,
                      device=resolve_device(ctx.shared.runtime.device), inputs=INPUTS, workers=ctx.workers)


def probe_kwargs(head, probe: str, class_weighted: bool) -> dict[str, dict]:
    """Constructor options of the linear probe: the FC head's training settings, or scikit-learn's logistic
    regression; both class-weighted (w_c = n / (C n_c)) when asked."""
    if probe == "fc":
        return {"fc": {"class_weighted": class_weighted, **head.fc_options()}}
    return {"lr": {"class_weighted": class_weighted}}


def _probe_job(X, labels: pd.DataFrame, task: str, method: str, probe: str, patients: int,
               seeds: Sequence[int], kwargs: dict) -> pd.DataFrame:
    res = holdout_probe(X, labels, TASKS[task], method=method, probes=[probe], seeds=seeds, test_fraction=0.2,
                        max_segments=None, probe_kwargs=kwargs, metrics=METRICS, validation="split",
                        train_subjects=patients)
    return res.assign(patients=patients)


def probe(embeddings: Mapping[str, Mapping[int, Mapping[str, np.ndarray]]], labels: pd.DataFrame,
          tasks: Sequence[str], patients: Sequence[int], probe: str, kwargs: dict, workers: int = 1,
          methods: Sequence[str] | None = None) -> pd.DataFrame:
    """Every (run, task, patients) linear probe over every seed the embeddings hold."""
    rows = labelled_rows(labels).reset_index(drop=True)
    table = rows.assign(row=np.arange(len(rows)))  # embedding row i is labelled window i
    jobs = []
    for m in methods or list(embeddings):
        X = {s: e["in:all"] for s, e in embeddings[m].items()}
        jobs += [(X, table, t, m, probe, n, list(X), kwargs) for t in tasks for n in patients]
    parts = parallel_map(_probe_job, jobs, workers, desc="probe")
    return results_frame(pd.concat(parts, ignore_index=True))


def with_aggregate(results: pd.DataFrame) -> pd.DataFrame:
    """``results`` plus MultiMAE's aggregate score (task and metric "aggregate") of every (method, probe,
    patients, seed) that has the balanced accuracy of all three tasks: mean of (BA - chance) / chance."""
    ba = results[(results["metric"] == "balanced_accuracy") & results["task"].isin(list(CHANCE))]
    keys = ["method", "probe", "patients", "seed"]
    rows = []
    for key, g in ba.groupby(keys):
        scores = dict(zip(g["task"], g["value"]))
        if set(scores) == set(CHANCE):
            rows.append({**dict(zip(keys, key)), "task": "aggregate", "metric": "aggregate",
                         "value": multimae_aggregate(scores, CHANCE)})
    extra = pd.DataFrame(rows)
    out = pd.concat([results[results["task"] != "aggregate"], extra], ignore_index=True)
    return results_frame(out)


# ------------------------------------------------------------------------------------------ fine-tuning
def finetune_jobs(ctx: StepContext, labels: pd.DataFrame) -> list[tuple]:
    """Positional and keyword arguments of :func:`physiofm.evaluation.finetuning.finetune_task` for every
    scratch model (the MultiMAE model on "all" modalities or one, fresh weights) and every fine-tuned
    pretrained run, per task and seed."""
    p, shared = ctx.params, ctx.shared
    store = data.open_store(ctx.input("data"))
    runs = seed_runs(p.seeds, ctx.step_params("pretrain").seeds)
    base = shared.methods["multimae"].config
    models = [(scratch_name(m), scratch_choice_of(base, m),
               None, "scratch") for m in p.scratch]
    models += [(r, shared.methods[r], r, "finetune") for r in p.finetune]
    jobs = []
    for name, choice, run, kind in models:
        for task in p.tasks:
            for seed in p.seeds:
                ckpt = None if run is None else checkpoint(ctx.input("pretrain"), run, runs[seed],
                                                           shared.checkpoint_of(run))
                out = ctx.out / "runs" / name / task / f"seed{seed}"
                kw = {"train_subjects": p.patients, "class_weighted": p.class_weighted, "metrics": METRICS,
                      "head_lr": p.head_lr, "probe": kind,
                      "device": str(resolve_device(shared.runtime.device))}
                jobs.append((name, choice, shared.encoder, ckpt, store, labels, TASKS[task], p.train, out,
                             seed, kw))
    return jobs


def finetune_all(ctx: StepContext, labels: pd.DataFrame) -> pd.DataFrame:
    """Every scratch and fine-tuning run (workers in parallel); ``results.parquet``."""
    results = finetune_tasks(finetune_jobs(ctx, labels), ctx.workers, ctx.worker_threads)
    results = with_aggregate(results.assign(patients=ctx.params.patients))
    write_results(results, ctx.out / "results.parquet")
    return results


def scratch_choice_of(base: Mapping, modalities: str) -> MethodChoice:
    """The MultiMAE model of the runs' ``base`` config on ``modalities`` ("all" or one), for training from
    scratch."""
    return MethodChoice(method="multimae", config={**base, "modalities": scratch_inputs(modalities)})


def scratch_dir(finetune_dir: Path, task: str = "sleep", seed: int = 0) -> Path:
    """The folder of the scratch model on all modalities for ``task`` (Fig 2A: trained on sleep staging)."""
    return Path(finetune_dir) / "runs" / scratch_name("all") / task / f"seed{seed}"


def scratch_choice(ctx: StepContext) -> MethodChoice:
    return scratch_choice_of(ctx.shared.methods["multimae"].config, "all")


# ------------------------------------------------------------------------------------------------ sweep
def sweep_runs(ctx: StepContext) -> dict[str, tuple[MethodChoice, float, str]]:
    """Run name -> (choice, the x value of Fig 3, panel) of every sweep point: MultiMAE at each mask ratio
    (A), MultiMAE + drop at each masking probability p of the other modalities (B; overall ratio
    1/M + (M-1)/M p, App C)."""
    shared, p = ctx.shared, ctx.params
    out = {}
    for r in p.mask_ratios:
        config = {**shared.methods["multimae"].config, "mask_ratio": r}
        choice = MethodChoice(method="multimae", config=config)
        out[f"sweep_multimae_{r:g}"] = (choice, r, "A: MultiMAE only")
    for q in p.drop_probabilities:
        ratio = round(overall_mask_ratio(q, len(MODALITIES)), 6)
        choice = MethodChoice(method="multimae_drop",
                              config={**shared.methods["multimae_drop"].config, "mask_ratio": ratio})
        out[f"sweep_multimae_drop_{q:g}"] = (choice, q, "B: MultiMAE + input modality drop")
    return out


def sweep_pretrain(ctx: StepContext) -> dict[str, Path]:
    """Pretrain every sweep point (seed: the study's); a point equal to a main run with the pretraining
    step's budget reads that run. Returns run name -> its checkpoint."""
    shared, p = ctx.shared, ctx.params
    run_data = RunData.open(ctx.input("data"))
    main_train = ctx.step_params("pretrain").train
    device = str(resolve_device(shared.runtime.device))
    mains = {c.model_dump_json(): n for n, c in shared.methods.items()}
    todo, found = [], {}
    for name, (choice, _, _) in sweep_runs(ctx).items():
        main = mains.get(choice.model_dump_json())
        if main is not None and p.train == main_train:
            found[name] = checkpoint(ctx.input("pretrain"), main, shared.seed, shared.checkpoint_of(main))
        else:
            todo.append((name, choice, shared.encoder, p.train, run_data, ctx.out / "runs", shared.seed,
                         device))
    parallel_map(pretrain, todo, ctx.workers, ctx.worker_threads, desc="sweep runs")
    for name, choice, *_ in todo:
        found[name] = checkpoint(ctx.out / "runs", name, shared.seed,
                                 "last" if choice.method == "multimae_drop" else "best")
    return found


def validation_labels(labels: pd.DataFrame) -> pd.DataFrame:
    """The label table with the validation patients as the scored split (Fig 3 scores validation accuracy;
    the test patients are left out)."""
    keep = labels[labels["split"] != "test"].copy()
    keep["split"] = keep["split"].replace({"val": "test"})
    return keep


def sweep_scores(ctx: StepContext, checkpoints: Mapping[str, Path], labels: pd.DataFrame) -> pd.DataFrame:
    """Sleep-staging accuracy and balanced accuracy on the validation patients of every sweep point, by a
    linear probe or full fine-tuning (``evaluation``), for every patients count and seed."""
    p, shared = ctx.params, ctx.shared
    runs = sweep_runs(ctx)
    val = validation_labels(labels)
    if p.evaluation == "probe":
        jobs = {n: {s: (runs[n][0], shared.encoder, ckpt, shared.seed) for s in p.seeds}
                for n, ckpt in checkpoints.items()}
        store = data.open_store(ctx.input("data"))
        rows = labelled_rows(val)["row"].to_numpy()
        emb = embed_runs(jobs, SegmentDataset(store, rows, groups=list(MODALITIES)), ctx.out / "embeddings",
                         batch_size=ctx.step_params("probing").embed_batch_size,
                         device=resolve_device(shared.runtime.device), inputs=INPUTS, workers=ctx.workers)
        kind = ctx.step_params("probing").probe
        res = probe(emb, val, ["sleep"], p.patients, kind, probe_kwargs(p.head, kind, True), ctx.workers)
    else:
        store = data.open_store(ctx.input("data"))
        jobs = [(n, runs[n][0], shared.encoder, ckpt, store, val, TASKS["sleep"], p.finetune,
                 ctx.out / "finetune" / n / f"p{k}" / f"seed{s}", s,
                 {"train_subjects": k, "metrics": ("accuracy", "balanced_accuracy"), "probe": "finetune"})
                for n, ckpt in checkpoints.items() for k in p.patients for s in p.seeds]
        res = finetune_tasks(jobs, ctx.workers, ctx.worker_threads)
        res = res.assign(patients=res["train_subjects"])
    info = pd.DataFrame([{"method": n, "x": x, "panel": panel} for n, (_, x, panel) in runs.items()])
    res = res.merge(info, on="method")
    write_results(res, ctx.out / "sweep.parquet")
    return res


# ----------------------------------------------------------------------------------------------- tables
def summary(results: pd.DataFrame, metric: str = "balanced_accuracy") -> pd.DataFrame:
    """Mean over seeds of one metric: rows (method, probe, patients), columns tasks."""
    sel = results[results["metric"] == metric]
    return sel.groupby(["method", "probe", "patients", "task"])["value"].mean().unstack("task")


def all_results(probing_dir: Path, finetune_dir: Path) -> pd.DataFrame:
    """The probing and the fine-tuning step's results in one table."""
    from physiofm.evaluation import read_results

    return results_frame(pd.concat([read_results(Path(probing_dir) / "results.parquet"),
                                    read_results(Path(finetune_dir) / "results.parquet")], ignore_index=True))
