"""Threads and device of one process (a notebook kernel, a torchrun worker, a test).

The study runs on shared CPUs. A BLAS or torch thread pool larger than the cores a process really gets makes
every small operation wait for its slowest thread: on 2 busy cores one 128 x 128 ridge solve took 0.1 s with
2 OpenBLAS threads and 0.3 ms with 1, so a nested CV ran 25 times slower. Hence one knob for torch's
intra-op pool and every BLAS / OpenMP pool. The runner passes ``torch_threads`` = cores / jobs to each
notebook, and :func:`physiofm.config.step_context` applies it.
"""

from __future__ import annotations

import os

import torch
from threadpoolctl import threadpool_limits

_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def set_threads(n: int) -> None:
    """Use ``n`` torch intra-op threads and ``n`` BLAS/OpenMP threads in this process from now on.

    threadpoolctl only reaches libraries already loaded, and NumPy and SciPy each bundle their own
    OpenBLAS, so SciPy's linear algebra is imported first; the environment variables cover libraries
    loaded later.
    """
    if n < 1:
        raise ValueError(f"thread count must be >= 1, got {n}")
    for var in _ENV:
        os.environ[var] = str(n)
    import scipy.linalg  # noqa: F401 - loads SciPy's own OpenBLAS so that the limit below reaches it

    torch.set_num_threads(n)
    threadpool_limits(limits=n)


def resolve_device(name: str = "auto") -> torch.device:
    """``"auto"``: the local rank's CUDA device when there is one, else the CPU; otherwise ``name``."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")
