"""Benchmark: demo-size synthetic cohorts must generate (plan + render all records) in < 2 min on 2 cores.

Run: ``python tests/benchmarks/bench_synthetic.py [--workers 2]``. Demo sizes give every demo notebook a
few thousand segments: ICU 60 subjects x 12 min (4,320 ten-second segments), 12-lead 2,000 patients
(~2,300 records), PSG 20 subjects x 2 h (4,800 thirty-second epochs).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
import warnings

import numpy as np

from physiofm.synthetic import ecg12_cohort, icu_cohort, psg_cohort

DEMO = {
    "icu": (icu_cohort, {"n_subjects": 60, "seed": 0, "duration_s": 720.0}, 10.0),
    "ecg12": (ecg12_cohort, {"n_subjects": 2000, "seed": 0}, 10.0),
    "psg": (psg_cohort, {"n_subjects": 20, "seed": 0, "hours": 2.0}, 30.0),
}
LIMIT_S = 120.0
_COHORT = None


def _render(i: int) -> tuple[float, int, int]:
    """Render record i of the global cohort; return a checksum, sample count and segment count."""
    rec = _COHORT.recordings[i]
    total = sum(float(np.nansum(x, dtype=np.float64)) for x in rec.signals.values())
    n = sum(x.size for x in rec.signals.values())
    return total, n, int(len(rec.annotations)) if rec.annotations is not None else 1


def run(name: str, workers: int) -> dict:
    global _COHORT
    fn, kwargs, seg_s = DEMO[name]
    t0 = time.perf_counter()
    _COHORT = fn(**kwargs)
    t_plan = time.perf_counter() - t0
    idx = range(len(_COHORT.recordings))
    if workers > 1:
        with mp.get_context("fork").Pool(workers) as pool:
            out = pool.map(_render, idx, chunksize=max(1, len(idx) // (8 * workers)))
    else:
        out = [_render(i) for i in idx]
    total = time.perf_counter() - t0
    return {
        "cohort": name,
        "records": len(out),
        "segments": sum(o[2] for o in out),
        "samples_M": sum(o[1] for o in out) / 1e6,
        "plan_s": t_plan,
        "total_s": total,
        "checksum": sum(o[0] for o in out),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    warnings.simplefilter("ignore", FutureWarning)
    t0 = time.perf_counter()
    rows = [run(name, args.workers) for name in DEMO]
    elapsed = time.perf_counter() - t0
    for r in rows:
        print(
            f"{r['cohort']:6s} {r['records']:5d} records {r['segments']:6d} segments "
            f"{r['samples_M']:8.1f} M samples  plan {r['plan_s']:5.1f} s  total {r['total_s']:5.1f} s"
        )
    print(f"all three demo cohorts: {elapsed:.1f} s with {args.workers} worker(s) (limit {LIMIT_S:.0f} s)")
    if elapsed > LIMIT_S:
        raise SystemExit(f"too slow: {elapsed:.1f} s > {LIMIT_S:.0f} s")


if __name__ == "__main__":
    main()
