"""Where the study lives on disk: the repository root and the per-profile build tree.

Layout under ``build/<profile>/``: ``notebooks/<paper>/`` (executed copies), ``artifacts/<paper>/<step>/``
(what a step writes), ``manifest.json`` (what ran, with content hashes), ``book/`` (the assembled book).
"""

from __future__ import annotations

import os
from pathlib import Path

PROFILES = ("ci", "demo", "paper")


def _is_root(p: Path) -> bool:
    return (p / "params").is_dir() and (p / "notebooks").is_dir() and (p / "pyproject.toml").is_file()


def repo_root(start: Path | None = None) -> Path:
    """The study's root: ``$PHYSIOFM_ROOT``, else the first parent of ``start`` (default: the working
    directory, then this package's location) that holds ``params/``, ``notebooks/`` and ``pyproject.toml``."""
    env = os.environ.get("PHYSIOFM_ROOT")
    if env:
        root = Path(env).resolve()
        if not _is_root(root):
            raise FileNotFoundError(
                f"PHYSIOFM_ROOT={env} does not hold params/, notebooks/ and pyproject.toml"
            )
        return root
    candidates = [Path(start or Path.cwd()).resolve(), Path(__file__).resolve()]
    for c in candidates:
        for p in (c, *c.parents):
            if _is_root(p):
                return p
    raise FileNotFoundError(
        "cannot find the physiofm study root (a folder with params/, notebooks/ and "
        "pyproject.toml); run from inside the repository or set PHYSIOFM_ROOT"
    )


def build_dir(profile: str, root: Path | None = None) -> Path:
    return (root or repo_root()) / "build" / profile


def artifacts_dir(profile: str, paper: str, step: str | None = None, root: Path | None = None) -> Path:
    d = build_dir(profile, root) / "artifacts" / paper
    return d / step if step else d
