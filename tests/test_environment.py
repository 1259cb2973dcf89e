"""environment.yml (conda) and pyproject.toml (pip) name the same dependencies."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ ]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _norm(spec: str) -> str:
    spec = spec.replace(" ", "").lower()
    return spec.replace("=", "==", 1) if re.match(r"^[a-z0-9_.-]+=[^=]", spec) else spec


def test_environment_and_pyproject_agree() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pip_deps = {
        _name(d): _norm(d) for d in project["dependencies"] + project["optional-dependencies"]["test"]
    }
    env = yaml.safe_load((REPO / "environment.yml").read_text())["dependencies"]
    conda_deps: dict[str, str] = {}
    for d in env:
        if isinstance(d, dict):
            for p in d["pip"]:
                if not p.startswith("-e"):
                    conda_deps[_name(p)] = _norm(p)
        elif _name(d) not in ("python", "pip"):
            conda_deps[_name(d)] = _norm(d)
    assert set(conda_deps) == set(pip_deps), (
        f"only in environment.yml: {sorted(set(conda_deps) - set(pip_deps))}; "
        f"only in pyproject.toml: {sorted(set(pip_deps) - set(conda_deps))}"
    )
    assert conda_deps == pip_deps, "version constraints differ"


def test_torch_is_pinned() -> None:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "torch==2.13.0" in deps
