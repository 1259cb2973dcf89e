"""Worker processes give exactly the numbers of one process: probes and a short training run, in order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from physiofm import methods
from physiofm.evaluation.protocol import holdout_probes
from physiofm.evaluation.tasks import Task
from physiofm.parallel import parallel_map


def _train(seed: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    enc = {"kind": "net1d", "base_filters": 4, "filters": [8], "blocks": [1], "kernel_size": 3, "stride": 2,
           "groups_width": 4, "stem_stride": 2, "dropout": 0.1, "embed_dim": 8}
    method = methods.build("simclr", {"encoder": enc, "max_mask_fraction": 0.1})
    opt = torch.optim.AdamW(method.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(seed)
    batch = {"ecg_ii": torch.randn(8, 1, 64, generator=g), "ecg_v": torch.randn(8, 1, 64, generator=g)}
    for _ in range(3):
        opt.zero_grad()
        method.loss(batch).backward()
        opt.step()
    return method.state_dict()


def test_parallel_map_is_the_sequential_result_in_order() -> None:
    torch.set_num_threads(1)
    items = [(s,) for s in (0, 1, 2)]
    one, two = parallel_map(_train, items, workers=1), parallel_map(_train, items, workers=2)
    for a, b in zip(one, two):
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(one[0]["encoders.ecg_ii.proj.weight"], one[1]["encoders.ecg_ii.proj.weight"])


def test_probes_over_workers_match_one_process() -> None:
    rng = np.random.default_rng(0)
    subj = np.repeat([f"s{i:02d}" for i in range(30)], 2)
    labels = pd.DataFrame({"row": np.arange(60), "subject_id": subj, "record_id": subj,
                           "offset_s": np.tile([0.0, 10.0], 30), "y": np.repeat(rng.integers(0, 2, 30), 2)})
    X = rng.standard_normal((60, 6)).astype(np.float32) + labels["y"].to_numpy()[:, None]
    embeddings = {m: {"in:all": X + i} for i, m in enumerate(("a", "b", "c"))}
    jobs = [(m, Task("y", "binary", ("y",), rows=r)) for m in embeddings for r in ("segment", "subject")]
    kw = dict(seeds=[0, 1], probes=["lr", "fc", "rf"], test_fraction=0.3, max_segments=None,
              probe_kwargs={"rf": {"n_estimators": 5}, "fc": {"max_epochs": 5}})
    one = holdout_probes(embeddings, labels, jobs, workers=1, **kw)
    two = holdout_probes(embeddings, labels, jobs, workers=2, **kw)
    pd.testing.assert_frame_equal(one, two)
    assert len(one) == 3 * 2 * 2 * 3 * 2  # methods x rows x seeds x probes x metrics
