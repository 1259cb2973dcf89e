"""The benchmark's synergy study: can a fusion that sees timing capture what SyneCo's pooled fusion cannot?

The 2 x 2 design (issue 16): {pooled fusion (``syneco``), token fusion (``syneco_tokens``)} x {trained
supervised on the synergistic label, trained with SyneCo's self-supervised objective}, each scored by a
frozen-embedding probe on that label at the segment level, one training seed per probe seed. Token fusion
must not lose the redundant and unique labels against pooled SyneCo by more than the seed spread.
"""

from __future__ import annotations

from dataclasses import asdict

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from physiofm import methods
from physiofm.benchmark.params import Design
from physiofm.evaluation.leaderboard import Board, metric_of
from physiofm.models import build_encoder
from physiofm.sections import LeaderboardSection
from physiofm.store import SegmentStore
from physiofm.training.run import load_method


def per_seed(board: Board) -> pd.DataFrame:
    """AUROC per run, task and probe seed."""
    return metric_of(board.results).pivot_table(index=["method", "task"], columns="seed", values="value")


def two_by_two(board: Board, design: Design) -> pd.DataFrame:
    """Rows pooled / token fusion, columns supervised / self-supervised: "mean ± sd (n seeds)" of the AUROC on
    the design's label."""
    s = per_seed(board).xs(design.label, level="task")

    def cell(run: str) -> str:
        v = s.loc[run].dropna()
        return f"{v.mean():.3f} ± {v.std(ddof=0):.3f} ({len(v)})"

    sup = [cell(design.pooled_supervised), cell(design.tokens_supervised)]
    ssl = [cell(design.pooled_ssl), cell(design.tokens_ssl)]
    return pd.DataFrame({f"trained supervised on {design.label}": sup,
                         "SyneCo's self-supervised objective": ssl},
                        index=["pooled fusion (syneco)", "token fusion (syneco_tokens)"])


def kept(board: Board, design: Design) -> pd.DataFrame:
    """Per redundant / unique task: both self-supervised fusions' AUROC (mean and sd over seeds), the
    difference token - pooled, and whether it stays within the seed spread (the larger of the two sds)."""
    s = per_seed(board)
    rows = []
    for task in design.kept:
        p, t = s.loc[(design.pooled_ssl, task)], s.loc[(design.tokens_ssl, task)]
        spread = max(p.std(ddof=0), t.std(ddof=0))
        diff = t.mean() - p.mean()
        rows.append({"task": task, "pooled": p.mean(), "pooled sd": p.std(ddof=0), "tokens": t.mean(),
                     "tokens sd": t.std(ddof=0), "tokens - pooled": diff,
                     "loses more than the spread": bool(diff < -spread)})
    return pd.DataFrame(rows).set_index("task")


def targets(board: Board, design: Design) -> pd.DataFrame:
    """The issue's three targets with the measured value and whether each is met."""
    s = per_seed(board).xs(design.label, level="task")
    sup, ssl = s.loc[design.tokens_supervised].mean(), s.loc[design.tokens_ssl].mean()
    lost = kept(board, design)["loses more than the spread"]
    return pd.DataFrame([
        {"target": f"supervised token fusion >= {design.target_supervised} AUROC on {design.label}",
         "measured": f"{sup:.3f}", "met": bool(sup >= design.target_supervised)},
        {"target": f"self-supervised token fusion >= {design.target_ssl} AUROC on {design.label}",
         "measured": f"{ssl:.3f}", "met": bool(ssl >= design.target_ssl)},
        {"target": "token fusion keeps the redundant and unique labels (within the seed spread)",
         "measured": ", ".join(lost.index[lost]) or "none lost", "met": not bool(lost.any())},
    ]).set_index("target")


def resolution(board: LeaderboardSection, store: SegmentStore, run: str) -> pd.DataFrame:
    """Per channel of the store: the leaderboard encoder's time step and receptive field (ms) and the token
    step (ms) of run ``run``'s fusion (its ``n_tokens`` over the segment)."""
    entry = board.methods[run]
    n_tokens = {**asdict(methods.config_class(entry.method)()), **entry.config}["n_tokens"]
    encoder, channel_encoders = board.encoder, board.channel_encoders
    rows = []
    for ch in board.channels:
        fs = store.groups[ch]["fs"]
        window_s = store.groups[ch]["shape"][-1] / fs
        backbone = build_encoder({**encoder, **channel_encoders.get(ch, {})}).backbone
        rf, stride = backbone.receptive_field()
        rows.append({"channel": ch, "rate (Hz)": fs, "encoder step (ms)": 1000 * stride / fs,
                     "receptive field (ms)": 1000 * rf / fs, "fusion token (ms)": 1000 * window_s / n_tokens})
    return pd.DataFrame(rows).set_index("channel")


def summary_line(board: Board, design: Design) -> dict[str, float]:
    """The 2 x 2 means (for the chapter)."""
    s = per_seed(board).xs(design.label, level="task").mean(axis=1)
    return {k: float(s.get(getattr(design, k), np.nan)) for k in
            ("pooled_supervised", "tokens_supervised", "pooled_ssl", "tokens_ssl")}


def figure(board: Board, design: Design):
    """The design's label: AUROC of the four cells, one dot per training / probe seed, the bar their mean."""
    s = per_seed(board).xs(design.label, level="task")
    runs = [design.pooled_supervised, design.tokens_supervised, design.pooled_ssl, design.tokens_ssl]
    names = ["pooled\nsupervised", "tokens\nsupervised", "pooled\nself-supervised", "tokens\nself-supervised"]
    fig, ax = plt.subplots(figsize=(6.2, 3.2))
    for i, run in enumerate(runs):
        v = s.loc[run].dropna().to_numpy()
        ax.bar(i, v.mean(), color="tab:blue" if "tokens" in names[i] else "tab:grey", alpha=0.6)
        ax.scatter(np.full(v.size, i), v, color="k", s=12, zorder=3)
    ax.axhline(0.5, color="k", lw=0.6, ls=":")
    ax.axhline(design.target_supervised, color="tab:green", lw=0.8, ls="--")
    ax.axhline(design.target_ssl, color="tab:orange", lw=0.8, ls="--")
    ax.set_xticks(range(4), names, fontsize=8)
    ax.set_ylim(0.3, 1.02)
    ax.set_ylabel(f"AUROC, {design.label}")
    fig.tight_layout()
    return fig


def delay_sensitivity(board: Board, store: SegmentStore, design: Design, shift_ms: float, n: int = 256,
                      channel: str = "ppg", seed: int = 0) -> pd.DataFrame:
    """Does a run's frozen representation depend on the ECG-to-PPG delay? For ``n`` probe segments, the
    cosine distance (1 - cosine similarity, mean over segments) between the representation of a segment and
    of the same segment with only ``channel`` shifted by ``shift_ms`` (the delay changes, each channel's own
    content does not), and with every channel shifted together (the beats move, the delay does not). A
    representation that carries the delay moves more under the first. Circular shifts; first training seed."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(store), size=min(n, len(store)), replace=False))
    x = {g: torch.from_numpy(a) for g, a in store.read(rows, list(store.groups)).items()}
    shifts = {g: int(round(shift_ms / 1000 * store.groups[g]["fs"])) for g in x}
    delayed = {g: torch.roll(a, shifts[g], dims=-1) if g == channel else a for g, a in x.items()}
    joint = {g: torch.roll(a, shifts[g], dims=-1) for g, a in x.items()}
    out = []
    first = min(s for (_, s) in board.checkpoints)
    for run in (design.pooled_supervised, design.tokens_supervised, design.pooled_ssl, design.tokens_ssl):
        method = load_method(board.runs[run], None, board.checkpoints[run, first])
        sets = {"all": tuple(x)}

        base, d, j = (F.normalize(method.embed_inputs(b, sets)["all"], dim=-1) for b in (x, delayed, joint))
        out.append({"run": run,
                    f"{channel} alone shifted {shift_ms:g} ms": float(1 - (base * d).sum(1).mean()),
                    f"all channels shifted {shift_ms:g} ms": float(1 - (base * j).sum(1).mean())})
    return pd.DataFrame(out).set_index("run")
