"""The paper's tables with its published numbers beside ours, and the claims C1-C7 tested on both.

Published numbers come from ``params/published/hybrid_ecg.yaml`` (tested against the paper text). Our cells
are "mean ± sd" over the seeds (sd with ddof = 1; a single seed shows the mean alone). Every table is a
DataFrame whose rows are (model, source) with source "published" or "this study".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from physiofm.evaluation.published import load_published_table, published_path
from physiofm.hybrid_ecg import grid as G
from physiofm.hybrid_ecg.evaluate import METRICS, arch_name, label

TASKS = ("MI", "STTC", "CD", "HYP")
PUBLISHED = published_path("hybrid_ecg")
COMPONENTS = ("approximation", "usability", "probe_generalization", "encoder_generalization", "total")
COMPONENT_LABELS = {"approximation": "Approx.", "usability": "Represent. usability",
                    "probe_generalization": "Probe generaliz.",
                    "encoder_generalization": "Encoder generaliz.", "total": "Total risk"}


def published(table: str, path: Path = PUBLISHED) -> pd.DataFrame:
    """One published table as a long frame with its own levels (see ``meta.levels``) and ``value``."""
    return load_published_table(path, table)


def published_file(path: Path = PUBLISHED) -> dict:
    """The whole published file as nested dicts (meta, tables, text numbers)."""
    return yaml.safe_load(Path(path).read_text())


def published_meta(path: Path = PUBLISHED) -> dict:
    return published_file(path)["meta"]


def table7() -> pd.DataFrame:
    """The paper's Table 7 (PTB-XL per task: patients, case ratio, ECGs) for comparison with our split."""
    t = published("table_7")
    return t.pivot(index="task", columns="field", values="value").loc[list(TASKS),
                                                                      ["patients", "samples", "case_ratio"]]


def _cell(values: pd.Series, decimals: int = 4) -> str:
    v = values.dropna()
    if v.empty:
        return "–"
    if len(v) == 1:
        return f"{v.iloc[0]:.{decimals}f}"
    return f"{v.mean():.{decimals}f} ± {v.std():.{decimals}f}"


def _columns() -> list[tuple[str, str]]:
    return [("AUROC", t) for t in TASKS] + [("AUPRC", t) for t in TASKS] + [("Criteria", "")]


def _published_row(pub: pd.DataFrame, key: str) -> dict[tuple[str, str], str]:
    p = pub[pub["method"] == key]
    row = {}
    for (metric, task) in _columns():
        sel = p[(p["metric"] == (metric.lower() if metric != "Criteria" else "criteria"))
                & (p["task"] == (task or "all"))]
        row[(metric, task)] = "–" if sel.empty or sel["value"].isna().all() else f"{sel['value'].iloc[0]:.4f}"
    return row


def _our_row(ours: pd.DataFrame, name: str) -> dict[tuple[str, str], str]:
    o = ours[ours["method"] == name]
    row = {}
    for (metric, task) in _columns():
        sel = o[(o["metric"] == (metric.lower() if metric != "Criteria" else "criteria"))
                & (o["task"].str.upper() == (task or "ALL"))]
        row[(metric, task)] = _cell(sel["value"])
    return row


def side_by_side(ours: pd.DataFrame, pub: pd.DataFrame,
                 rows: Sequence[tuple[str, str | None, str | None]]) -> pd.DataFrame:
    """Rows ``(model label, published method key, our run name)``: the published row, then ours; columns
    AUROC and AUPRC per task, then criteria (the paper's Tables 1 and 3-5)."""
    out, index = [], []
    for model, pub_key, our_name in rows:
        if pub_key is not None:
            out.append(_published_row(pub, pub_key))
            index.append((model, "published"))
        if our_name is not None:
            out.append(_our_row(ours, our_name))
            index.append((model, "this study"))
    table = pd.DataFrame(out, index=pd.MultiIndex.from_tuples(index, names=["model", "source"]))
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table


def _arch(run) -> tuple[int, int, int]:
    e = run.encoder
    return e.patch_size, e.depth, e.width


def table1(ours: pd.DataFrame, selected: Mapping) -> pd.DataFrame:
    """Table 1 (linear probing): random-init encoders of the selected architectures, CL, GL, HL."""
    pub = published("table_1")
    rows = []
    for m, key in (("cl", "random_250_2_1024"), ("hl", "random_60_2_512")):
        ours_name = f"random_{arch_name(_arch(selected[m]))}"
        rows.append((f"Random init, {m.upper()}'s architecture (paper {key[7:].replace('_', '/')}; ours "
                     f"{arch_name(_arch(selected[m])).replace('_', '/')})", key, ours_name))
    rows += [(f"{label(m)} (ours {arch_name(_arch(selected[m])).replace('_', '/')})", m, m)
             for m in ("cl", "gl", "hl")]
    return side_by_side(ours, pub, rows)


def table3(ours: pd.DataFrame, selected: Mapping) -> pd.DataFrame:
    """Table 3 (fine-tuning): SL ResNet-50, SL ViT of each selected architecture, CL, GL, HL."""
    pub = published("table_3")
    rows = [("SL 1-D ResNet-50", "sl_resnet50", "sl_resnet50")]
    for m, key in (("cl", "sl_vit_250_2_1024"), ("hl", "sl_vit_60_2_512")):
        a = arch_name(_arch(selected[m]))
        rows.append((f"SL ViT, {m.upper()}'s architecture (paper {key[7:].replace('_', '/')}; ours "
                     f"{a.replace('_', '/')})", key, f"sl_vit_{a}"))
    rows += [(label(m), m, m) for m in ("cl", "gl", "hl")]
    return side_by_side(ours, pub, rows)


def scarcity_table(ours: pd.DataFrame, setting: str) -> pd.DataFrame:
    """Table 4 (``case_ratio``) or Table 5 (``label_fraction``): per level, SL, CL, GL, HL."""
    pub = published("table_4" if setting == "case_ratio" else "table_5")
    level_col = "case_ratio" if setting == "case_ratio" else "label_fraction"
    ours = ours[ours["setting"] == setting]
    parts = []
    for level in sorted(ours["level"].unique(), reverse=True):
        key = f"{level * 100:g}%"
        p = pub[pub[level_col] == key]
        o = ours[ours["level"] == level]
        t = side_by_side(o, p, [(label(m), m if len(p) else None, m) for m in ("sl", "cl", "gl", "hl")])
        parts.append(pd.concat({key: t}, names=[level_col]))
    return pd.concat(parts)


def criteria_by_level(ours: pd.DataFrame, setting: str) -> pd.DataFrame:
    """Mean criteria per (level, method) for ours and the paper's (Tables 4-5), long."""
    pub = published("table_4" if setting == "case_ratio" else "table_5")
    level_col = "case_ratio" if setting == "case_ratio" else "label_fraction"
    o = ours[(ours["setting"] == setting) & (ours["metric"] == "criteria")]
    here = (ours["setting"] == setting) & ours["metric"].isin(METRICS)
    ours_tasks = set(ours.loc[here, "task"].str.upper())
    if ours_tasks and ours_tasks < set(TASKS):  # a subset of the diseases: the paper's sum over the same ones
        part = pub[pub["metric"].isin(METRICS) & pub["task"].isin(ours_tasks)]
        p = part.groupby([level_col, "method"], as_index=False)["value"].sum()
    else:
        p = pub[(pub["metric"] == "criteria")]
    p = p.assign(level=p[level_col].str.rstrip("%").astype(float) / 100, source="published")
    o = o.groupby(["level", "method"], as_index=False)["value"].mean().assign(source="this study")
    return pd.concat([p[["level", "method", "value", "source"]], o], ignore_index=True)


# ---------------------------------------------------------------------------------------------- grid
def grid_auroc(results: pd.DataFrame, grid_section) -> pd.DataFrame:
    """Our grid probes as rows (objective, case, patch, depth, width, task, value = mean AUROC over seeds)."""
    r = G.with_axes(results[results["metric"] == "auroc"], grid_section)
    r = r.assign(task=r["task"].str.upper())
    return r.groupby(["objective", "case", "patch", "depth", "width", "task"], as_index=False)["value"].mean()


def published_grid_auroc() -> pd.DataFrame:
    meta = published_meta()
    return G.published_grid(published("lp_grid"), {int(k): v for k, v in meta["grid_cases"].items()})


def grid_table(ours: pd.DataFrame) -> pd.DataFrame:
    """Per case of our design and objective: mean LP AUROC over the four tasks, ours and the paper's
    (Table 8, the same case index; "OOM" where the paper ran out of memory)."""
    pub = published_grid_auroc()
    pm = pub.groupby(["objective", "case"])["value"].mean()
    om = ours.groupby(["objective", "case", "patch", "depth", "width"])["value"].mean().reset_index()
    cases = published_meta()["grid_cases"]
    om["paper configuration"] = om["case"].map(lambda c: "/".join(map(str, cases[int(c)])))
    om["ours configuration"] = om[["patch", "depth", "width"]].astype(str).agg("/".join, axis=1)
    om["paper (Table 8)"] = [f"{pm[(o, c)]:.4f}" if (o, c) in pm.index else "OOM"
                             for o, c in zip(om["objective"], om["case"])]
    om["this study"] = om["value"].map(lambda v: f"{v:.4f}")
    om["objective"] = om["objective"].str.upper()
    cols = ["objective", "case", "paper configuration", "ours configuration", "paper (Table 8)", "this study"]
    return om[cols].set_index(["objective", "case"])


def selection(ours: pd.DataFrame, picks: Mapping[str, Sequence[int]]) -> pd.DataFrame:
    """Our pick beside the paper's stated pick and the rule (both readings) applied to the paper's Table 8."""
    paper = G.axis_summary(published_grid_auroc())
    theirs = {reading: G.select(paper, reading) for reading in ("pooled", "per_task")}
    return G.selection_table(picks, theirs, {m: m.upper() for m in picks})


def best_published_cases() -> pd.DataFrame:
    """The paper's best single configuration by LP criteria per objective (Tables 8-9) beside its pick."""
    crit = published("lp_grid")
    crit = crit[(crit["metric"] == "criteria") & crit["value"].notna()]
    cases = published_meta()["grid_cases"]
    rows = []
    for m, g in crit.groupby("method"):
        best = g.loc[g["value"].idxmax()]
        pick = G.PAPER_SELECTION[m]
        pick_case = [int(k) for k, v in cases.items() if tuple(v) == pick][0]
        pick_value = g.loc[g["case"].astype(int) == pick_case, "value"].iloc[0]
        rows.append({"objective": m.upper(), "best configuration (criteria)":
                     "/".join(map(str, cases[int(best['case'])])), "its criteria": best["value"],
                     "selected (§4.1)": "/".join(map(str, pick)), "selected's criteria": pick_value})
    return pd.DataFrame(rows).set_index("objective")


# ---------------------------------------------------------------------------------------------- risk
def risk_table(ours: pd.DataFrame) -> pd.DataFrame:
    """Table 2: per objective and task (and the average), each component published, and ours as 0-1 error
    and as 1 - AUROC (mean ± sd over seeds)."""
    pub = published("table_2")
    rows, index = [], []
    for m in ("cl", "gl", "hl"):
        for task in (*TASKS, "average"):
            p = pub[(pub["method"] == m) & (pub["task"] == task)].set_index("component")["value"]
            o = ours[ours["method"] == m]
            if task != "average":
                o = o[o["task"].str.upper() == task]
            else:  # the task mean within each seed, then over seeds
                o = o.groupby(["metric", "error", "seed"], as_index=False)["value"].mean()
            for source, sel in (("published", None), ("this study, 0-1 error", "zero_one"),
                                ("this study, 1 - AUROC", "one_minus_auroc")):
                if sel is None:
                    row = {COMPONENT_LABELS[c]: f"{p[c]:.4f}" if c in p else "–" for c in COMPONENTS}
                else:
                    e = o[o["error"] == sel]
                    row = {COMPONENT_LABELS[c]: _cell(e.loc[e["metric"] == c, "value"]) for c in COMPONENTS}
                rows.append(row)
                index.append((m.upper(), task, source))
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["model", "task", "source"]))


def risk_means(ours: pd.DataFrame) -> pd.DataFrame:
    """Average over tasks and seeds of each component per objective and error kind, with the paper's."""
    pub = published("table_2")
    p = pub[pub["task"] == "average"].assign(error="published").rename(columns={"component": "metric"})
    o = ours.groupby(["method", "metric", "error"], as_index=False)["value"].mean()
    return pd.concat([p[["method", "metric", "error", "value"]], o], ignore_index=True)


# ---------------------------------------------------------------------------------------------- claims
def _verdict(ok: bool) -> str:
    return "holds" if ok else "does not hold"


def _order(values: Mapping[str, float], lower_better: bool = False) -> str:
    ranked = sorted(values.items(), key=lambda kv: kv[1] if lower_better else -kv[1])
    return (" < " if lower_better else " > ").join(f"{k} {v:.4f}" for k, v in ranked)


PAPER_PICK_INDEX = {"cl": (2, 0, 2), "gl": (0, 0, 1), "hl": (0, 0, 1)}  # (iP, iDepth, iWidth) of §4.1
PAPER_GRID = ([60, 125, 250], [2, 4, 8], [256, 512, 1024])


def _mean(results: pd.DataFrame, method: str, metric: str = "criteria", task: str | None = None,
          level: float | None = None) -> float:
    r = results[(results["method"] == method) & (results["metric"] == metric)]
    if task is not None:
        r = r[r["task"].str.upper() == task]
    if level is not None:
        r = r[np.isclose(r["level"].astype(float), level)]
    return float(r["value"].mean()) if len(r) else float("nan")


def _levels(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """A published Table 4 / 5 with ``level`` (0.05 for "5%")."""
    return frame.assign(level=frame[column].str.rstrip("%").astype(float) / 100)


def evidence_published() -> dict:
    """What the claims are judged on, from the paper's own tables (the same shape as :func:`evidence`)."""
    t1, t2, t3 = published("table_1"), published("table_2"), published("table_3")
    risk = t2[t2["task"] != "average"].rename(columns={"component": "metric"})
    return {"lp": t1, "random": ["random_250_2_1024", "random_60_2_512"], "ft": t3,
            "sl": ["sl_resnet50", "sl_vit_250_2_1024", "sl_vit_60_2_512"],
            "risk": {"published": risk}, "case_ratio": _levels(published("table_4"), "case_ratio"),
            "label_fraction": _levels(published("table_5"), "label_fraction")}


def evidence(lp: pd.DataFrame, ft: pd.DataFrame, scarcity: pd.DataFrame, risk: pd.DataFrame,
             selected: Mapping) -> dict:
    """What the claims are judged on, from this build's results."""
    archs = sorted({arch_name(_arch(r)) for r in selected.values()})
    return {"lp": lp, "random": [f"random_{a}" for a in archs], "ft": ft,
            "sl": ["sl_resnet50", *[f"sl_vit_{a}" for a in archs]],
            "risk": {k: risk[risk["error"] == k] for k in ("zero_one", "one_minus_auroc")},
            "case_ratio": scarcity[scarcity["setting"] == "case_ratio"],
            "label_fraction": scarcity[scarcity["setting"] == "label_fraction"]}


def _judge(ev: dict) -> dict[str, tuple[str, bool]]:
    """C2-C7 judged on one body of evidence: claim -> (the numbers, whether it holds)."""
    out = {}
    crit = {m.upper(): _mean(ev["lp"], m) for m in ("cl", "gl", "hl")}
    rnd = {label(r): _mean(ev["lp"], r) for r in ev["random"]}
    out["C2"] = (_order({**crit, **rnd}), crit["HL"] == max(crit.values()))
    below = [f"{m.upper()} {t}" for m in ("cl", "gl", "hl") for t in TASKS
             if _mean(ev["lp"], m, "auroc", t) < max(_mean(ev["lp"], r, "auroc", t) for r in ev["random"])]
    out["C3"] = (f"criteria: {_order({**crit, **rnd})}; AUROC below a random encoder: "
                 + (", ".join(below) or "none"), all(v > max(rnd.values()) for v in crit.values()))
    totals = {k: {m.upper(): float(r[(r["method"] == m) & (r["metric"] == "total")]["value"].mean())
                  for m in ("cl", "gl", "hl")} for k, r in ev["risk"].items()}
    usab = {k: {m.upper(): float(r[(r["method"] == m) & (r["metric"] == "usability")]["value"].mean())
                for m in ("cl", "gl", "hl")} for k, r in ev["risk"].items()}
    out["C4"] = ("; ".join(f"{k.replace('_', ' ')} total {_order(t, True)} (usability highest: "
                           f"{max(usab[k], key=usab[k].get)})" for k, t in totals.items()),
                 all(min(t, key=t.get) == "HL" for t in totals.values()))
    models = ["cl", "gl", "hl", *ev["sl"]]
    hl_auroc = all(_mean(ev["ft"], "hl", "auroc", t) >= max(_mean(ev["ft"], m, "auroc", t) for m in models)
                   for t in TASKS)
    ft_crit = {label(m): _mean(ev["ft"], m) for m in models}
    sl_best = max(_mean(ev["ft"], m) for m in ev["sl"])
    losers = [m.upper() for m in ("cl", "gl", "hl") if _mean(ev["ft"], m) <= sl_best]
    out["C5"] = (f"{_order(ft_crit)}; HL best on every AUROC: {'yes' if hl_auroc else 'no'}; SSL not above "
                 f"the best SL: {', '.join(losers) or 'none'}", hl_auroc and not losers)
    for claim, key in (("C6", "case_ratio"), ("C7", "label_fraction")):
        lv = sorted(ev[key]["level"].unique(), reverse=True)
        by = {v: {m.upper(): _mean(ev[key], m, level=float(v)) for m in ("sl", "cl", "gl", "hl")} for v in lv}
        text = "; ".join(f"{v:.0%}: {_order(b)}" for v, b in by.items())
        if claim == "C6":
            falls = all(by[a][m] >= by[b][m] for a, b in zip(lv, lv[1:]) for m in by[lv[0]])
            ok = falls and all(max(b, key=b.get) == "HL" for b in by.values())
            text += f"; falls with the ratio for every model: {'yes' if falls else 'no'}"
        else:
            ok = all(max(b, key=b.get) == ("CL" if v <= 0.1 + 1e-9 else "HL") for v, b in by.items())
        out[claim] = (text, ok)
    return out


def _pick_differences(picks: Mapping[str, Sequence[int]], values: Sequence[Sequence[int]]) -> dict[str, list]:
    """Objective -> the axes on which a pick differs from the paper's stated one (compared by axis index)."""
    out = {}
    for m, pick in picks.items():
        idx = [list(v).index(x) for v, x in zip(values, pick)]
        out[m] = [G.AXES[a] for a in range(3) if idx[a] != PAPER_PICK_INDEX[m][a]]
    return out


def _c1(picks: Mapping[str, Sequence[int]], values: Sequence[Sequence[int]]) -> tuple[str, bool]:
    diff = _pick_differences(picks, values)
    text = "; ".join(f"{m.upper()} {'/'.join(map(str, picks[m]))}"
                     + ("" if not diff[m] else f" (differs in {', '.join(diff[m])})")
                     for m in ("cl", "gl", "hl"))
    shallow = [m.upper() for m, p in picks.items() if list(values[1]).index(p[1]) == 0]
    return f"{text}; smallest depth picked by {', '.join(shallow) or 'none'}", not any(diff.values())


STATEMENTS = {
    "C1": "the median rule picks 60/2/512 for HL and GL and 250/2/1024 for CL; depth 2 is best for all",
    "C2": "HL has the best linear-probe criteria (Table 1)",
    "C3": "every SSL model beats the random-init encoders on linear-probe criteria (not on every task)",
    "C4": "HL has the lowest total risk (Table 2)",
    "C5": "HL fine-tuned is best on all four AUROCs, and SSL fine-tuning beats supervised training (Table 3)",
    "C6": "performance falls with the case ratio (5 > 2 > 1 %) and HL is best at every ratio (Table 4)",
    "C7": "HL is best with 50 % and 25 % of the labels, CL with 10 % (Table 5)",
}


def claims(picks: Mapping[str, Sequence[int]], paper_rule: Mapping[str, Sequence[int]],
           grid_values: Sequence[Sequence[int]], ours: dict) -> pd.DataFrame:
    """C1-C7: each claim, judged by the same code on the paper's own tables (C1: the selection rule applied to
    its Table 8) and on this build's results (``ours``: :func:`evidence`)."""
    paper, here = _judge(evidence_published()), _judge(ours)
    paper["C1"], here["C1"] = _c1(paper_rule, PAPER_GRID), _c1(picks, grid_values)
    rows = [(c, STATEMENTS[c], paper[c][0], _verdict(paper[c][1]), here[c][0], _verdict(here[c][1]))
            for c in sorted(STATEMENTS)]
    return pd.DataFrame(rows, columns=["claim", "statement", "the paper's own tables", "verdict on the paper",
                                       "this study", "verdict here"]).set_index("claim")
