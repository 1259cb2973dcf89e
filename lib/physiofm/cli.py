"""Command line: ``python -m physiofm run ...``, ``... check ...`` (data preflight), ``... book ...``."""

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
    c = sub.add_parser("check", help="check every dataset root the selected steps read (no notebook runs)")
    c.add_argument("--profile", choices=PROFILES, default="paper")
    c.add_argument("--only", nargs="+", metavar="PAPER[/STEP]", help="check only what these steps read")
    c.add_argument("--data-root", metavar="PATH", help="root of the real datasets")
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

    if args.command == "check":
        return check_main(args.profile, args.only, args.data_root)

    from physiofm.book import build_book

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


if __name__ == "__main__":
    sys.exit(main())
