"""The benchmark's synergy study: can a fusion that sees timing capture what SyneCo's pooled fusion cannot?

The 2 x 2 design (issue 16): {pooled fusion (``syneco``), token fusion (``syneco_tokens``)} x {trained
supervised on the synergistic label, trained with SyneCo's self-supervised objective}, each scored by a
frozen-embedding probe on that label at the segment level, one training seed per probe seed. Token fusion
must not lose the redundant and unique labels against pooled SyneCo by more than the seed spread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from physiofm.benchmark.params import Design
from physiofm.evaluation.leaderboard import Board, metric_of
from physiofm.models import build_encoder


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


def resolution(encoder: Mapping[str, Any], channel_encoders: Mapping[str, Mapping[str, Any]],
               rates: Mapping[str, float], n_tokens: int, window_s: float) -> pd.DataFrame:
    """Per channel: the encoder's time step and receptive field (ms), and the fusion's token step (ms)."""
    rows = []
    for ch, fs in rates.items():
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
