"""Wall time of the whole study with ``--jobs 1`` and ``--jobs 2``, side by side (a benchmark, not a test).

Each run starts from a fresh build folder: the study's notebooks, params and chapters are copied to
``build/bench-runner/<profile>-jobs<N>/`` (removed first) and ``python -m physiofm run --profile <profile>
--jobs N`` runs there (``PHYSIOFM_ROOT`` points at the copy), one run after the other, so the two never share
cores or caches. Reported: the wall time of each run (the runner's process, start to exit) and each step's
notebook time from its manifest.

Run: ``python tests/benchmarks/bench_runner.py [--profile ci|demo] [--jobs 1 2] [--book]``; ``ci`` (default)
is a quick check of the mechanics, ``demo`` gives the figure the issue asks for (tens of minutes).
``--book`` also times building the book from each run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from physiofm.paths import repo_root

COPIED = ("notebooks", "params", "book", "pyproject.toml", "requirements.lock")


def fresh_root(source: Path, target: Path) -> Path:
    """A copy of what the runner reads (notebooks, params, chapters) in an empty folder."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in COPIED:
        src = source / name
        if src.is_dir():
            shutil.copytree(src, target / name)
        elif src.is_file():
            shutil.copy(src, target / name)
    return target


def timed_run(root: Path, profile: str, jobs: int, book: bool) -> dict:
    """Run the study (and the book) in ``root``; wall seconds, exit code and per-step notebook seconds."""
    env = os.environ | {"PHYSIOFM_ROOT": str(root)}
    log = root / f"run-jobs{jobs}.log"
    t0 = time.perf_counter()
    with open(log, "w") as f:
        command = [sys.executable, "-m", "physiofm", "run", "--profile", profile, "--jobs", str(jobs)]
        rc = subprocess.run(command, cwd=root, env=env, stdout=f, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - t0
    book_s = None
    if book and rc == 0:
        t1 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "physiofm", "book", "--profile", profile], cwd=root, env=env,
                       check=True, capture_output=True)
        book_s = time.perf_counter() - t1
    manifest = json.loads((root / "build" / profile / "manifest.json").read_text())
    steps = {k: v.get("seconds", 0.0) for k, v in manifest.items()}
    return {"wall": wall, "rc": rc, "steps": steps, "book": book_s, "log": log}


def report(results: dict[int, dict]) -> str:
    jobs = sorted(results)
    keys = list(dict.fromkeys(k for j in jobs for k in results[j]["steps"]))
    w = max([len(k) for k in keys] + [24])
    head = f"{'':<{w}}" + "".join(f"  {f'--jobs {j}':>10}" for j in jobs)
    rows = [head, "-" * len(head)]
    rows += [f"{k:<{w}}" + "".join(f"  {results[j]['steps'].get(k, float('nan')):>10.1f}" for j in jobs)
             for k in keys]
    rows.append("-" * len(head))
    rows.append(f"{'sum of notebook seconds':<{w}}" + "".join(
        f"  {sum(results[j]['steps'].values()):>10.1f}" for j in jobs))
    rows.append(f"{'wall time of the run (s)':<{w}}"
                + "".join(f"  {results[j]['wall']:>10.1f}" for j in jobs))
    if any(results[j]["book"] is not None for j in jobs):
        rows.append(f"{'book build (s)':<{w}}" + "".join(
            f"  {results[j]['book'] or float('nan'):>10.1f}" for j in jobs))
    rows.append(f"{'exit code':<{w}}" + "".join(f"  {results[j]['rc']:>10d}" for j in jobs))
    if len(jobs) > 1:
        rows.append(f"speed-up of --jobs {jobs[-1]} over --jobs {jobs[0]}: "
                    f"{results[jobs[0]]['wall'] / results[jobs[-1]]['wall']:.2f}x")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=("ci", "demo"), default="ci")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--book", action="store_true", help="also time the book build of each run")
    args = parser.parse_args()
    source = repo_root()
    results = {}
    for jobs in args.jobs:
        root = fresh_root(source, source / "build" / "bench-runner" / f"{args.profile}-jobs{jobs}")
        print(f"--jobs {jobs}: running the {args.profile} study in {root} ...", flush=True)
        results[jobs] = timed_run(root, args.profile, jobs, args.book)
        print(f"--jobs {jobs}: {results[jobs]['wall']:.1f} s (exit {results[jobs]['rc']}; log "
              f"{results[jobs]['log']})", flush=True)
    print(f"\nprofile {args.profile} on {os.cpu_count()} cores\n" + report(results))
    return max(r["rc"] for r in results.values())


if __name__ == "__main__":
    sys.exit(main())
