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
SyneCo does not list its 22 classes; by default the loader keeps every scored class with at least
``min_count`` positive records in the loaded copy (option). Also ``age``, ``sex`` / ``female``.
Records have no patient identifier, so ``subject_id`` = record id.
"""

from __future__ import annotations

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


def load(root: Path, min_count: int = 1) -> RecordingSet:
    """Georgia records; ``min_count``: keep scored classes with at least this many positives."""
    table = index_headers(root, "georgia")
    hot, cols = classes_from_codes(table, CINC2020_SCORED, min_count=min_count)
    table = pd.concat([table, hot], axis=1)
    warn_unlabelled(table, cols, "georgia")
    tasks = {
        "diagnosis": {"type": "multilabel", "level": "record", "columns": cols, "papers": ["syneco"]},
        "sex": {"type": "binary", "level": "record", "columns": ["female"], "papers": []},
    }
    return make_set("georgia", table, tasks, root)
