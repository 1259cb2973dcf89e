"""Command line: ``python -m physiofm run ...`` and ``python -m physiofm book ...``."""

from __future__ import annotations

import argparse
import sys

from physiofm.config import ParamsError
from physiofm.paths import PROFILES


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
    b = sub.add_parser("book", help="assemble and build the HTML book from executed notebooks")
    b.add_argument("--profile", choices=PROFILES, default="demo")
    args = parser.parse_args(argv)

    if args.command == "run":
        from physiofm.runner import run, summary_table

        try:
            outcomes = run(args.profile, args.only, args.force, args.data_root, jobs=args.jobs)
        except (ParamsError, ValueError, FileNotFoundError, RuntimeError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print("\n" + summary_table(outcomes))
        failed = [o for o in outcomes if o.status in ("failed", "blocked")]
        return 1 if failed else 0

    from physiofm.book import build_book

    try:
        index = build_book(args.profile)
    except (RuntimeError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(index)
    return 0


if __name__ == "__main__":
    sys.exit(main())
