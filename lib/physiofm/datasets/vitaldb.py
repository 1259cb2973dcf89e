"""VitalDB intra-operative vital signs database, registry name ``vitaldb``.

Citation: Lee H.-C., Park Y., Yoon S.B., Yang S.M., Park D., Jung C.-W. VitalDB, a high-fidelity
multi-parameter vital signs database in surgical patients. Sci. Data 9:279 (2022).
doi:10.1038/s41597-022-01411-5.

Download: https://physionet.org/content/vitaldb/1.0.0/ (or the open API https://vitaldb.net/dataset/).
Licence: Creative Commons Attribution 4.0 (PhysioNet release).

Layout (searched recursively)::

    root/vital_files/0001.vital ... 6388.vital   one file per surgical case (caseid = file stem)
    root/clinical_data.csv                       caseid, subjectid, age, sex (M/F), emop (0/1), ...

Signals are read with ``vitaldb.VitalFile`` from the tracks ``SNUADC/ECG_II`` -> ``ecg_ii``,
``SNUADC/ECG_V5`` -> ``ecg_v``, ``SNUADC/PLETH`` -> ``ppg`` (500 Hz waveform tracks of the SNUADC
device), sampled on the file's clock at each track's own rate (``VitalFile.to_numpy``), so samples
a track lacks are NaN. ECG is converted to mV from the track unit (empty unit = mV, the device's).
A case without some of the tracks loads with a warning naming the file; ``require`` (default: all
three) drops cases whose file lacks a track at indexing time only when ``check_tracks=True``
(reading every header is slow for 6,388 files).

Tasks (SyneCo multi-channel benchmarks, per case): ``sex`` (``female`` = 1 for F) and emergency
operation ``emop`` (1 = emergency), both from ``clinical_data.csv``; ``subject_id`` = ``subjectid``
(patients with several cases share it). SyneCo's held-out test split (646 subjects) is not published.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from physiofm.recording import Recording, RecordingSet

from ._common import DatasetError, report_nans, sex_code, to_millivolts, warn
from ._layout import FileSpec, Layout

TRACKS = {"ecg_ii": "SNUADC/ECG_II", "ecg_v": "SNUADC/ECG_V5", "ppg": "SNUADC/PLETH"}

LAYOUT = Layout(
    files=(
        FileSpec("**/*.vital", "vital_files/0001.vital"),
        FileSpec("**/clinical_data.csv", "clinical_data.csv"),
    ),
    channels=("{require}",),
    rates={"*": 500.0},
)


def _clinical(root: Path) -> pd.DataFrame:
    path = next(iter(sorted(root.rglob("clinical_data.csv"))), None)
    if path is None:
        raise FileNotFoundError(f"{root}: clinical_data.csv (case table) not found")
    table = pd.read_csv(path)
    for col in ("caseid", "subjectid", "sex", "emop"):
        if col not in table.columns:
            raise DatasetError(f"{path}: column {col!r} missing (has {list(table.columns)[:12]}...)")
    return table


def read_case(path: Path, require: Sequence[str]) -> tuple[dict, dict, dict]:
    import vitaldb

    try:
        vf = vitaldb.VitalFile(str(path), list(TRACKS.values()))
    except Exception as exc:
        raise DatasetError(f"{path}: unreadable .vital file ({exc})") from exc
    present = {canon: trk for canon, trk in TRACKS.items() if trk in vf.trks and vf.trks[trk].srate > 0}
    absent = [c for c in TRACKS if c not in present]
    if absent:
        msg = f"{path}: track(s) {[TRACKS[c] for c in absent]} missing"
        if any(c in require for c in absent):
            raise DatasetError(msg)
        warn(msg)
    signals, fs, units = {}, {}, {}
    for canon, trk in present.items():
        rate = float(vf.trks[trk].srate)
        x = np.asarray(vf.to_numpy([trk], 1.0 / rate)[:, 0], dtype=np.float64)
        unit = vf.trks[trk].unit or ""
        if canon != "ppg":
            x, unit = to_millivolts(x, unit or "mV", f"{path} track {trk}"), "mV"
        signals[canon], fs[canon], units[canon] = x, rate, unit
    return signals, fs, units


def load(
    root: Path,
    require: Sequence[str] = ("ecg_ii", "ecg_v", "ppg"),
    check_tracks: bool = False,
) -> RecordingSet:
    """VitalDB cases that have a ``.vital`` file and a clinical row."""
    files = {int(p.stem): p for p in root.rglob("*.vital") if p.stem.isdigit()}
    if not files:
        raise FileNotFoundError(f"{root}: no <caseid>.vital files found")
    clinical = _clinical(root).set_index("caseid")
    unmatched = sorted(set(files) - set(clinical.index))
    if unmatched:
        warn(
            f"{root}: {len(unmatched)} .vital file(s) have no clinical_data.csv row "
            f"(e.g. {files[unmatched[0]].name}); skipped"
        )
    ids = sorted(set(files) & set(clinical.index))
    c = clinical.loc[ids]
    table = pd.DataFrame(
        {
            "record_id": [str(i) for i in ids],
            "subject_id": c["subjectid"].astype(str).to_numpy(),
            "path": [str(files[i]) for i in ids],
            "age": pd.to_numeric(c["age"], errors="coerce").to_numpy() if "age" in c else np.nan,
            "sex": c["sex"].to_numpy(),
            "female": c["sex"].map(sex_code).to_numpy(),
            "emop": pd.to_numeric(c["emop"], errors="coerce").to_numpy(),
        }
    )
    if check_tracks:
        import vitaldb

        keep = []
        for p in table["path"]:
            names = vitaldb.VitalFile(p, header_only=True).get_track_names()
            keep.append(all(TRACKS[r] in names for r in require))
        table = table[np.array(keep, dtype=bool)].reset_index(drop=True)

    def load_row(row: pd.Series) -> Recording:
        path = Path(row["path"])
        signals, fs, units = read_case(path, require)
        report_nans(signals, fs, str(path))
        labels = {"age": row["age"], "sex": row["sex"], "female": row["female"], "emop": row["emop"]}
        return Recording(row["record_id"], row["subject_id"], "vitaldb", signals, fs, units=units,
                         labels=labels, meta={"path": str(path)})

    tasks = {
        "sex": {"type": "binary", "level": "record", "columns": ["female"], "papers": ["syneco"]},
        "emergency": {"type": "binary", "level": "record", "columns": ["emop"], "papers": ["syneco"]},
    }
    return RecordingSet("vitaldb", table, load_row, info={"root": str(root), "tasks": tasks})
