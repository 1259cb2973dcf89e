"""Chapman-Shaoxing 12-lead ECG database (CinC 2020/2021 WFDB release), registry name ``chapman``.

Citation: Zheng J. et al. A 12-lead electrocardiogram database for arrhythmia research covering more
than 10,000 patients. Sci. Data 7:48 (2020). doi:10.1038/s41597-020-0386-x.

Download: https://physionet.org/content/challenge-2021/1.0.3/ folder ``training/chapman_shaoxing``
(records JS00001-JS10646; the Ningbo records JS10647+ sit in ``training/ningbo`` and read the same way).
Licence: Creative Commons Attribution 4.0.

Layout (searched recursively)::

    root/g1/JS00001.hea  root/g1/JS00001.mat  ...   (12 leads @ 500 Hz, 10 s, "# Dx:" SNOMED codes)

Tasks (SyneCo "Chap rhy" and "Chap sex"):

* ``rhythm`` - 11-class rhythm of Zheng et al. (SB, SR, AFIB, ST, AF = atrial flutter, SI = sinus
  irregularity, SVT, AT, AVNRT, AVRT, SAAWR), found through the SNOMED codes the CinC release uses for
  them (:data:`RHYTHM_CODES`, from the database's condition table). A record with none or several of
  these codes gets ``rhythm`` = NaN (counted in one warning naming example files).
* ``sex`` - ``female`` (1 = F); ``age`` is kept as well. ``subject_id`` = record id (one ECG per patient).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from physiofm.recording import RecordingSet

from ._common import warn
from ._layout import LEADS_12, FileSpec, Layout
from .cinc import dx_lists, index_headers, make_set

LAYOUT = Layout(
    files=(FileSpec("**/*.hea", "g1/JS00001.hea"), FileSpec("**/*.mat", "g1/JS00001.mat", required=False)),
    channels=LEADS_12,
    rates={"*": 500.0},
)

#: Zheng et al. 2020 rhythm acronyms -> SNOMED-CT code used in the CinC/PhysioNet headers
RHYTHM_CODES: dict[str, str] = {
    "SB": "426177001",
    "SR": "426783006",
    "AFIB": "164889003",
    "ST": "427084000",
    "AF": "164890007",
    "SI": "427393009",
    "SVT": "426761007",
    "AT": "713422000",
    "AVNRT": "233896004",
    "AVRT": "233897008",
    "SAAWR": "195101003",
}


def rhythm_of(codes: list[str]) -> str | float:
    found = [name for name, code in RHYTHM_CODES.items() if code in codes]
    return found[0] if len(found) == 1 else np.nan


def load(root: Path) -> RecordingSet:
    """Chapman-Shaoxing records with the 11-class rhythm and sex targets."""
    table = index_headers(root, "chapman")
    table["rhythm"] = dx_lists(table).map(rhythm_of)
    bad = table["rhythm"].isna()
    if bad.any():
        examples = ", ".join(table.loc[bad, "record_id"].head(3) + ".hea")
        warn(
            f"chapman: {int(bad.sum())} record(s) have no single rhythm among {list(RHYTHM_CODES)} "
            f"(e.g. {examples}); their rhythm is NaN"
        )
    tasks = {
        "rhythm": {
            "type": "multiclass",
            "level": "record",
            "columns": ["rhythm"],
            "classes": list(RHYTHM_CODES),
            "papers": ["syneco"],
        },
        "sex": {"type": "binary", "level": "record", "columns": ["female"], "papers": ["syneco"]},
    }
    return make_set("chapman", pd.DataFrame(table), tasks, root)
