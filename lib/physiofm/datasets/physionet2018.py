"""You Snooze, You Win: PhysioNet/Computing in Cardiology Challenge 2018, registry name ``physionet2018``.

Citation: Ghassemi M.M., Moody B.E., Lehman L.H., Song C., Li Q., Sun H., Mark R.G., Westover M.B.,
Clifford G.D. You snooze, you win: the PhysioNet/Computing in Cardiology Challenge 2018. CinC 45 (2018).

Download: https://physionet.org/content/challenge-2018/1.0.0/. Licence: Open Data Commons Attribution
License v1.0.

Layout::

    root/age-sex.csv                                Record, Age, Sex (M/F) for every record
    root/training/tr03-0005/tr03-0005.hea           13 channels @ 200 Hz: F3-M2, F4-M1, C3-M2, C4-M1,
    root/training/tr03-0005/tr03-0005.mat             O1-M2, O2-M1, E1-M2, Chin1-Chin2, ABD, CHEST,
    root/training/tr03-0005/tr03-0005-arousal.mat     AIRFLOW, SaO2, ECG (WFDB, MATLAB v4 signal file)
    root/test/te03-0001/te03-0001.hea/.mat          989 unlabelled records (no -arousal.mat)

``-arousal.mat`` is a MATLAB v7.3 (HDF5) file read with ``h5py``: ``data/arousals`` (per sample:
1 arousal, 0 none, -1 not scored) and ``data/sleep_stages/{wake,nonrem1,nonrem2,nonrem3,rem,undefined}``
(per-sample 0/1 indicators). One record per night (``subject_id`` = record; the challenge has one
record per subject). Annotations are consecutive 30-s epochs from the record start with ``stage_code``
(0 W, 1 N1, 2 N2, 3 N3, 4 REM; NaN when undefined or mixed), ``stage`` (its name: W, N1, N2, N3, REM),
``arousal_s`` (seconds of arousal in the epoch), ``arousal_centre`` (the middle sample: 1/0, NaN if not
scored) and ``arousal`` (1/0, NaN if not scored; rule below) - MultiMAE's sleep and arousal tasks; ``old``
(1 if age >= 55, NaN without an age) is its age task. These are the columns the built-in
:func:`physiofm.synthetic.psg_cohort` writes, so the same tasks read both. The record's challenge partition
is the label ``challenge_split`` (``training``: scored; ``test``: the 989 unscored records). A stage vector
whose length differs from the signal is an error naming the file. ECG is converted to mV; other channels
keep their header units.

Options: ``split``: ``"training"`` (default), ``"test"`` or ``"all"``; ``arousal_rule`` and
``arousal_min_overlap_s``: when an epoch counts as an arousal epoch (:func:`epoch_arousal`).

Arousal rule. MultiMAE says only that the windows "were also manually annotated for the presence of
arousals" and that positives are "2.7 % of data samples" (30-s windows). The challenge gives a per-sample
vector (1 target arousal, 0 none, -1 not scored), so the epoch label needs a rule:

* ``"any"`` (default): at least one arousal sample in the epoch - the paper's "presence of arousals";
* ``"min_overlap"``: at least ``arousal_min_overlap_s`` seconds of arousal in the epoch (3 s: the AASM
  minimum arousal length, so the epoch holds a scoreable arousal);
* ``"centre"``: the epoch's middle sample lies in an arousal (the rule that labels sleep stages by the
  annotation covering a window's centre).

For arousals of length d <= 30 s at a uniformly random phase, each arousal makes on average
(30 + d)/30 positive epochs under "any", (30 + d - 2k)/30 under "min_overlap" with k <= d seconds, and d/30
under "centre": "centre" reproduces the share of arousal time, "any" exceeds it by 1 + 30/d (4x for
d = 10 s). No published per-epoch or per-sample prevalence of the challenge's target arousals was found, so
the rate each rule gives on the real data is measured by the data step with :func:`arousal_rule_rates`
(every rule is a function of ``arousal_s`` and ``arousal_centre``) and the rule closest to 2.7 % is the
paper profile's choice. Epochs with no scored sample (the centre unscored, for "centre") are NaN.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from physiofm.recording import Recording, RecordingSet

from ._common import (
    DatasetError,
    read_single_segment,
    report_nans,
    require_file,
    sex_code,
    task,
    to_millivolts,
    warn,
)
from ._layout import FileSpec, Layout

EPOCH_S = 30.0
STAGES = {"wake": (0, "W"), "nonrem1": (1, "N1"), "nonrem2": (2, "N2"), "nonrem3": (3, "N3"),
          "rem": (4, "REM")}
AGE_THRESHOLD = 55.0  # MultiMAE §3.1: "whether a patient's age is under 55 (the mean age) or not"

LAYOUT = Layout(
    files=(
        FileSpec("age-sex.csv"),
        FileSpec("*/*/*.hea", "training/tr03-0005/tr03-0005.hea"),
        FileSpec("*/*/*.mat", "training/tr03-0005/tr03-0005.mat"),
        FileSpec("training/*/*-arousal.mat", "training/tr03-0005/tr03-0005-arousal.mat", required=False),
    ),
    channels=("F3-M2", "F4-M1", "C3-M2", "C4-M1", "O1-M2", "O2-M1", "E1-M2", "Chin1-Chin2", "ABD", "CHEST",
              "AIRFLOW", "SaO2", "ECG"),
    rates={"*": 200.0},
)


def read_arousal_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample arousal (-1/0/1) and stage code (0-4, -1 undefined) from ``-arousal.mat``."""
    import h5py

    if not h5py.is_hdf5(str(path)):
        raise DatasetError(f"{path}: not a MATLAB v7.3 (HDF5) arousal file")
    with h5py.File(path, "r") as f:
        try:
            arousal = np.asarray(f["data/arousals"][()]).reshape(-1)
            group = f["data/sleep_stages"]
            masks = {k: np.asarray(group[k][()]).reshape(-1) for k in group}
        except KeyError as exc:
            raise DatasetError(
                f"{path}: missing {exc} (expected data/arousals and data/sleep_stages)"
            ) from exc
    stage = np.full(len(arousal), -1, dtype=np.int8)
    count = np.zeros(len(arousal), dtype=np.int8)
    for key, mask in masks.items():
        if len(mask) != len(arousal):
            raise DatasetError(f"{path}: sleep_stages/{key} has {len(mask)} samples, arousals {len(arousal)}")
        if key in STAGES:
            stage[mask > 0] = STAGES[key][0]
        elif key != "undefined":
            raise DatasetError(f"{path}: unknown sleep stage {key!r}")
        count += (mask > 0).astype(np.int8)
    if (count > 1).any():
        raise DatasetError(f"{path}: {int((count > 1).sum())} samples carry more than one sleep stage")
    return arousal, stage


AROUSAL_RULES = ("any", "min_overlap", "centre")


def epoch_arousal(
    arousal: np.ndarray, fs: float, rule: str = "any", min_overlap_s: float = 3.0, epoch_s: float = EPOCH_S
) -> np.ndarray:
    """Per-epoch arousal label from a per-sample vector (1 arousal, 0 none, -1 not scored).

    Args:
        arousal: (n,) samples at ``fs`` Hz; a trailing partial epoch is ignored.
        rule: ``"any"``, ``"min_overlap"`` or ``"centre"`` (see the module docstring).
        min_overlap_s: seconds of arousal an epoch needs under ``"min_overlap"``.

    Returns:
        (n // (epoch_s * fs),) float: 1.0, 0.0, or NaN for an epoch without a scored sample (for
        ``"centre"``: whose middle sample is not scored).
    """
    if rule not in AROUSAL_RULES:
        raise ValueError(f"physionet2018: arousal_rule must be one of {AROUSAL_RULES}, got {rule!r}")
    if rule == "min_overlap" and not 0 < min_overlap_s <= epoch_s:
        raise ValueError(
            f"physionet2018: arousal_min_overlap_s must be in (0, {epoch_s}], got {min_overlap_s}"
        )
    n = int(round(epoch_s * fs))
    ar = np.asarray(arousal).reshape(-1)
    ar = ar[: len(ar) // n * n].reshape(-1, n)
    scored = (ar >= 0).any(axis=1)
    if rule == "any":
        label = (ar > 0).any(axis=1)
    elif rule == "min_overlap":
        label = (ar > 0).sum(axis=1) >= min_overlap_s * fs - 1e-9
    else:
        centre = ar[:, n // 2]
        label, scored = centre > 0, centre >= 0
    return np.where(scored, label.astype(float), np.nan)


def epochs(
    arousal: np.ndarray, stage: np.ndarray, fs: float, rule: str = "any", min_overlap_s: float = 3.0
) -> pd.DataFrame:
    n = int(EPOCH_S * fs)
    k = len(stage) // n
    names = {code: name for code, name in STAGES.values()}
    st = stage[: k * n].reshape(k, n)
    codes = np.where((st == st[:, :1]).all(axis=1) & (st[:, 0] >= 0), st[:, 0], np.nan).astype(float)
    ar = np.asarray(arousal)[: k * n].reshape(k, n)
    scored = (ar >= 0).any(axis=1)
    return pd.DataFrame(
        {
            "onset": np.arange(k) * EPOCH_S,
            "duration": EPOCH_S,
            "stage": [names.get(int(c)) if c == c else np.nan for c in codes],
            "stage_code": codes,
            "arousal_s": np.where(scored, (ar > 0).sum(axis=1) / fs, np.nan),
            "arousal_centre": epoch_arousal(arousal[: k * n], fs, "centre"),
            "arousal": epoch_arousal(arousal[: k * n], fs, rule, min_overlap_s),
        }
    )


def arousal_labels(annotations: pd.DataFrame, rule: str, min_overlap_s: float = 3.0) -> pd.Series:
    """Each epoch's arousal label (1.0 / 0.0, NaN where not scored) under ``rule``, from the ``arousal_s`` and
    ``arousal_centre`` columns of epoch tables (one record's annotations or many concatenated)."""
    missing = {"arousal_s", "arousal_centre"} - set(annotations.columns)
    if missing:
        raise ValueError(f"physionet2018: annotations lack column(s) {sorted(missing)}")
    if rule not in AROUSAL_RULES:
        raise ValueError(f"physionet2018: arousal_rule must be one of {AROUSAL_RULES}, got {rule!r}")
    secs = annotations["arousal_s"].astype(float)
    if rule == "centre":
        return annotations["arousal_centre"].astype(float).rename("arousal")
    positive = secs > 0 if rule == "any" else secs >= min_overlap_s - 1e-9
    return positive.astype(float).where(secs.notna()).rename("arousal")


def arousal_rule_rates(annotations: pd.DataFrame, min_overlap_s: float = 3.0) -> pd.Series:
    """Share of positive epochs under each rule, from epoch tables with ``arousal_s`` and ``arousal_centre``
    (one record's annotations or many concatenated); epochs the rule leaves NaN are not counted."""
    names = {"any": "any", "min_overlap": f"min_overlap_{min_overlap_s:g}s", "centre": "centre"}
    rates = {names[r]: float(arousal_labels(annotations, r, min_overlap_s).mean()) for r in AROUSAL_RULES}
    return pd.Series(rates, name="positive_rate")


def load(
    root: Path, split: str = "training", arousal_rule: str = "any", arousal_min_overlap_s: float = 3.0
) -> RecordingSet:
    """PhysioNet 2018 records (``split``: training / test / all) with 30-s epoch annotations; the arousal
    label follows ``arousal_rule`` (see the module docstring)."""
    if split not in ("training", "test", "all"):
        raise ValueError(f"physionet2018: split must be training, test or all, got {split!r}")
    epoch_arousal(np.zeros(int(EPOCH_S)), 1.0, arousal_rule, arousal_min_overlap_s)  # validate early
    folders = ["training", "test"] if split == "all" else [split]
    heads = [h for d in folders for h in sorted((root / d).glob("*/*.hea")) if h.stem == h.parent.name]
    if not heads:
        raise FileNotFoundError(f"{root}: no {'/'.join(folders)}/<record>/<record>.hea found")
    demo = pd.read_csv(require_file(root / "age-sex.csv", "age/sex table"), dtype={"Record": str})
    demo = demo.set_index(demo["Record"].str.strip())
    rows = []
    for h in heads:
        rid = h.stem
        if rid not in demo.index:
            warn(f"{h}: record {rid} has no row in age-sex.csv; age and sex are NaN")
        age = float(demo.loc[rid, "Age"]) if rid in demo.index else np.nan
        sex = str(demo.loc[rid, "Sex"]).strip().upper()[:1] if rid in demo.index else None
        rows.append(
            {
                "record_id": rid,
                "subject_id": rid,
                "path": str(h.with_suffix("")),
                "split": h.parent.parent.name,
                "age": age,
                "sex": sex,
                "female": sex_code(sex),
                "old": float(age >= AGE_THRESHOLD) if age == age else np.nan,
            }
        )
    table = pd.DataFrame(rows)

    def load_row(row: pd.Series) -> Recording:
        path = Path(row["path"])
        signals, fs, units, _ = read_single_segment(path)
        for ch in signals:
            if ch.upper().startswith("ECG"):
                signals[ch], units[ch] = (
                    to_millivolts(signals[ch], units[ch], f"{path}.hea channel {ch}"),
                    "mV",
                )
        ann = None
        arousal_file = Path(str(path) + "-arousal.mat")
        if arousal_file.is_file():
            arousal, stage = read_arousal_file(arousal_file)
            n = len(next(iter(signals.values())))
            if len(stage) != n:
                raise DatasetError(f"{arousal_file}: {len(stage)} samples of sleep stages, signal has {n}")
            ann = epochs(arousal, stage, next(iter(fs.values())), arousal_rule, arousal_min_overlap_s)
        elif row["split"] == "training":
            warn(f"{arousal_file}: missing; record has no sleep-stage / arousal annotations")
        report_nans(signals, fs, str(path))
        labels = {k: row[k] for k in ("age", "sex", "female", "old")} | {"challenge_split": row["split"]}
        return Recording(row["record_id"], row["subject_id"], "physionet2018", signals, fs, units=units,
                         labels=labels, annotations=ann, meta={"path": str(path)})

    stages = [0, 1, 2, 3, 4]
    tasks = {"sleep": task("multiclass", "annotation", ["stage_code"], ["multimae"], classes=stages),
             "age": task("binary", "record", ["old"], ["multimae"]),
             "arousal": task("binary", "annotation", ["arousal"], ["multimae"])}
    return RecordingSet("physionet2018", table, load_row, info={"root": str(root), "tasks": tasks})
