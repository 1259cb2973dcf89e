"""Assemble the Jupyter Book (1.x) from the written chapters and one profile's executed notebooks.

The source tree is generated under ``build/<profile>/book/``: a landing page (``book/intro.md`` plus this
build's environment, git revision and wall times), one part per paper (its written chapter ``book/<paper>.md``
when there is one, then its executed notebooks, or a generated "not yet reproduced" page), the parts after the
papers (``config.CLOSING_PARTS``, the benchmark: its chapter ``book/<name>.md``, then its notebooks), the
other written chapters, and an appendix with the params of every run. The copied notebooks are made into pages
for readers (:func:`prepare_notebook`: no parameters cells, code folded, no machine paths); ``book/_static``
(CSS) comes along. Sphinx runs with warnings as errors and nitpicky references, so a broken cross-reference or
a missing page fails the build. Notebooks are never executed here.
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import yaml

from physiofm import environment
from physiofm.config import CLOSING_PARTS, PAPERS, STUDY_PARTS
from physiofm.paths import build_dir, repo_root


def _git_revision(root: Path) -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        return rev + (" (with uncommitted changes)" if dirty else "")
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "unknown (not a git checkout)"


def _environment(root: Path) -> list[tuple[str, str]]:
    """Python, the platform and every direct dependency of ``pyproject.toml`` with its installed version."""
    rows = [("python", platform.python_version()), ("platform", platform.platform())]
    return rows + environment.direct_dependencies(root / "pyproject.toml")


def _environment_notes(root: Path, manifest: dict) -> list[str]:
    """Whether this environment is the lock, and whether every step ran in it."""
    lock_file = root / "requirements.lock"
    diff = environment.lock_differences(lock_file)
    if not diff:
        lock = (f"The environment equals `requirements.lock` ({len(environment.read_lock(lock_file))} "
                "packages, transitive ones included).")
    else:
        lock = (f"The environment differs from `requirements.lock` in {len(diff)} package(s): "
                + "; ".join(diff[:12]) + (" ..." if len(diff) > 12 else "") + ".")
    here = environment.digest()
    other = sorted(k for k, v in manifest.items() if v.get("status") == "ok" and v.get("environment") != here)
    ran = (
        "Every step below ran in this environment."
        if not other
        else "These steps ran in another environment (or before the runner recorded it): "
        + ", ".join(f"`{k}`" for k in other) + "."
    )
    return [lock, "", ran]


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _landing(root: Path, profile: str, manifest: dict) -> str:
    intro = (
        (root / "book" / "intro.md").read_text() if (root / "book" / "intro.md").is_file() else "# physiofm\n"
    )
    timing = [
        [k, f"{v.get('seconds', 0):.1f}", v.get("status", "?"), v.get("finished", "")]
        for k, v in sorted(manifest.items())
    ]
    total = sum(v.get("seconds", 0) for v in manifest.values() if v.get("status") == "ok")
    parts = [
        intro.rstrip(),
        "",
        "## This build",
        "",
        f"- profile: **{profile}**",
        f"- git revision: `{_git_revision(root)}`",
        f"- built: {datetime.now(UTC).isoformat(timespec='seconds')}",
        "",
        "### Environment",
        "",
        "The Python packages the study declares (`pyproject.toml`) and the versions that ran:",
        "",
        _md_table(["package", "version"], [list(r) for r in _environment(root)]),
        "",
        *_environment_notes(root, manifest),
        "",
        "### Wall time per notebook",
        "",
        "Seconds of the last successful execution of each step (a skipped step keeps its earlier time).",
        "",
        _md_table(["step", "seconds", "status", "finished (UTC)"], timing)
        if timing
        else "No step has run yet.",
        "",
        f"Total: {total:.0f} s ({total / 60:.1f} min).",
        "",
    ]
    return "\n".join(parts)


def _not_reproduced(paper: str) -> str:
    return (
        f"# {PAPERS.get(paper, paper)}\n\n```{{admonition}} Not yet reproduced\n:class: warning\n"
        f"The study has no notebooks for `{paper}` yet, so this part holds no results.\n```\n"
    )


def _listing(notebooks: list[Path]) -> str:
    return (
        "This part holds the executed notebooks:\n\n" + "\n".join(f"- `{nb.stem}`" for nb in notebooks) + "\n"
    )


def _paper_intro(paper: str, notebooks: list[Path]) -> str:
    return f"# {PAPERS.get(paper, paper)}\n\n" + _listing(notebooks)


# Cells that only carry the run's parameters (papermill injects one with this machine's paths).
PARAMETER_TAGS = {"parameters", "injected-parameters"}
# Absolute paths of some machine: the book shows none of them.
MACHINE_PATH = re.compile(
    r"(?<![\w.:/])/(?:tmp|work|home|root|Users|private|var|opt|usr|mnt|srv|data)/[^\s'\"<>|)\]]*"
)


def path_scrubber(root: Path) -> Callable[[str], str]:
    """A function that writes every machine-local path of ``text`` so that it tells nothing of the machine:
    paths under the study root become relative to it, the interpreter's prefix ``<venv>``/``<python>``, and
    any other absolute path under a usual top-level folder ``…/<its last part>``."""
    roots = sorted({str(root), str(root.resolve())}, key=len, reverse=True)
    prefixes = [(p, tag) for p, tag in ((sys.prefix, "<venv>"), (sys.base_prefix, "<python>")) if len(p) > 1]

    def scrub(text: str) -> str:
        for r in roots:
            text = text.replace(r + "/", "").replace(r, ".")
        for p, tag in prefixes:
            text = text.replace(p, tag)
        return MACHINE_PATH.sub(lambda m: "…/" + m.group(0).rstrip("/").rsplit("/", 1)[-1], text)

    return scrub


def _scrub(value: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrub(v, scrub) for v in value]
    if isinstance(value, dict):
        return {k: (v if k.startswith("image/") else _scrub(v, scrub)) for k, v in value.items()}
    return value


def prepare_notebook(path: Path, root: Path) -> None:
    """Make an executed notebook a book page (in place): parameters cells removed, the input of every other
    code cell folded (``hide-input``; its tables and figures stay in view), machine paths scrubbed from
    outputs and metadata (image data untouched)."""
    nb = nbformat.read(path, as_version=4)
    scrub = path_scrubber(root)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = set(cell.metadata.get("tags", []))
        if tags & PARAMETER_TAGS:  # gone from the pages; scrubbed in the notebook a reader can download
            cell.source = scrub(cell.source)
        tags.add("remove-cell" if tags & PARAMETER_TAGS else "hide-input")
        cell.metadata["tags"] = sorted(tags)
        cell.outputs = [nbformat.from_dict(_scrub(dict(o), scrub)) for o in cell.get("outputs", [])]
    nb.metadata = nbformat.from_dict(_scrub(dict(nb.metadata), scrub))
    nbformat.write(nb, path)


def _copy_executed(root: Path, bdir: Path, src: Path, name: str, profile: str) -> list[Path]:
    """Copy the executed notebooks of ``notebooks/<name>`` into the book; a missing one fails the build."""
    sources = sorted((root / "notebooks" / name).glob("*.ipynb"))
    if sources:
        (src / name).mkdir(exist_ok=True)
    copied = []
    for nb in sources:
        done = bdir / "notebooks" / name / nb.name
        if not done.is_file():
            raise FileNotFoundError(
                f"missing page: {name}/{nb.name} has not been executed under the "
                f"'{profile}' profile ({done}); run: python -m physiofm run "
                f"--profile {profile} --only {name}"
            )
        shutil.copy(done, src / name / nb.name)
        prepare_notebook(src / name / nb.name, root)
        copied.append(src / name / nb.name)
    return copied


def _params_appendix(root: Path, profile: str, manifest: dict) -> str:
    parts = [
        "# Appendix: the params of every run",
        "",
        f"The exact params files of the `{profile}` profile, as validated and injected by the runner.",
        "",
    ]
    for f in sorted((root / "params" / profile).glob("*.yaml")):
        parts += [f"## `params/{profile}/{f.name}`", "", "```yaml", f.read_text().rstrip(), "```", ""]
    published = sorted((root / "params" / "published").glob("*.yaml"))
    if published:
        parts += [
            "## Published numbers transcribed from the papers",
            "",
            "These files hold the papers' own numbers; every value is tested to occur in the paper text.",
            "",
        ]
        parts += [f"- `params/published/{f.name}`" for f in published] + [""]
    rows = [
        [k, v.get("status", ""), f"{v.get('seconds', 0):.1f}", str(v.get("input_hash", ""))[:12]]
        for k, v in sorted(manifest.items())
    ]
    if rows:
        parts += ["## Runs", "", _md_table(["step", "status", "seconds", "input hash"], rows), ""]
    return "\n".join(parts)


def _book_config(profile: str) -> dict:
    """Jupyter Book's ``_config.yml``: no execution, warnings as errors, no JavaScript that can fail."""
    return {
        "title": f"physiofm study ({profile} profile)",
        "author": "the physiofm team",
        "only_build_toc_files": True,
        "execute": {"execute_notebooks": "off"},
        "html": {"use_issues_button": False, "use_repository_button": False, "use_edit_page_button": False},
        "sphinx": {
            "config": {
                # Jupyter Book's extensions without sphinx_thebe (it declares THEBE_JS_URL once per read
                # pass, a JavaScript error on every page; the book runs no code).
                "extensions": [
                    "sphinx_togglebutton",
                    "sphinx_copybutton",
                    "myst_nb",
                    "jupyter_book",
                    "sphinx_comments",
                    "sphinx_external_toc",
                    "sphinx.ext.intersphinx",
                    "sphinx_design",
                    "sphinx_book_theme",
                ],
                # An explicit colour mode: without one the theme logs an error on a reader's first visit.
                "html_context": {"default_mode": "light"},
                "nitpicky": True,
                "suppress_warnings": ["mystnb.unknown_mime_type"],
                "html_show_copyright": False,
            }
        },
        "parse": {"myst_enable_extensions": ["colon_fence", "dollarmath"]},
    }


def assemble(profile: str, root: Path | None = None) -> Path:
    """Write the book's source tree for ``profile``; return its folder."""
    root = root or repo_root()
    bdir = build_dir(profile, root)
    src = bdir / "book"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    manifest = json.loads((bdir / "manifest.json").read_text()) if (bdir / "manifest.json").is_file() else {}
    written = root / "book"

    (src / "index.md").write_text(_landing(root, profile, manifest))
    for extra in ("_static", "figures"):
        if (written / extra).is_dir():
            shutil.copytree(written / extra, src / extra)

    parts: list[dict] = []
    study: list[dict] = []
    for name in STUDY_PARTS:
        executed = _copy_executed(root, bdir, src, name, profile)
        if executed:
            (src / name / "index.md").write_text(f"# {STUDY_PARTS[name]}\n\n" + _listing(executed))
            study.append(
                {"file": f"{name}/index", "sections": [{"file": f"{name}/{nb.stem}"} for nb in executed]}
            )
    own = {"intro", *PAPERS, *CLOSING_PARTS}
    for p in sorted(p for p in written.glob("*.md") if p.stem not in own):
        shutil.copy(p, src / p.name)
        study.append({"file": p.stem})
    if study:
        parts.append({"caption": "The study", "chapters": study})

    for paper in PAPERS:
        executed = _copy_executed(root, bdir, src, paper, profile)
        (src / paper).mkdir(exist_ok=True)
        if (written / f"{paper}.md").is_file():
            shutil.copy(written / f"{paper}.md", src / paper / "index.md")
        elif executed:
            (src / paper / "index.md").write_text(_paper_intro(paper, executed))
        else:
            (src / paper / "index.md").write_text(_not_reproduced(paper))
        parts.append(
            {
                "caption": PAPERS[paper],
                "chapters": [
                    {
                        "file": f"{paper}/index",
                        "sections": [{"file": f"{paper}/{nb.stem}"} for nb in executed],
                    }
                    if executed
                    else {"file": f"{paper}/index"}
                ],
            }
        )

    for name, title in CLOSING_PARTS.items():  # the parts after the papers
        executed = _copy_executed(root, bdir, src, name, profile)
        if not executed and not (written / f"{name}.md").is_file():
            continue
        (src / name).mkdir(exist_ok=True)
        if (written / f"{name}.md").is_file():
            shutil.copy(written / f"{name}.md", src / name / "index.md")
        else:
            (src / name / "index.md").write_text(f"# {title}\n\n" + _listing(executed))
        chapter: dict[str, Any] = {"file": f"{name}/index"}
        if executed:
            chapter["sections"] = [{"file": f"{name}/{nb.stem}"} for nb in executed]
        parts.append({"caption": title, "chapters": [chapter]})

    (src / "appendix_params.md").write_text(_params_appendix(root, profile, manifest))
    parts.append({"caption": "Appendix", "chapters": [{"file": "appendix_params"}]})

    toc = {"format": "jb-book", "root": "index", "parts": parts}
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    (src / "_config.yml").write_text(yaml.safe_dump(_book_config(profile), sort_keys=False))
    return src


def build_book(profile: str, root: Path | None = None) -> Path:
    """Assemble and build the HTML book; return the path of its ``index.html``. Warnings fail the build."""
    src = assemble(profile, root)
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [
        str(jb) if jb.exists() else "jupyter-book",
        "build",
        str(src),
        "--builder",
        "html",
        "-W",
        "-n",
        "--keep-going",
        "--quiet",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(
            f"book build failed (jupyter-book exit {proc.returncode}):\n{proc.stdout[-4000:]}\n"
            f"{proc.stderr[-4000:]}"
        )
    index = src / "_build" / "html" / "index.html"
    if not index.is_file():
        raise RuntimeError(f"book build produced no {index}")
    return index
