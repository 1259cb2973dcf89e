from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# ../shared/real-samples beside the checkout; PHYSIOFM_REAL_SAMPLES points a git worktree elsewhere at it
REAL_SAMPLES = Path(os.environ.get("PHYSIOFM_REAL_SAMPLES", REPO.parent / "shared" / "real-samples"))

# Keep the BLAS/torch thread pools small: CI has 2 cores and some tests spawn kernels and workers.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


@pytest.fixture
def real_samples() -> Path:
    """../shared/real-samples beside the checkout; tests that need it skip cleanly when it is absent."""
    if not REAL_SAMPLES.is_dir():
        pytest.skip("../shared/real-samples is absent (a fresh clone has no ../shared)")
    return REAL_SAMPLES


@pytest.fixture(scope="session")
def real_data_root(tmp_path_factory: pytest.TempPathFactory):
    """The real samples laid out as a ``--data-root`` in each dataset's native layout, with symlinks
    (:mod:`realdata` says which paper-profile sources this covers and which it cannot)."""
    if not REAL_SAMPLES.is_dir():
        pytest.skip("../shared/real-samples is absent (a fresh clone has no ../shared)")
    from realdata import assemble, paper_subdirs

    return assemble(REAL_SAMPLES, tmp_path_factory.mktemp("real-data-root"), paper_subdirs(REPO))
