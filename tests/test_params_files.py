"""Every committed params file validates, and each paper with notebooks has a params file per profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from physiofm.config import load_params
from physiofm.paths import PROFILES
from physiofm.runner import discover

REPO = Path(__file__).resolve().parents[1]
FILES = sorted(p for prof in PROFILES for p in (REPO / "params" / prof).glob("*.yaml"))


@pytest.mark.skipif(not FILES, reason="no params files yet")
@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_params_file_validates(path: Path) -> None:
    load_params(path)


def test_every_step_has_params_in_every_profile() -> None:
    for step in discover(REPO):
        for profile in PROFILES:
            path = REPO / "params" / profile / f"{step.paper}.yaml"
            assert path.is_file(), f"{step.key} has no params for profile {profile} ({path})"
            params = load_params(path)
            assert step.name in type(params.steps).model_fields, f"{path}: no steps.{step.name}"


def test_settings_table_puts_a_profile_beside_the_paper_profile():
    from physiofm.config import load_params, params_path
    from physiofm.settings import settings_table

    demo, paper = load_params(params_path("demo", "anyppg")), load_params(params_path("paper", "anyppg"))
    table = settings_table(demo, paper, "pretrain", shared=("encoder", "methods"))
    assert list(table.columns) == ["this profile", "paper profile"]
    assert "train.max_steps" in table.index and "methods.anyppg.method" in table.index
    assert any(k.startswith("encoder.") for k in table.index)
    assert table.loc["train.max_steps", "this profile"] == str(demo.steps.pretrain.train.max_steps)
    assert table.loc["train.max_steps", "paper profile"] == str(paper.steps.pretrain.train.max_steps)
    assert not any(k.startswith("methods.") for k in settings_table(demo, paper, "pretrain").index)
