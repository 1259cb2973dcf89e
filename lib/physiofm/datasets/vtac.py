"""VTaC: ventricular tachycardia alarms from ICU monitors, registry name ``vtac``.

Citation: Lehman L.H., Moody B., Deep H., Wu F., Saeed H., McCullum L., Perry D., Struja T., Li Q.,
Clifford G., Mark R.G. VTaC: a benchmark dataset of ventricular tachycardia alarms from ICU monitors.
NeurIPS 2023 Datasets and Benchmarks. PhysioNet: https://physionet.org/content/vtac/1.0/.
Licence: Open Data Commons Open Database License v1.0 (PhysioNet, open access).

Layout (as relied on from the release's published scripts, ``physionet.org/files/vtac/1.0``)::

    root/event_labels.csv             event, decision (True = true VT alarm, False = false alarm), ...
    root/benchmark_data_split.csv     record, event, split (official train / val / test)
    root/waveforms/<record>/<event>.hea/.dat   one 6-min WFDB record per alarm event, 250 Hz,
                                               >= 2 ECG leads + PLETH and/or ABP

Each alarm event is one record (``record_id`` = event, ``subject_id`` = the ``record`` folder, i.e. the
monitored stay). Channels are read with :func:`physiofm.datasets.icu.read_record` (``ecg_ii``, ``ecg_v``,
``ppg`` by default; a missing channel is a warning naming the file). Task (SyneCo multi-channel
benchmark): ``false_alarm`` (1 = false alarm, 0 = true VT), with ``true_alarm`` kept too; ``split`` is
the official benchmark split. The alarm onset lies ``alarm_onset_s`` (default 300 s, i.e. 5 min into
the 6-min record) and is stored in ``Recording.meta`` and as a one-row annotation ``alarm``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from physiofm.recording import Recording, RecordingSet

from ._common import DatasetError, require_file
from ._layout import FileSpec, Layout, wfdb_files
from .icu import read_record

_TRUTH = {"true": 1, "false": 0, "1": 1, "0": 0, "1.0": 1, "0.0": 0}

LAYOUT = Layout(
    files=(
        FileSpec("event_labels.csv"), FileSpec("benchmark_data_split.csv"),
        *wfdb_files("waveforms/*/*", "waveforms/<record>/<event>"),
    ),
    channels=("ecg_ii", "ecg_v"),  # PLETH is absent from some events (a warning, not an error)
    rates={"*": 250.0},
)


def load(root: Path, channels: str = "canonical", alarm_onset_s: float = 300.0) -> RecordingSet:
    """VTaC alarm events with their adjudicated label and the official split."""
    labels = pd.read_csv(require_file(root / "event_labels.csv", "VTaC event labels"), dtype=str)
    split = pd.read_csv(require_file(root / "benchmark_data_split.csv", "VTaC benchmark split"), dtype=str)
    for name, table, cols in (
        ("event_labels.csv", labels, ("event", "decision")),
        ("benchmark_data_split.csv", split, ("record", "event", "split")),
    ):
        absent = [c for c in cols if c not in table.columns]
        if absent:
            raise DatasetError(f"{root / name}: column(s) {absent} missing")
    bad = ~labels["decision"].str.strip().str.lower().isin(_TRUTH)
    if bad.any():
        raise DatasetError(
            f"{root / 'event_labels.csv'}: event {labels.loc[bad, 'event'].iloc[0]} has unknown "
            f"decision {labels.loc[bad, 'decision'].iloc[0]!r}"
        )
    labels["true_alarm"] = labels["decision"].str.strip().str.lower().map(_TRUTH)
    table = split[["record", "event", "split"]].merge(labels[["event", "true_alarm"]], on="event", how="left")
    if table["true_alarm"].isna().any():
        raise DatasetError(
            f"{root / 'event_labels.csv'}: no label for event "
            f"{table.loc[table['true_alarm'].isna(), 'event'].iloc[0]}"
        )
    table = pd.DataFrame(
        {
            "record_id": table["event"],
            "subject_id": table["record"],
            "path": [
                str(root / "waveforms" / r / e) for r, e in zip(table["record"], table["event"], strict=True)
            ],
            "split": table["split"].str.strip(),
            "true_alarm": table["true_alarm"].astype(int),
            "false_alarm": 1 - table["true_alarm"].astype(int),
        }
    )

    def load_row(row: pd.Series) -> Recording:
        rec = read_record(
            row["path"],
            channels=channels,
            source="vtac",
            subject_id=row["subject_id"],
            record_id=row["record_id"],
        )
        rec.labels.update(
            true_alarm=int(row["true_alarm"]), false_alarm=int(row["false_alarm"]), split=row["split"]
        )
        rec.meta["alarm_onset_s"] = alarm_onset_s
        rec.annotations = pd.DataFrame({"onset": [alarm_onset_s], "duration": [0.0], "alarm": ["VT"]})
        return rec

    tasks = {
        "false_alarm": {"type": "binary", "level": "record", "columns": ["false_alarm"], "papers": ["syneco"]}
    }
    return RecordingSet("vtac", table, load_row, info={"root": str(root), "tasks": tasks})
