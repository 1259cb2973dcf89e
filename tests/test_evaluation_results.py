"""Tidy results tables round-trip; published-vs-ours tables render from a YAML of a paper's numbers."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from physiofm.evaluation.published import load_published, published_vs_ours
from physiofm.evaluation.results import append_results, read_results, results_frame, write_results


def _ours() -> pd.DataFrame:
    rows = []
    for method, base in (("SyneCo", 0.84), ("BYOL", 0.83)):
        for seed, eps in zip((0, 42, 1234), (-0.01, 0.0, 0.01)):
            rows.append(
                {
                    "method": method,
                    "task": "ptbxl_super5",
                    "probe": "lr",
                    "metric": "auroc",
                    "seed": seed,
                    "value": base + eps,
                    "fraction": 1.0,
                }
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_results_round_trip(tmp_path, suffix):
    df = results_frame(_ours())
    path = write_results(df, tmp_path / f"results{suffix}")
    back = read_results(path)
    pd.testing.assert_frame_equal(back, df)
    assert list(back.columns[:6]) == ["method", "task", "probe", "metric", "seed", "value"]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    more = df.iloc[:1].assign(value=0.5)
    merged = append_results(path, more)
    assert len(merged) == len(df) and merged["value"].iloc[-1] == 0.5  # same key replaced, not duplicated


def test_results_validation(tmp_path):
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['seed'\]"):
        results_frame([{"method": "a", "task": "t", "probe": "lr", "metric": "auroc", "value": 1.0}])
    with pytest.raises(ValueError, match="parquet or .csv"):
        write_results(_ours(), tmp_path / "r.xlsx")


def test_published_vs_ours(tmp_path):
    yml = tmp_path / "syneco.yaml"
    yml.write_text(
        textwrap.dedent("""
        meta: {paper: syneco, source: Table 1}
        table_1:
          ptbxl_super5:
            SyneCo: {auroc: 0.842}
            BYOL: {auroc: 0.840}
          georgia:
            SyneCo: {auroc: 0.835}
            BYOL: {auroc: 0.837}
    """)
    )
    pub = load_published(yml, "table_1")
    assert len(pub) == 4 and set(pub.columns) == {"table", "method", "task", "metric", "value"}
    assert load_published(yml).equals(pub)  # every table but meta
    numeric = published_vs_ours(pub, _ours(), render=False).set_index(["method", "task"])
    row = numeric.loc[("SyneCo", "ptbxl_super5")]
    assert row["ours_mean"] == pytest.approx(0.84) and row["ours_std"] == pytest.approx(0.01)
    assert row["n_seeds"] == 3 and row["delta"] == pytest.approx(0.84 - 0.842)
    assert np.isnan(numeric.loc[("BYOL", "georgia"), "ours_mean"])
    table = published_vs_ours(pub, _ours())
    assert list(table.index) == ["SyneCo", "BYOL"]
    assert table.loc["SyneCo", ("ptbxl_super5", "auroc", "published")] == "0.842"
    assert table.loc["SyneCo", ("ptbxl_super5", "auroc", "this study")] == "0.840 ± 0.010"
    assert table.loc["BYOL", ("georgia", "auroc", "this study")] == "not run"
    bad = tmp_path / "bad.yaml"
    bad.write_text("table_1: {SyneCo: 0.8}\n")
    with pytest.raises(ValueError, match="bad.yaml"):
        load_published(bad)
    with pytest.raises(KeyError, match="no table"):
        load_published(yml, "table_9")
