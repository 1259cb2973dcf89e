"""PPG-DaLiA: PPG dataset for motion compensation and heart rate estimation in daily life, registry ``dalia``.

Citation: Reiss A., Indlekofer I., Schmidt P., Van Laerhoven K. Deep PPG: large-scale heart rate
estimation with convolutional neural networks. Sensors 19(14):3079 (2019). doi:10.3390/s19143079.

Download: https://archive.ics.uci.edu/dataset/495/ppg+dalia (doi:10.24432/C53890).
Licence: Creative Commons Attribution 4.0.

Layout (searched recursively)::

    root/PPG_FieldStudy/S1/S1.pkl ... S15/S15.pkl   (other files of the release are not needed)

Each pickle (latin1 Python-2 pickle, see :mod:`physiofm.datasets._pickles`) holds ``signal`` (wrist
BVP 64 Hz, ACC 32 Hz, EDA/TEMP 4 Hz; chest 700 Hz), ``label`` (ECG-derived heart rate, one value per
8-s window shifted by 2 s), ``activity`` (activity id at 4 Hz), ``questionnaire`` and ``subject``.

One record per subject (15). Annotations: one row per HR window - ``onset`` = 2 i s, ``duration`` 8 s,
``hr`` (bpm) and ``activity`` (the most frequent activity id within the window) with
``activity_name``. Activity ids 0-8: 0 transient, 1 sitting, 2 stairs, 3 table soccer, 4 cycling,
5 driving, 6 lunch break, 7 walking, 8 working (9 classes, SyneCo "Dalia act."); SyneCo's HR
regression and AnyPPG's HR estimation use ``hr``. Ids outside 0-8 give a warning naming the file.
Options: ``include_chest`` adds the chest ECG (``ecg``, 700 Hz).

Security: the subject files are pickles, and loading a pickle runs code from the file. Read only a copy
downloaded from the UCI page above (see :mod:`physiofm.datasets._pickles`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from physiofm.recording import Recording, RecordingSet

from ._common import DatasetError, report_nans, task, warn
from ._pickles import read_pickle, subject_table, wrist_layout, wrist_signals

LAYOUT = wrist_layout("PPG_FieldStudy/S1/S1.pkl")

ACTIVITIES = dict(enumerate((
    "transient", "sitting", "stairs", "table soccer", "cycling", "driving", "lunch break", "walking",
    "working",
)))
HR_WINDOW_S, HR_SHIFT_S, ACTIVITY_FS = 8.0, 2.0, 4.0


def hr_annotations(hr: np.ndarray, activity: np.ndarray, path: Path) -> pd.DataFrame:
    hr = np.asarray(hr, dtype=np.float64).reshape(-1)
    act = np.asarray(activity).reshape(-1)
    unknown = sorted({int(a) for a in np.unique(act[~np.isnan(act.astype(float))])} - set(ACTIVITIES))
    if unknown:
        warn(f"{path}: activity id(s) {unknown} are not among the published ids 0-8")
    onsets = np.arange(len(hr)) * HR_SHIFT_S
    modes = []
    for t0 in onsets:
        window = act[int(t0 * ACTIVITY_FS) : int((t0 + HR_WINDOW_S) * ACTIVITY_FS)]
        if len(window) == 0:
            modes.append(np.nan)
            continue
        values, counts = np.unique(window.astype(int), return_counts=True)
        modes.append(int(values[np.argmax(counts)]))
    ann = pd.DataFrame({"onset": onsets, "duration": HR_WINDOW_S, "hr": hr, "activity": modes})
    ann["activity_name"] = ann["activity"].map(ACTIVITIES)
    return ann


def load(root: Path, include_chest: bool = False) -> RecordingSet:
    """PPG-DaLiA subjects with per-window HR and activity annotations."""
    table = subject_table(root)

    def load_row(row: pd.Series) -> Recording:
        path = Path(row["path"])
        data = read_pickle(path, ("signal", "label", "activity"))
        signals, fs, units = wrist_signals(data, path, include_chest)
        ann = hr_annotations(data["label"], data["activity"], path)
        ppg_s = len(signals["ppg"]) / fs["ppg"]
        expected = int((ppg_s - HR_WINDOW_S) // HR_SHIFT_S) + 1
        if abs(len(ann) - expected) > 1:
            raise DatasetError(
                f"{path}: {len(ann)} HR labels but the {ppg_s:.0f}-s BVP signal holds {expected} "
                "8-s windows (header/data length mismatch)"
            )
        report_nans(signals, fs, str(path))
        quest = data.get("questionnaire") or {}
        labels = {str(k).strip().lower(): (v.strip() if isinstance(v, str) else v) for k, v in quest.items()}
        return Recording(row["record_id"], row["subject_id"], "dalia", signals, fs, units=units,
                         labels=labels, annotations=ann, meta={"path": str(path)})

    tasks = {"hr": task("regression", "annotation", ["hr"], ["syneco", "anyppg"]),
             "activity": task("multiclass", "annotation", ["activity"], ["syneco"], classes=list(ACTIVITIES))}
    return RecordingSet("dalia", table, load_row, info={"root": str(root), "tasks": tasks})
