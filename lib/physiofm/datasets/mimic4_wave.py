"""MIMIC-IV Waveform Database, registry name ``mimic4_wave``.

Citation: Moody B., Hao S., Gow B., Pollard T., Zong W., Mark R. MIMIC-IV Waveform Database (version 0.1.0).
PhysioNet (2022). doi:10.13026/a2mw-f949; Johnson A.E.W. et al. MIMIC-IV, a freely accessible electronic
health record dataset. Sci. Data 10:1 (2023).

Download: https://physionet.org/content/mimic4wdb/0.1.0/. Licence: Open Data Commons Open Database
License v1.0 (open access).

Layout::

    root/waves/p100/p10014354/81739927/81739927.hea        master (multi-segment) header
    root/waves/p100/p10014354/81739927/81739927_0000.hea   segment header, multi-frequency frame
    root/waves/p100/p10014354/81739927/81739927_0000e.dat  FLAC-compressed signal files (format 516)
    root/waves/p100/p10014354/81739927/81739927n.csv.gz    numerics (ignored)

Segments are multi-rate (ECG ~250 Hz, Pleth ~125 Hz) and read with ``smooth_frames=False`` (needs the
``soundfile`` package for FLAC). Channel names (``II``, ``V``, ``Pleth``, ...) map to ``ecg_ii``,
``ecg_v``, ``ppg``. Records, ``subject_id`` (``pXXXXXXXX`` folder), ``start_time`` and options are as
in :mod:`physiofm.datasets.mimic3_wave`. No task labels (SyneCo pre-training data).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from physiofm.recording import RecordingSet

from ._layout import ICU_RATES, FileSpec, Layout
from .icu import CANONICAL, load_matched, subject_masters

LAYOUT = Layout(
    files=(
        FileSpec("waves/p*/p*/*/*.hea", "waves/p100/p10014354/81739927/81739927.hea"),
        FileSpec("waves/p*/p*/*/*.dat", "waves/p100/p10014354/81739927/81739927_0000e.dat"),
    ),
    channels=("{require}",),
    rates=ICU_RATES,
    ignored=("waves/p*/p*/*/*n.csv.gz",),
    sample_root="waves/p*/p*",  # one subject folder: the loader reads it on its own
)


def _is_master(p: Path) -> bool:
    return p.stem == p.parent.name  # <record>/<record>.hea


def load(root: Path, require: Sequence[str] = CANONICAL, min_duration_s: float = 0.0,
         channels: str = "canonical", subjects: Sequence[str] | None = None) -> RecordingSet:
    """Segments of MIMIC-IV waveform records."""
    masters = subject_masters(root, _is_master, lambda m: m.parent.parent.name, subjects)
    return load_matched(root, "mimic4_wave", masters, require, min_duration_s, channels)
