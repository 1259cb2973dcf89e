"""The locked environment: requirements.lock, pyproject.toml and environment.yml agree; this venv is it."""

from __future__ import annotations

import importlib.metadata as md
import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
INSTALLERS = {"pip", "setuptools", "wheel"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version and not re.search(r"[\s;<>~!+]", version), f"not name==version: {line!r}"
            pins[canonical(name)] = version
    return pins


def project_requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [Requirement(d) for d in project["dependencies"] + project["optional-dependencies"]["test"]]


def test_lock_pins_every_dependency_within_pyproject_ranges() -> None:
    pins = lock()
    missing = [r.name for r in project_requirements() if canonical(r.name) not in pins]
    assert not missing, f"pyproject.toml dependencies not in requirements.lock: {missing} (run make lock)"
    outside = {r.name: pins[canonical(r.name)] for r in project_requirements()
               if not r.specifier.contains(Version(pins[canonical(r.name)]), prereleases=True)}
    assert not outside, f"locked versions outside pyproject.toml's ranges: {outside} (run make lock)"
    assert INSTALLERS <= set(pins), "the lock pins the installers too (make lock)"


def test_torch_is_the_pinned_cpu_release() -> None:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "torch==2.13.0" in deps
    assert lock()["torch"] == "2.13.0"  # no local label: the same line selects the CPU wheel everywhere
    assert not any(n.startswith("nvidia-") for n in lock()), "a CUDA build of torch crept into the lock"


def test_environment_yml_pins_the_lock() -> None:
    env = yaml.safe_load((REPO / "environment.yml").read_text())["dependencies"]
    conda = [d for d in env if isinstance(d, str)]
    pip = next(d["pip"] for d in env if isinstance(d, dict))
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    python = next(d for d in conda if d.startswith("python="))
    assert Version(python.split("=")[1]) in Requirement(f"python{requires}").specifier
    pinned = {}
    for line in pip:
        if line.startswith("-e"):
            continue
        name, _, version = line.partition("==")
        pinned[canonical(name)] = version
    expected = {k: v for k, v in lock().items() if k not in INSTALLERS}
    assert pinned == expected, (
        f"environment.yml and requirements.lock differ: only in environment.yml "
        f"{sorted(set(pinned.items()) - set(expected.items()))}, only in the lock "
        f"{sorted(set(expected.items()) - set(pinned.items()))} (run make lock)"
    )
    assert "-e ." in pip


def test_this_environment_is_the_lock() -> None:
    """The venv running the tests holds exactly the locked versions (make test installs it from the lock)."""
    installed = {canonical(d.metadata["Name"]): d.version.split("+", 1)[0] for d in md.distributions()}
    installed.pop("physiofm", None)
    pins = lock()
    wrong = {n: (installed.get(n, "not installed"), v) for n, v in pins.items() if installed.get(n) != v}
    extra = sorted(set(installed) - set(pins))
    assert not wrong and not extra, (
        f"this environment is not requirements.lock: (installed, locked) {wrong}; not in the lock: {extra}. "
        "Recreate it with `make test` (it installs from the lock)."
    )


def test_makefile_installs_from_the_lock() -> None:
    make = (REPO / "Makefile").read_text()
    assert re.search(r"^\$\(STAMP\): \$\(LOCK\)", make, re.M), "a changed lock must reinstall the venv"
    assert "pip install --quiet -r $(LOCK)" in make and "--no-deps" in make
