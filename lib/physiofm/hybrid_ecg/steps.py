"""The hybrid_ecg notebooks' steps: each function reads a step's params and inputs and calls the engine.

One call per notebook cell: :func:`grid_runs` (the pretrain step's runs, optionally some objectives and
cases only), :func:`grid_probes` and :func:`select` (the grid step), :func:`linear_probe_results` (Table 1),
:func:`finetune_results` (Table 3), :func:`scarcity_results` (Tables 4-5), :func:`risk_results` (Table 2)
and :func:`claim_inputs` (everything C1-C7 are judged on). Results are tidy tables written to the step's
folder (``results.parquet``) with :func:`physiofm.evaluation.write_results`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from physiofm.embeddings import read_run_embeddings
from physiofm.evaluation import read_results, write_results
from physiofm.hybrid_ecg import data, evaluate, tables
from physiofm.hybrid_ecg import grid as G
from physiofm.io import read_json, write_json
from physiofm.runtime import resolve_device
from physiofm.sections import ViT1DSection
from physiofm.training.run import checkpoint, pretrain_runs


def grid_runs(ctx, objectives: Sequence[str] | None = None, cases: Sequence[int] | None = None
              ) -> list[tuple[str, object, ViT1DSection]]:
    """(run name, method choice, encoder) of the pretrain step's grid, optionally restricted (the notebook's
    ``objectives`` / ``cases`` parameters: one objective and configuration can be run by hand)."""
    grid = ctx.params.grid if hasattr(ctx.params, "grid") else ctx.step_params("pretrain").grid
    return G.runs(grid, ctx.shared.methods, ctx.shared.encoder, objectives, cases)


def trained(pretrain_dir: Path, runs: Sequence[tuple[str, object, ViT1DSection]], seed: int
            ) -> dict[str, evaluate.Run]:
    """The runs of ``runs`` with a checkpoint in ``pretrain_dir``, as :class:`~.evaluate.Run`."""
    out = {}
    for name, choice, enc in runs:
        try:
            out[name] = evaluate.Run(name, choice, enc, checkpoint(pretrain_dir, name, seed))
        except FileNotFoundError:
            continue
    return out


def _device(ctx) -> str:
    return str(resolve_device(ctx.shared.runtime.device))


# ---------------------------------------------------------------------------------------------- grid
def grid_probes(ctx) -> pd.DataFrame:
    """Linear probes of every trained grid run on the downstream set (``results.parquet``)."""
    p = ctx.params
    name, store, labels = data.open_downstream(ctx.input("data"))
    runs = trained(ctx.input("pretrain"), grid_runs(ctx), ctx.shared.seed)
    if not runs:
        raise FileNotFoundError(f"{ctx.input('pretrain')}: no trained grid run; run the pretrain step first")
    emb = evaluate.embed(runs, p.seeds, name, store, ctx.out / "embeddings", p.embed_batch_size, ctx.workers,
                         _device(ctx))
    res = evaluate.linear_probes(emb, labels, evaluate.tasks(ctx.shared, name), p, p.seeds, ctx.workers)
    write_results(res, ctx.out / "results.parquet")
    return res


def select(ctx, summary: pd.DataFrame) -> dict[str, dict]:
    """The paper's rule on our grid (``ctx.params.reading``) -> ``selection.json``; a pick outside the
    design is pretrained here with the pretrain step's budget (``runs/``) and probed with the others."""
    grid = ctx.step_params("pretrain").grid
    picks = G.select(summary, ctx.params.reading)
    done = set(trained(ctx.input("pretrain"), grid_runs(ctx), ctx.shared.seed))
    missing = G.missing_runs(picks, grid, done)
    if missing:
        runs = [(c.run_name(m), ctx.shared.methods[m], G.encoder(ctx.shared.encoder, c))
                for m, c in missing.items()]
        pretrain_runs(ctx, runs, ctx.step_params("pretrain").train, [ctx.shared.seed], ctx.input("data"),
                      ctx.out / "runs")
    selection = {m: {"patch": v[0], "depth": v[1], "width": v[2], "run": G.config_of(grid, v).run_name(m),
                     "case": G.config_of(grid, v).case, "trained_by": "grid" if m in missing else "pretrain"}
                 for m, v in picks.items()}
    write_json(ctx.out / "selection.json", selection)
    return selection


def selected(ctx) -> dict[str, evaluate.Run]:
    """Objective -> its selected run (after the grid step)."""
    return evaluate.selected_runs(ctx.input("grid"), ctx.input("pretrain"), ctx.shared.methods,
                                  ctx.shared.encoder, ctx.shared.seed)


# ---------------------------------------------------------------------------------------------- Table 1
def linear_probe_results(ctx) -> pd.DataFrame:
    """Table 1: the selected models and the random-init encoders of their architectures, every seed."""
    p = ctx.params
    name, store, labels = data.open_downstream(ctx.input("data"))
    runs = selected(ctx)
    if p.random_init:
        runs = {**runs, **evaluate.random_runs(runs)}
    emb = evaluate.embed(runs, ctx.shared.seeds, name, store, ctx.out / "embeddings", p.embed_batch_size,
                         ctx.workers, _device(ctx))
    res = evaluate.linear_probes(emb, labels, evaluate.tasks(ctx.shared, name), p, ctx.shared.seeds,
                                 ctx.workers)
    write_results(res, ctx.out / "results.parquet")
    return res


# ---------------------------------------------------------------------------------------------- Tables 3-5
def finetune_results(ctx) -> pd.DataFrame:
    """Table 3: every selected model, the SL ViTs of their architectures and the SL ResNet, every seed."""
    p = ctx.params
    name, store, labels = data.open_downstream(ctx.input("data"))
    jobs = evaluate.table3_jobs(selected(ctx), p.resnet, labels, ctx.shared.tasks, ctx.shared.seeds,
                                ctx.out / "runs")
    res = evaluate.finetune_all(jobs, p, name, store, labels, ctx.shared.tasks, ctx.shared.runtime.device,
                                ctx.workers, ctx.worker_threads)
    write_results(res, ctx.out / "results.parquet")
    return res


def scarcity_results(ctx) -> pd.DataFrame:
    """Tables 4 and 5: SL (the ViT of CL's architecture, as the paper's percentage drops read) and the
    selected CL, GL and HL models at each case ratio and label fraction."""
    p = ctx.params
    name, store, labels = data.open_downstream(ctx.input("data"))
    runs = selected(ctx)
    seeds = p.seeds or ctx.shared.seeds
    jobs = evaluate.scarcity_jobs(runs, runs["cl"].encoder, labels, ctx.shared.tasks, seeds, p.case_ratios,
                                  p.n_total, p.label_fractions, ctx.out / "runs", p.case_ratio_tasks)
    res = evaluate.finetune_all(jobs, p, name, store, labels, ctx.shared.tasks, ctx.shared.runtime.device,
                                ctx.workers, ctx.worker_threads, by=("setting", "level"))
    write_results(res, ctx.out / "results.parquet")
    return res


# ---------------------------------------------------------------------------------------------- Table 2
def risk_results(ctx) -> pd.DataFrame:
    """Table 2 on the probe step's embeddings of the selected models, the finetune step's SL ViTs as the
    approximation reference."""
    _, _, labels = data.open_downstream(ctx.input("data"))
    emb = read_run_embeddings(ctx.input("probe") / "embeddings")
    res = evaluate.risk_results(emb, selected(ctx), labels, ctx.shared.tasks, ctx.input("finetune"),
                                ctx.shared.seeds, ctx.params.probe,
                                {"max_iter": ctx.params.max_iter} if ctx.params.probe == "lr" else {})
    write_results(res, ctx.out / "results.parquet")
    return res


# ---------------------------------------------------------------------------------------------- claims
def claim_inputs(ctx, risk: pd.DataFrame) -> tuple[dict, dict, list, dict]:
    """(our picks, the rule's picks on the paper's Table 8, our grid values, our evidence) for
    :func:`physiofm.hybrid_ecg.tables.claims`."""
    grid = ctx.step_params("pretrain").grid
    sel = read_json(ctx.input("grid") / "selection.json")
    picks = {m: (s["patch"], s["depth"], s["width"]) for m, s in sel.items()}
    reading = ctx.step_params("grid").reading
    paper_rule = G.select(G.axis_summary(tables.published_grid_auroc()), reading)
    ev = tables.evidence(read_results(ctx.input("probe") / "results.parquet"),
                         read_results(ctx.input("finetune") / "results.parquet"),
                         read_results(ctx.input("scarcity") / "results.parquet"), risk, selected(ctx))
    return picks, paper_rule, [grid.patch_sizes, grid.depths, grid.widths], ev
