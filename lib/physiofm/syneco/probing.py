"""The SyneCo study's probe step (section 3, App. C.3) on the engine: which runs embed which stores, which
(method, task) pairs fill Tables 1-3, and the protocol :func:`physiofm.evaluation.protocol.holdout_probe`.

1. Every pretrained run encodes every downstream segment once (:func:`physiofm.embeddings.embed_runs`,
   cached under the checkpoint's hash): the representation the paper probes for each input set ("ecg",
   "ppg", "all"; the fused embedding for SyneCo / SyneCo 2mod / Stack, the concatenation of the channels
   for SleepFM / SimCLR / BYOL) and each channel's own embedding (``ch:<channel>``).
2. Every (method, task) cell of Tables 1-3 is probed with FC / LR / RF for every seed.

Seeds: probe seed s reads the run pretrained with seed s when there is one (the paper profile pretrains with
0 / 42 / 1234), else the first pretraining seed (the demo pretrains once). The paper reports SyneCo 2mod and
SleepFM 2mod on PPG benchmarks without saying how an ECG-only model reads PPG; here the PPG segment,
linearly resampled to the ECG length, goes through their ECG-II encoder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from physiofm.config import StepContext
from physiofm.embeddings import embed_runs
from physiofm.evaluation import write_results
from physiofm.evaluation.protocol import holdout_probes
from physiofm.evaluation.tasks import Task
from physiofm.io import read_json
from physiofm.runtime import resolve_device
from physiofm.store import SegmentDataset, SegmentStore
from physiofm.syneco import data
from physiofm.syneco.tasks import INPUTS, PAPER_TABLES, THREE_CHANNEL, column_task, tasks_for
from physiofm.training.run import checkpoint

RANDOM_INIT = "random_init"  # an untrained SyneCo model: what the architecture gives without pretraining
REFERENCE_OF = {RANDOM_INIT: "syneco"}


@dataclass
class ProbeSetup:
    """What the probe step reads: the data step's source and downstream stores, the tasks, the runs."""

    source: str
    downstream: dict[str, tuple[SegmentStore, pd.DataFrame]]
    tasks: dict[str, Task]
    methods: list[str]
    ecg_len: int

    @classmethod
    def open(cls, ctx: StepContext) -> ProbeSetup:
        data_dir = ctx.input("data")
        source = read_json(data_dir / "info.json")["source"]
        methods = list(ctx.shared.methods) + ([RANDOM_INIT] if ctx.params.random_init_reference else [])
        return cls(source, data.open_downstream(data_dir), tasks_for(source, data.loader_tasks(data_dir)),
                   methods, data.ecg_length(data_dir))

    def summary(self) -> str:
        return f"source {self.source}; downstream stores {list(self.downstream)}; methods {self.methods}"


def seed_runs(probe_seeds: Sequence[int], pretrain_seeds: Sequence[int]) -> dict[int, int]:
    """Probe seed -> the pretraining seed of the run it reads."""
    return {s: s if s in pretrain_seeds else pretrain_seeds[0] for s in probe_seeds}


def run_jobs(ctx: StepContext, methods: Sequence[str]) -> dict[str, dict[int, tuple]]:
    """:func:`physiofm.embeddings.embed_runs` jobs: each method's best checkpoint per probe seed (the
    untrained
    reference: its architecture initialised with that seed)."""
    shared, pretrain_dir = ctx.shared, ctx.input("pretrain")
    runs = seed_runs(shared.probe_seeds, ctx.step_params("pretrain").seeds)
    jobs = {}
    for m in methods:
        choice = shared.methods[REFERENCE_OF.get(m, m)]
        ckpt = {r: None if m in REFERENCE_OF else checkpoint(pretrain_dir, m, r) for r in set(runs.values())}
        jobs[m] = {s: (choice, shared.encoder, ckpt[r], r) for s, r in runs.items()}
    return jobs


def embed_all(ctx: StepContext, setup: ProbeSetup) -> dict[str, dict[str, dict[int, dict]]]:
    """Store -> method -> probe seed -> representations (``in:<set>``, ``ch:<channel>``), cached in
    ``<out>/embeddings/<store>/``."""
    jobs = run_jobs(ctx, setup.methods)
    device = resolve_device(ctx.shared.runtime.device)
    out = {}
    for name, (store, _) in setup.downstream.items():
        groups = [g for g in ("ecg_ii", "ecg_v", "ppg") if g in store.groups]
        out[name] = embed_runs(jobs, SegmentDataset(store, groups=groups), ctx.out / "embeddings" / name,
                               batch_size=ctx.params.embed_batch_size, device=device, inputs=INPUTS,
                               stand_in={"ppg": ("ecg_ii", setup.ecg_len)},
                               workers=ctx.workers)
    return out


def embedding_dims(embeddings: Mapping[str, Mapping[int, Mapping]]) -> pd.DataFrame:
    """Width of every representation (rows) of every method (columns), first seed."""
    return pd.DataFrame({m: {k: v.shape[1] for k, v in next(iter(e.values())).items()}
                         for m, e in embeddings.items()})


def table_jobs(source: str, methods: Sequence[str], reference: bool) -> list[tuple[str, str]]:
    """(method, task id) pairs that fill Tables 1-3: each column's task for that table's method rows that
    were trained (plus the untrained reference when ``reference``), without duplicates."""
    jobs: dict[tuple[str, str], None] = {}
    for table in PAPER_TABLES.values():
        rows = [m for m in table.methods.values() if m in methods] + ([RANDOM_INIT] if reference else [])
        for paper_task in table.columns:
            task = column_task(table, paper_task, source)
            if task is None:
                continue
            for m in rows:
                if paper_task in table.only_three_channel and m not in (*THREE_CHANNEL, RANDOM_INIT):
                    continue
                jobs[(m, task)] = None
    return list(jobs)


def probe_all(ctx: StepContext, setup: ProbeSetup, embeddings: Mapping[str, Mapping]) -> pd.DataFrame:
    """Every (method, task) cell of Tables 1-3 for every probe and seed; writes ``results.parquet``."""
    p = ctx.params
    jobs = table_jobs(setup.source, ctx.shared.methods, p.random_init_reference)
    parts = []
    for name, (_, labels) in setup.downstream.items():
        here = [(m, setup.tasks[t]) for m, t in jobs if t in setup.tasks and setup.tasks[t].store == name]
        if here:
            parts.append(holdout_probes(embeddings[name], labels, here, probes=p.probes,
                                        seeds=ctx.shared.probe_seeds, test_fraction=p.test_fraction,
                                        max_segments=p.max_segments_per_subject,
                                        probe_kwargs=p.probe_options(),
                                        segment_rows=p.segment_rows_per_subject,
                                        workers=ctx.workers))
    results = pd.concat(parts, ignore_index=True)
    write_results(results, Path(ctx.out) / "results.parquet")
    return results


def task_table(tasks: Mapping[str, Task]) -> pd.DataFrame:
    """The tasks of this profile: kind, inputs, rows, store and label columns."""
    return pd.DataFrame([{"task": t.id, "kind": t.kind, "inputs": t.inputs, "rows": t.rows, "store": t.store,
                          "labels": ", ".join(t.columns)} for t in tasks.values()])


def summary(results: pd.DataFrame, probe: str) -> pd.DataFrame:
    """Mean over seeds of one probe's AUROC (MAE for regression): rows methods, columns tasks."""
    sel = results[(results["probe"] == probe) & results["metric"].isin(["auroc", "mae"])]
    return sel.groupby(["method", "task"])["value"].mean().unstack("task")
