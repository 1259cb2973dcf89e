"""Segment-store read throughput through a torch DataLoader with 2 workers, in SyneCo segments per second.

Store: sharded memory-mapped float32 arrays (ECG II, ECG V: (1, 5000); PPG: (1, 1250) per segment),
read with :meth:`physiofm.store.SegmentDataset.loader` (shuffled batches of 256 index lists, one batched
memmap read per batch). Baseline: the same segments as one ``.npy`` file per segment (all three channels
in one file, the kindest per-file layout), read by a per-item Dataset with the default collate. Both are
timed on a warm page cache, after one untimed pass. Target: >= 20,000 segments/s for the store.
Run: ``python tests/benchmarks/bench_store.py [n_segments]``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from physiofm.recording import Recording
from physiofm.segments import Segments
from physiofm.store import SegmentDataset, SegmentStore

SHAPES = {"ecg_ii": (1, 5000), "ecg_v": (1, 5000), "ppg": (1, 1250)}
PER_SHARD = 1000


def fake_process(records: list[Recording]) -> Segments:
    """Stand-in preprocessing: PER_SHARD random segments per shard (the benchmark is about reading)."""
    rng = np.random.default_rng(int(records[0].subject_id[1:]))
    arrays = {g: rng.standard_normal((PER_SHARD, *s), dtype=np.float32) for g, s in SHAPES.items()}
    index = pd.DataFrame({"subject_id": records[0].subject_id, "record_id": records[0].record_id,
                          "source": "bench", "offset_s": 10.0 * np.arange(PER_SHARD)})
    index["start_time"] = index["offset_s"]
    return Segments(arrays, index, {"ecg_ii": 500.0, "ecg_v": 500.0, "ppg": 125.0})


class PerFileDataset(torch.utils.data.Dataset):
    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        flat = torch.from_numpy(np.load(self.paths[i]))
        return {"ecg_ii": flat[:5000].view(1, -1), "ecg_v": flat[5000:10000].view(1, -1),
                "ppg": flat[10000:].view(1, -1)}


def time_loader(loader, epochs: int = 3) -> tuple[float, float]:
    """(best, median) segments/s over ``epochs`` timed passes; the machine is shared, so the best pass
    is the least disturbed one."""
    for _ in loader:    # warm-up pass: page cache, worker start
        pass
    rates = []
    for _ in range(epochs):
        n, t0 = 0, time.perf_counter()
        for batch in loader:
            n += len(batch["ppg"])
        rates.append(n / (time.perf_counter() - t0))
    return max(rates), float(np.median(rates))


def main(n_segments: int = 16_000) -> None:
    torch.set_num_threads(1)
    n_shards = n_segments // PER_SHARD
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        tmp = Path(tmp)
        recs = [Recording(f"r{k}", f"s{k}", "bench", {"x": np.zeros(2)}, {"x": 1.0}) for k in range(n_shards)]
        t0 = time.perf_counter()
        store = SegmentStore.build(tmp / "store", recs, fake_process, subjects_per_shard=1, workers=2)
        build_s = time.perf_counter() - t0
        ds = SegmentDataset(store)
        fast = time_loader(ds.loader(batch_size=256, shuffle=True, num_workers=2, drop_last=False))

        n_files = min(len(store), 4000)
        files = []
        (tmp / "files").mkdir()
        for start in range(0, n_files, 1000):
            chunk = store.read(np.arange(start, min(start + 1000, n_files)))
            flat = np.concatenate([chunk["ecg_ii"][:, 0], chunk["ecg_v"][:, 0], chunk["ppg"][:, 0]], axis=1)
            for j, row in enumerate(flat):
                files.append(tmp / "files" / f"{start + j:07d}.npy")
                np.save(files[-1], row)
        per_file = PerFileDataset(files)
        slow = time_loader(torch.utils.data.DataLoader(per_file, batch_size=256, shuffle=True, num_workers=2,
                                                       persistent_workers=True))
        size_gb = sum(p.stat().st_size for p in (tmp / "store" / "shards").glob("*.npy")) / 1e9
        print(f"store: {len(store)} segments in {n_shards} shards ({size_gb:.2f} GB), built in "
              f"{build_s:.1f} s with 2 workers; verify:", "ok" if store.verify()["ok"].all() else "FAILED")
        print("DataLoader, 2 workers, batch 256, shuffled, warm page cache")
        print("                                          best pass   median of 3")
        print(f"  sharded memmap store, batched reads   : {fast[0]:9.0f}   {fast[1]:9.0f} segments/s"
              "   (target >= 20000)")
        print(f"  one .npy file per segment (baseline)  : {slow[0]:9.0f}   {slow[1]:9.0f} segments/s"
              f"   (best x{fast[0] / slow[0]:.1f})")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
