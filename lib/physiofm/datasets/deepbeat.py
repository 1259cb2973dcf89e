"""DeepBeat wrist-PPG atrial fibrillation dataset, registry name ``deepbeat``.

Citation: Torres-Soto J., Ashley E.A. Multi-task deep learning for cardiac rhythm detection in wearable
devices. npj Digit. Med. 3:116 (2020). doi:10.1038/s41746-020-00320-4.

Download: Synapse, ID syn21985690 (https://www.synapse.org/#!Synapse:syn21985690), shared under a
non-commercial data use agreement (see github.com/AshleyLab/deepbeat).

Layout (as read by the authors' notebooks)::

    root/train.npz  root/validate.npz  root/test.npz
        signal      (N, 800, 1)  25-s wrist PPG segments at 32 Hz
        rhythm      (N, 2)       one-hot, column 1 = atrial fibrillation
        qa_label    (N, 3)       one-hot signal quality, index 2 = excellent (the notebooks' choice)
        parameters  (N, 3)       timestamp, stream, participant ID

One record per segment (``record_id`` = ``<split>/<index>``, ``subject_id`` = participant ID, ``split``
= the published partition). Task (AnyPPG): ``af`` binary; ``quality`` (0-2) is kept. Option ``splits``.
Signals are loaded once per file on first access (the arrays are large).

Security: the partitions are opened with ``np.load(..., allow_pickle=True)`` because the published files
may hold object arrays (``parameters`` mixes timestamps, stream names and participant IDs), which NumPy
stores as pickles; loading a pickled array runs code from the file. Read only a copy downloaded from
Synapse under the data use agreement.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from physiofm.recording import Recording, RecordingSet

from ._common import DatasetError, report_nans, require_file
from ._layout import FileSpec, Layout

FS = 32.0
KEYS = ("signal", "rhythm", "qa_label", "parameters")

LAYOUT = Layout(files=(FileSpec("{splits}.npz"),), channels=("ppg",), rates={"ppg": FS})


def load(root: Path, splits: Sequence[str] = ("train", "validate", "test")) -> RecordingSet:
    """DeepBeat segments of the requested published partitions."""
    parts = []
    for split in splits:
        path = require_file(root / f"{split}.npz", f"DeepBeat {split} partition")
        with np.load(path, allow_pickle=True) as data:
            missing = [k for k in KEYS if k not in data.files]
            if missing:
                raise DatasetError(f"{path}: array(s) {missing} missing (has {data.files})")
            rhythm, qa, params = data["rhythm"], data["qa_label"], data["parameters"]
        n = len(rhythm)
        if len(qa) != n or len(params) != n or rhythm.ndim != 2 or rhythm.shape[1] != 2:
            raise DatasetError(
                f"{path}: rhythm {rhythm.shape}, qa_label {qa.shape}, parameters {params.shape} "
                "do not describe the same segments"
            )
        parts.append(
            pd.DataFrame(
                {
                    "record_id": [f"{split}/{i}" for i in range(n)],
                    "subject_id": pd.Series(params[:, 2]).astype(str).to_numpy(),
                    "split": split,
                    "index": np.arange(n),
                    "path": str(path),
                    "af": rhythm[:, 1].astype(int),
                    "quality": np.argmax(qa, axis=1),
                }
            )
        )
    table = pd.concat(parts, ignore_index=True)
    cache: dict[str, np.ndarray] = {}

    def load_row(row: pd.Series) -> Recording:
        path = row["path"]
        if path not in cache:
            with np.load(path, allow_pickle=True) as data:
                sig = np.asarray(data["signal"])
            if sig.ndim != 3 or sig.shape[0] != (table["path"] == path).sum():
                raise DatasetError(
                    f"{path}: signal has shape {sig.shape}, expected (N, T, 1) with N rhythm rows"
                )
            cache[path] = sig
        signals, fs = {"ppg": cache[path][int(row["index"]), :, 0].astype(np.float64)}, {"ppg": FS}
        report_nans(signals, fs, f"{path}[{row['index']}]")
        return Recording(row["record_id"], row["subject_id"], "deepbeat", signals, fs, units={"ppg": "NU"},
                         labels={"af": int(row["af"]), "quality": int(row["quality"]), "split": row["split"]},
                         meta={"path": path})

    tasks = {"af": {"type": "binary", "level": "record", "columns": ["af"], "papers": ["anyppg"]}}
    return RecordingSet("deepbeat", table, load_row, info={"root": str(root), "tasks": tasks})
