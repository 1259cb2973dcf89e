"""WESAD: wearable stress and affect detection, registry name ``wesad``.

Citation: Schmidt P., Reiss A., Duerichen R., Marberger C., Van Laerhoven K. Introducing WESAD, a
multimodal dataset for wearable stress and affect detection. ICMI 2018, 400-408.
doi:10.1145/3242969.3242985.

Download: https://archive.ics.uci.edu/dataset/465/wesad+wearable+stress+and+affect+detection
(doi:10.24432/C57K5T). Licence: Creative Commons Attribution 4.0 (UCI); the authors ask for academic,
non-commercial use.

Layout (searched recursively)::

    root/WESAD/S2/S2.pkl ... S17/S17.pkl   (15 subjects; S1 and S12 do not exist)

Pickle layout as PPG-DaLiA (:mod:`physiofm.datasets._pickles`) with ``label`` = study protocol
condition at 700 Hz: 0 not defined / transient, 1 baseline, 2 stress, 3 amusement, 4 meditation,
5-7 to be ignored. One record per subject; annotations are the runs of the condition code (``onset``,
``duration`` in s, ``condition`` code, ``condition_name``) with AnyPPG's targets:

* ``stress`` (binary): 1 = stress, 0 = baseline / amusement / meditation, NaN otherwise;
* ``affect`` (4 classes): 0 baseline, 1 stress, 2 amusement, 3 meditation, NaN otherwise.

Codes outside 0-7 give a warning naming the file. Option ``include_chest`` adds the chest ECG.

Security: the subject files are pickles, and loading a pickle runs code from the file. Read only a copy
downloaded from the UCI page above (see :mod:`physiofm.datasets._pickles`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from physiofm.recording import Recording, RecordingSet

from ._common import report_nans, warn
from ._pickles import CHEST_FS, read_pickle, runs, subject_table, wrist_layout, wrist_signals

LAYOUT = wrist_layout("WESAD/S2/S2.pkl")

CONDITIONS = dict(enumerate(("transient", "baseline", "stress", "amusement", "meditation", *["ignore"] * 3)))
AFFECT = {1: 0, 2: 1, 3: 2, 4: 3}
STRESS = {1: 0, 2: 1, 3: 0, 4: 0}


def condition_annotations(label: np.ndarray, path: Path) -> pd.DataFrame:
    codes = np.asarray(label).reshape(-1).astype(int)
    unknown = sorted(set(np.unique(codes).tolist()) - set(CONDITIONS))
    if unknown:
        warn(f"{path}: label code(s) {unknown} are not among the published codes 0-7")
    starts, lengths, values = runs(codes)
    ann = pd.DataFrame({"onset": starts / CHEST_FS, "duration": lengths / CHEST_FS, "condition": values})
    ann["condition_name"] = ann["condition"].map(CONDITIONS)
    ann["stress"] = ann["condition"].map(STRESS).astype(float)
    ann["affect"] = ann["condition"].map(AFFECT).astype(float)
    return ann


def load(root: Path, include_chest: bool = False) -> RecordingSet:
    """WESAD subjects with condition annotations (stress / affect targets)."""
    table = subject_table(root)

    def load_row(row: pd.Series) -> Recording:
        path = Path(row["path"])
        data = read_pickle(path, ("signal", "label"))
        signals, fs, units = wrist_signals(data, path, include_chest)
        ann = condition_annotations(data["label"], path)
        label_s, ppg_s = (
            len(np.asarray(data["label"]).reshape(-1)) / CHEST_FS,
            len(signals["ppg"]) / fs["ppg"],
        )
        if abs(label_s - ppg_s) > 1.0:
            warn(f"{path}: label covers {label_s:.1f} s but wrist BVP covers {ppg_s:.1f} s")
        report_nans(signals, fs, str(path))
        return Recording(row["record_id"], row["subject_id"], "wesad", signals, fs, units=units,
                         annotations=ann, meta={"path": str(path)})

    tasks = {
        "stress": {"type": "binary", "level": "annotation", "columns": ["stress"], "papers": ["anyppg"]},
        "affect": {
            "type": "multiclass",
            "level": "annotation",
            "columns": ["affect"],
            "classes": [0, 1, 2, 3],
            "papers": ["anyppg"],
        },
    }
    return RecordingSet("wesad", table, load_row, info={"root": str(root), "tasks": tasks})
