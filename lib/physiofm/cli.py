"""Command line: ``python -m physiofm run ...``, ``... check ...`` (data preflight), ``... book ...`` and
``python -m physiofm pretrain ...`` (one paper's pretraining runs outside the notebook, e.g. on several GPUs:
``torchrun --nproc_per_node 4 -m physiofm pretrain --paper anyppg --profile paper --method anyppg``; the
pretrain notebook then finds the finished runs)."""

from __future__ import annotations

import argparse
import sys

from physiofm.book import build_book
from physiofm.config import ParamsError, step_context
from physiofm.paths import PROFILES
from physiofm.runner import run, summary_table
from physiofm.training.distributed import init_distributed
from physiofm.training.run import pretrain_step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="physiofm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="execute the study's notebooks with papermill")
    r.add_argument("--profile", choices=PROFILES, default="demo")
    r.add_argument("--only", nargs="+", metavar="PAPER[/STEP]", help="run only these (and what they need)")
    r.add_argument("--force", action="store_true", help="rerun steps even when they are up to date")
    r.add_argument("--data-root", metavar="PATH", help="root of the real datasets (paper profile)")
    r.add_argument("--jobs", type=int, metavar="N",
                   help="notebooks executed at once (default: the available cores); each gets cores // N "
                        "torch threads")
    r.add_argument("--smoke", action="store_true",
                   help="with --profile paper: the paper's data, preprocessing and splits with small models, "
                        "few steps and small probe grids (params/smoke/<paper>.yaml); artifacts in "
                        "build/smoke")
    r.add_argument("--stand-ins", action="store_true",
                   help="with --smoke: apply the overlays' declared stand-ins and leave out every source "
                        "whose dataset root fails the preflight (each listed) instead of stopping")
    c = sub.add_parser("check", help="check every dataset root the selected steps read (no notebook runs)")
    c.add_argument("--profile", choices=PROFILES, default="paper")
    c.add_argument("--only", nargs="+", metavar="PAPER[/STEP]", help="check only what these steps read")
    c.add_argument("--data-root", metavar="PATH", help="root of the real datasets")
    b = sub.add_parser("book", help="assemble and build the HTML book from executed notebooks")
    b.add_argument("--profile", choices=PROFILES, default="demo")
    t = sub.add_parser("pretrain", help="train a paper's pretraining runs (under torchrun: with DDP)")
    t.add_argument("--paper", required=True)
    t.add_argument("--profile", choices=PROFILES, default="paper")
    t.add_argument("--method", nargs="+", metavar="RUN", help="runs of shared.methods (default: the step's)")
    t.add_argument("--seed", nargs="+", type=int, help="pretraining seeds (default: the step's)")
    t.add_argument("--params-file", default=None)
    t.add_argument("--artifacts", default=None, help="the paper's artifact folder (default: the profile's)")
    args = parser.parse_args(argv)
    if args.command == "pretrain":
        return _pretrain(args)

    if args.command == "run":
        try:
            outcomes = run(args.profile, args.only, args.force, args.data_root, jobs=args.jobs,
                           smoke=args.smoke, stand_ins=args.stand_ins)
        except (ParamsError, ValueError, FileNotFoundError, RuntimeError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print("\n" + summary_table(outcomes))
        failed = [o for o in outcomes if o.status in ("failed", "blocked")]
        return 1 if failed else 0

    if args.command == "check":
        return check_main(args.profile, args.only, args.data_root)

    try:
        index = build_book(args.profile)
    except (RuntimeError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(index)
    return 0


def check_main(profile: str, only: list[str] | None, data_root: str | None) -> int:
    """``check``: print the preflight table; 0 when every needed dataset root is ok, 1 if one fails,
    2 when the params or the selection are unusable or ``--data-root`` is missing."""
    from physiofm.preflight import preflight

    try:
        report = preflight(profile, data_root, only)
    except (ParamsError, ValueError, FileNotFoundError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(report.table())
    return 0 if report.ok else 1


def _pretrain(args: argparse.Namespace) -> int:
    ctx = step_context(args.paper, "pretrain", args.profile, args.params_file, args.artifacts)
    results = pretrain_step(ctx, args.method, args.seed)
    if init_distributed().is_main:
        for name, by_seed in results.items():
            for seed, r in by_seed.items():
                print(f"{name} seed {seed}: {r.steps} steps, best validation loss {r.best_val_loss:.4f} "
                      f"({r.best_checkpoint})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
