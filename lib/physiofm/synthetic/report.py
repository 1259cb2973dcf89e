"""Tables and figures of the built-in cohorts' chapter (``notebooks/cohorts``): what each cohort holds and the
checks of :mod:`physiofm.synthetic.proofs` laid out for reading. Tables are written to ``out/<name>.csv``
when ``out`` is given; figures are returned for :func:`physiofm.figures.show`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from physiofm.io import write_csv
from physiofm.recording import Recording
from physiofm.synthetic import proofs
from physiofm.synthetic.cohort import Cohort

SUPERCLASSES = ("NORM", "MI", "STTC", "CD", "HYP")
STAGES = ("W", "N1", "N2", "N3", "REM")


def _kept(table: pd.DataFrame, out: Path | None, name: str) -> pd.DataFrame:
    if out is not None:
        write_csv(table, Path(out) / f"{name}.csv", index=True)
    return table


# ------------------------------------------------------------------------------------------------ ICU
def structure_table(cohort: Cohort) -> pd.DataFrame:
    """The documented information structure of a cohort: which channel carries each label."""
    return pd.Series(cohort.info["structure"], name="which channel carries it").to_frame()


def plot_record(rec: Recording, channels: Sequence[str], seconds: float) -> Figure:
    """The first ``seconds`` of some channels of one record, one panel each, in their units."""
    fig, axes = plt.subplots(len(channels), 1, figsize=(10, 1.7 * len(channels)), sharex=True, squeeze=False)
    for ax, ch in zip(axes[:, 0], channels):
        t = np.arange(len(rec.signals[ch])) / rec.fs[ch]
        ax.plot(t, rec.signals[ch], lw=0.7)
        ax.set_ylabel(f"{ch} ({rec.units.get(ch, '')})")
    axes[-1, 0].set_xlim(0, seconds)
    axes[-1, 0].set_xlabel("time (s)")
    fig.suptitle(f"{rec.record_id}: the first {seconds:g} s")
    return fig


def plot_agreement(hr: pd.DataFrame, ptt: pd.DataFrame) -> Figure:
    """Detected vs latent heart rate and measured vs latent pulse-transit time on clean blocks."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, (df, x, y, label) in zip(axes, ((hr, "latent_hr", "detected_hr", "heart rate (bpm)"),
                                            (ptt, "latent_ptt_ms", "measured_ptt_ms", "PTT (ms)"))):
        d = df[df["clean"]]
        ax.scatter(d[x], d[y], s=8)
        ax.set(xlabel=f"latent {label}", ylabel=f"measured {label}")
        lo, hi = ax.get_xlim()
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    fig.tight_layout()
    return fig


def plot_structure(structure: pd.DataFrame) -> Figure:
    """AUROC per label (rows) and channel set (columns), annotated."""
    fig, ax = plt.subplots(figsize=(7, 4))
    im = ax.imshow(structure.to_numpy(), vmin=0.3, vmax=1.0, cmap="viridis")
    ax.set_xticks(range(structure.shape[1]), structure.columns, rotation=30)
    ax.set_yticks(range(structure.shape[0]), structure.index)
    for (i, j), v in np.ndenumerate(structure.to_numpy()):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="w" if v < 0.7 else "k", fontsize=8)
    fig.colorbar(im, label="AUROC")
    return fig


# ------------------------------------------------------------------------------------------- 12-lead
def fold_prevalence(cohort: Cohort) -> pd.DataFrame:
    """Share of records with each superclass per stratified fold."""
    return cohort.recordings.records.groupby("strat_fold")[list(SUPERCLASSES)].mean()


def report_summary(cohort: Cohort) -> pd.DataFrame:
    """How varied the machine reports are: records, unique reports, the most frequent one and its count."""
    reports = cohort.recordings.records["report"]
    counts = reports.value_counts()
    return pd.Series({"records": len(reports), "unique reports": reports.nunique(),
                      "most frequent report": counts.index[0], "its count": int(counts.iloc[0])}
                     ).to_frame("machine reports")


def plot_twelve_leads(cohort: Cohort, label: str = "CD") -> Figure:
    """The 12 leads of the first record with superclass ``label``, titled with its machine report."""
    recs = cohort.recordings.records
    rec = cohort.recordings[int(np.flatnonzero(recs[label].to_numpy())[0])]
    fig, axes = plt.subplots(6, 2, figsize=(10, 8), sharex=True)
    for ax, lead in zip(axes.T.ravel(), rec.channels):
        ax.plot(np.arange(len(rec.signals[lead])) / rec.fs[lead], rec.signals[lead], lw=0.7)
        ax.set_ylabel(lead)
    fig.suptitle(f"{rec.record_id}: {rec.labels['report']}")
    return fig


# ----------------------------------------------------------------------------------------------- PSG
def stage_band_table(bands: pd.DataFrame, out: Path | None = None) -> pd.DataFrame:
    """Mean relative EEG band powers and log EMG / EOG power per sleep stage (rows in W, N1, N2, N3, REM)."""
    cols = ["delta", "theta", "alpha", "sigma", "emg_log_power", "eog_log_power"]
    by_stage = bands.groupby("stage")[cols].mean()
    return _kept(by_stage.reindex([s for s in STAGES if s in by_stage.index]), out, "stage_band_powers")


def plot_spectra(spectra: pd.DataFrame, lo: float = 0.5, hi: float = 30.0) -> Figure:
    """Mean EEG power spectrum per sleep stage between ``lo`` and ``hi`` Hz (log power)."""
    fig, ax = plt.subplots(figsize=(8, 4))
    sel = spectra[(spectra.index >= lo) & (spectra.index <= hi)]
    for stage in sel.columns:
        ax.semilogy(sel.index, sel[stage], label=stage)
    ax.set(xlabel="frequency (Hz)", ylabel="EEG power (uV²/Hz)")
    ax.legend()
    return fig


def age_effects(bands: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per subject: age, mean delta power and mean RR standard deviation; and their correlation with age."""
    per_subject = bands.groupby("subject_id").agg(age=("age", "first"), delta_uv2=("delta_uv2", "mean"),
                                                  rr_sd_ms=("rr_sd_ms", "mean"))
    return per_subject.round(2), per_subject.corr().loc[["age"], ["delta_uv2", "rr_sd_ms"]].round(2)


def agreement(hr: pd.DataFrame, ptt: pd.DataFrame, out: Path | None = None) -> pd.DataFrame:
    """:func:`physiofm.synthetic.proofs.agreement_summary`, kept as ``agreement.csv``."""
    return _kept(proofs.agreement_summary(hr, ptt), out, "agreement")


def information_structure(features: pd.DataFrame, out: Path | None = None) -> pd.DataFrame:
    """:func:`physiofm.synthetic.proofs.information_structure`, kept as ``information_structure.csv``."""
    return _kept(proofs.information_structure(features), out, "information_structure")
