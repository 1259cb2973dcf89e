"""Command line: ``python -m physiofm run ...``, ``python -m physiofm book ...`` and
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
            outcomes = run(args.profile, args.only, args.force, args.data_root)
        except (ParamsError, ValueError, FileNotFoundError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print("\n" + summary_table(outcomes))
        failed = [o for o in outcomes if o.status in ("failed", "blocked")]
        return 1 if failed else 0

    try:
        index = build_book(args.profile)
    except (RuntimeError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(index)
    return 0


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
