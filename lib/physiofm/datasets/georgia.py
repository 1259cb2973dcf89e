"""Georgia 12-lead ECG Challenge database (PhysioNet/CinC Challenge 2020/2021), registry name ``georgia``.

Citation: Perez Alday E.A. et al. Classification of 12-lead ECGs: the PhysioNet/Computing in Cardiology
Challenge 2020. Physiol. Meas. 41(12):124003 (2020). doi:10.1088/1361-6579/abc960.

Download: https://physionet.org/content/challenge-2021/1.0.3/ (folder ``training/georgia/g1..g11``) or
the 2020 release ``WFDB_Ga.tar.gz`` (https://physionet.org/content/challenge-2020/1.0.2/).
Licence: Creative Commons Attribution 4.0.

Layout (``root`` is searched recursively)::

    root/g1/E00001.hea  root/g1/E00001.mat  ...   (10,344 records, 12 leads @ 500 Hz, mostly 10 s)

Tasks (SyneCo "Georgia diagnosis", 22-class multi-label SNOMED-CT): columns ``dx_<class>`` over the
CinC 2020 scored classes (:data:`physiofm.datasets.cinc.CINC2020_SCORED`, equivalent codes merged).
By default the loader keeps every scored class with at least ``min_count`` positive records in the loaded
copy; the option ``classes`` pins the list instead (every named class gets its column, positives or not).
SyneCo does not list its 22 classes: :data:`SYNECO_CLASSES` are the 24 scored classes less the two the
Georgia release never labels (pacing rhythm, prolonged PR interval: 0 Georgia records in the challenge's
``dx_mapping_scored.csv``), which is 22. Also ``age``, ``sex`` / ``female``.
Records have no patient identifier, so ``subject_id`` = record id.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from physiofm.recording import RecordingSet

from ._layout import LEADS_12, FileSpec, Layout
from .cinc import CINC2020_SCORED, classes_from_codes, index_headers, make_set, warn_unlabelled

LAYOUT = Layout(
    files=(FileSpec("**/*.hea", "g1/E00001.hea"), FileSpec("**/*.mat", "g1/E00001.mat", required=False)),
    channels=LEADS_12,
    rates={"*": 500.0},
)

# The scored classes (equivalent codes merged) the Georgia release labels: SyneCo's "22-class" task.
SYNECO_CLASSES: tuple[str, ...] = tuple(c for c in CINC2020_SCORED if c not in ("PR", "LPR"))



def load(root: Path, min_count: int = 1, classes: Sequence[str] | None = None) -> RecordingSet:
    """Georgia records; ``min_count``: keep scored classes with at least this many positives; ``classes``:
    exactly these scored classes (e.g. :data:`SYNECO_CLASSES`), whatever their counts."""
    table = index_headers(root, "georgia")
    if classes is None:
        hot, cols = classes_from_codes(table, CINC2020_SCORED, min_count=min_count)
    else:
        unknown = sorted(set(classes) - set(CINC2020_SCORED))
        if unknown:
            raise ValueError(f"georgia: {unknown} are not CinC 2020 scored classes {list(CINC2020_SCORED)}")
        hot, cols = classes_from_codes(table, {c: CINC2020_SCORED[c] for c in classes}, min_count=0)
    table = pd.concat([table, hot], axis=1)
    warn_unlabelled(table, cols, "georgia")
    tasks = {
        "diagnosis": {"type": "multilabel", "level": "record", "columns": cols, "papers": ["syneco"]},
        "sex": {"type": "binary", "level": "record", "columns": ["female"], "papers": []},
    }
    return make_set("georgia", table, tasks, root)
