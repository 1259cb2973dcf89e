"""Independent pieces of work (pretraining runs, probes, embeddings) spread over worker processes.

A run or a probe is a deterministic function of its inputs and seeds, so computing several at once in
separate processes, each with its own single-threaded torch and BLAS pools, gives exactly the numbers of
computing them one after another; on a machine with spare cores it takes a fraction of the time. Threads
inside one process would not: a multi-threaded reduction sums in another order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from joblib import Parallel, delayed, parallel_config
from tqdm.auto import tqdm


def parallel_map(fn: Callable[..., Any], items: Iterable[Sequence[Any]], workers: int = 1, threads: int = 1,
                 desc: str | None = None) -> list[Any]:
    """``[fn(*item) for item in items]``, in order, over ``workers`` processes of ``threads`` threads each
    (in this process when ``workers`` is 1 or there is one item); a progress bar named ``desc``. ``fn`` and
    the items must pickle."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [fn(*item) for item in tqdm(items, desc=desc, disable=desc is None)]
    with parallel_config(backend="loky", inner_max_num_threads=threads):
        run = Parallel(n_jobs=min(workers, len(items)), return_as="generator")
        done = run(delayed(fn)(*item) for item in items)
        return list(tqdm(done, total=len(items), desc=desc, disable=desc is None))
