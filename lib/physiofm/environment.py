"""The Python environment a run used, against the lock it should equal (``requirements.lock``).

The runner stores :func:`digest` with every step it executes; the book's landing page lists the direct
dependencies' versions (:func:`direct_dependencies`), says whether the environment equals the lock
(:func:`lock_differences`) and whether every step ran in this same environment.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import re
import tomllib
from pathlib import Path

PROJECT = "physiofm"


def canonical(name: str) -> str:
    """PEP 503 name: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_versions() -> dict[str, str]:
    """Canonical name -> version of every distribution this interpreter sees (the project excluded).

    A local version label is dropped (``2.13.0+cpu`` -> ``2.13.0``), as in the lock.
    """
    out = {canonical(d.metadata["Name"]): d.version.split("+", 1)[0] for d in md.distributions()}
    out.pop(PROJECT, None)
    return dict(sorted(out.items()))


def digest() -> str:
    """A short hash of :func:`installed_versions`: equal digests, equal environments."""
    text = "\n".join(f"{k}=={v}" for k, v in installed_versions().items())
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def read_lock(path: Path) -> dict[str, str]:
    """Canonical name -> version of each ``name==version`` line of a lock file."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonical(name)] = version
    return pins


def lock_differences(lock: Path) -> list[str]:
    """What differs between this environment and ``lock``, one phrase per package (empty: they are equal)."""
    if not lock.is_file():
        return [f"no lock file {lock.name}"]
    pins, have = read_lock(lock), installed_versions()
    out = [f"{n} {have.get(n, 'missing')} (lock: {v})" for n, v in pins.items() if have.get(n) != v]
    out += [f"{n} {v} (not in the lock)" for n, v in have.items() if n not in pins]
    return out


def direct_dependencies(pyproject: Path) -> list[tuple[str, str]]:
    """(name, installed version) of every dependency ``pyproject.toml`` names, in its order."""
    project = tomllib.loads(pyproject.read_text())["project"]
    have = installed_versions()
    rows = []
    for spec in project.get("dependencies", []):
        name = re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0]
        rows.append((name, have.get(canonical(name), "not installed")))
    return rows
