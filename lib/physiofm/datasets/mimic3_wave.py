"""MIMIC-III Waveform Database Matched Subset, registry name ``mimic3_wave``.

Citation: Moody B., Moody G., Villarroel M., Clifford G.D., Silva I. MIMIC-III Waveform Database Matched
Subset (version 1.0). PhysioNet (2020). doi:10.13026/c2294b; Johnson A.E.W. et al. MIMIC-III, a freely
accessible critical care database. Sci. Data 3:160035 (2016).

Download: https://physionet.org/content/mimic3wdb-matched/1.0/. Licence: Open Data Commons Open Database
License v1.0 (open access).

Layout::

    root/p00/p000020/p000020-2183-04-28-17-47.hea      master (multi-segment) header of one waveform record
    root/p00/p000020/3544749_layout.hea                 layout segment (all channels of the record)
    root/p00/p000020/3544749_0001.hea/.dat ...          segments (125 Hz; II, V, AVR, PLETH, ABP, ...)
    root/p00/p000020/p000020-2183-04-28-17-47n.hea/.dat numerics record (ignored)

Each segment with ``ecg_ii``, ``ecg_v`` and ``ppg`` (option ``require``) is one record
``p000020/3544749_0001``; ``subject_id`` is the ``pXXXXXX`` folder; ``start_time`` counts seconds from the
subject's first waveform record (master base date/time + segment offset), so gaps between segments
and between records stay visible to segmentation. Options: ``require`` (canonical channels a segment
must have), ``min_duration_s`` (SyneCo keeps >= 600 s of continuous recording), ``channels``
(``"canonical"``/``"all"``), ``subjects`` (restrict to these ``pXXXXXX`` ids). No task labels:
this is SyneCo pre-training data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from physiofm.recording import RecordingSet

from ._layout import ICU_RATES, FileSpec, Layout, wfdb_files
from .icu import CANONICAL, load_matched, subject_masters

_MASTER = re.compile(r"^p\d{6}-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}\.hea$")

LAYOUT = Layout(
    files=(
        FileSpec("p*/p*/p*-*.hea", "p00/p000020/p000020-2183-04-28-17-47.hea"),
        FileSpec("p*/p*/*_layout.hea", "p00/p000020/3544749_layout.hea", required=False),
        *wfdb_files("p*/p*/*", "p00/p000020/3544749_0001"),
    ),
    channels=("{require}",),
    rates=ICU_RATES,
    ignored=("p*/p*/p*n.dat",),
    sample_root="p*/p*",  # one subject folder: the loader reads it on its own
)


def load(root: Path, require: Sequence[str] = CANONICAL, min_duration_s: float = 0.0,
         channels: str = "canonical", subjects: Sequence[str] | None = None) -> RecordingSet:
    """Segments of MIMIC-III matched waveform records."""
    masters = subject_masters(root, lambda p: bool(_MASTER.match(p.name)), lambda m: m.parent.name, subjects)
    return load_matched(root, "mimic3_wave", masters, require, min_duration_s, channels)
