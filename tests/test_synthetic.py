"""Synthetic cohorts: determinism, shapes and rates, and proof that the information structure is real."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from physiofm.recording import Recording
from physiofm.synthetic import ArtefactRates, dipole, ecg12_cohort, icu_cohort, proofs, psg_cohort
from physiofm.synthetic.ecg12 import STATEMENTS, SUPERCLASSES

warnings.filterwarnings("ignore", category=FutureWarning)


def _same(a: Recording, b: Recording) -> bool:
    return a.channels == b.channels and all(
        np.array_equal(a.signals[c], b.signals[c], equal_nan=True) for c in a.channels
    )


def _covers(ann: pd.DataFrame, duration: float) -> None:
    """Annotation rows tile the recording: start at 0, no gaps or overlaps, end within one row of the end."""
    on, du = ann["onset"].to_numpy(), ann["duration"].to_numpy()
    assert on[0] == 0
    assert np.allclose(on[1:], on[:-1] + du[:-1])
    assert duration - du[-1] < on[-1] + du[-1] <= duration + 1e-9


# --------------------------------------------------------------------------------------- ICU cohort


def test_icu_is_deterministic_and_order_independent():
    a, b = icu_cohort(3, 7, duration_s=60), icu_cohort(3, 7, duration_s=60)
    later_first = b.recordings[2]  # reading order must not matter
    assert _same(a.recordings[2], later_first)
    assert all(_same(a.recordings[i], b.recordings[i]) for i in range(3))
    pd.testing.assert_frame_equal(a.labels, b.labels)
    pd.testing.assert_frame_equal(a.subjects, b.subjects)
    c = icu_cohort(3, 8, duration_s=60)
    assert not np.array_equal(a.recordings[0].signals["II"], c.recordings[0].signals["II"], equal_nan=True)


def test_icu_shapes_rates_labels_and_artefacts():
    rates = ArtefactRates(dropout_per_hour=120, flatline_per_hour=120, ppg_dropout_per_hour=120)
    c = icu_cohort(4, 0, duration_s=120, twelve_lead=True, artefacts=rates)
    assert len(c) == 4 and len(c.subjects) == 4
    assert pickle.loads(pickle.dumps(c.recordings))[1].record_id == c.recordings[1].record_id
    rec = c.recordings[0]
    assert rec.fs["II"] == rec.fs["V"] == rec.fs["V6"] == 500.0 and rec.fs["PPG"] == 125.0
    assert set(dipole.LEADS_12) | {"V", "PPG"} == set(rec.channels)
    assert np.array_equal(rec.signals["V"], rec.signals["V1"], equal_nan=True)
    for ch, x in rec.signals.items():
        assert x.dtype == np.float32 and x.shape == (int(120 * rec.fs[ch]),)
    _covers(rec.annotations, rec.duration())
    assert len(c.labels) == 4 * 12
    # Every planned dropout is NaN in its channel, every flatline constant.
    ev = c.events[c.events["record_id"] == rec.record_id]
    assert {"dropout", "flatline"} <= set(ev["kind"])
    for _, e in ev[ev["kind"].isin(["dropout", "flatline"])].iterrows():
        fs = rec.fs[e["channel"]]
        span = rec.signals[e["channel"]][
            int(e["onset"] * fs) + 1 : int((e["onset"] + e["duration"]) * fs) - 1
        ]
        assert np.isnan(span).all() if e["kind"] == "dropout" else np.ptp(span[np.isfinite(span)]) == 0
    labels = c.labels
    assert set(labels["activity"]) <= {"rest", "sitting", "walking", "cycling", "stairs"}
    assert ((labels["sbp"] >= 140) == labels["hypertensive"].astype(bool)).all()
    assert ((labels["ptt_ms"] <= 250) == labels["hypertensive"].astype(bool)).all()
    assert set(c.subjects.columns) >= {
        "sex",
        "age",
        "af",
        "conduction",
        "st_change",
        "v_rprime",
        "stiff",
        "hypertensive",
    }


def test_icu_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_subjects"):
        icu_cohort(0, 0)
    with pytest.raises(ValueError, match="v_lead"):
        icu_cohort(2, 0, v_lead="V9")
    with pytest.raises(ValueError, match="seed"):
        icu_cohort(2, -1)


def test_v_only_direction_is_invisible_in_lead_ii():
    m = dipole.lead_matrix(("II", "V1", "V2"))
    proj = m @ dipole.V_ONLY_DIRECTION
    assert abs(proj[0]) < 1e-12 and abs(proj[1]) > 0.8


def test_detected_r_peaks_give_latent_heart_rate_within_2_bpm():
    c = icu_cohort(12, 1, duration_s=120)
    hr = proofs.heart_rate_agreement(c)
    clean = hr[hr["clean"]]
    assert len(clean) > 80
    assert clean["abs_error"].max() < 2.0, clean.sort_values("abs_error").tail()


def test_measured_pulse_transit_time_matches_latent():
    c = icu_cohort(10, 2, duration_s=120)
    pt = proofs.ptt_agreement(c)
    clean = pt[pt["clean"]].dropna()
    assert len(clean) > 40
    assert clean["abs_error_ms"].median() < 4 and clean["abs_error_ms"].max() < 10
    assert np.corrcoef(clean["latent_ptt_ms"], clean["measured_ptt_ms"])[0, 1] > 0.99


@pytest.fixture(scope="module")
def icu_features():
    return proofs.cohort_features(icu_cohort(120, 0, duration_s=100))


def test_synergy_label_needs_both_channels(icu_features):
    sets = {k: proofs.CHANNEL_SETS[k] for k in ("II", "V", "PPG", "ECG+PPG")}
    res = proofs.information_structure(
        icu_features, labels=("hypertensive", "v_rprime", "stiff"), channel_sets=sets
    )
    print(res.round(3))
    hyp = res.loc["hypertensive"]
    assert hyp["II"] < 0.6 and hyp["V"] < 0.6 and hyp["PPG"] < 0.6
    assert hyp["ECG+PPG"] > 0.9
    assert res.loc["v_rprime", "V"] > 0.9 and res.loc["v_rprime", "II"] < 0.65
    assert res.loc["stiff", "PPG"] > 0.9 and res.loc["stiff", "II"] < 0.65 and res.loc["stiff", "V"] < 0.65


# --------------------------------------------------------------------------------------- 12-lead cohort


def test_ecg12_records_folds_statements_and_reports():
    c = ecg12_cohort(400, 3)
    rec_tab = c.recordings.records
    assert len(c) == len(rec_tab) >= 400 and rec_tab["subject_id"].nunique() == 400
    rec = c.recordings[5]
    assert rec.channels == list(dipole.LEADS_12)
    assert all(x.shape == (5000,) and x.dtype == np.float32 for x in rec.signals.values())
    assert set(rec_tab["strat_fold"]) == set(range(1, 11))
    assert (rec_tab.groupby("patient_id")["strat_fold"].nunique() == 1).all()
    for _, row in rec_tab.iterrows():
        diag = [k for k in row["scp_codes"] if STATEMENTS.loc[k, "kind"] == "diagnostic"]
        supers = {STATEMENTS.loc[k, "diagnostic_class"] for k in diag}
        assert supers == set(row["superclass"]) and all(row[s] == (s in supers) for s in SUPERCLASSES)
        assert row["report"] == row["report"].lower()
        assert ("atrial fibrillation" in row["report"] or "afib" in row["report"]) == (
            row["rhythm"] == ["AFIB"]
        )
    for s in SUPERCLASSES:
        assert 0.05 < rec_tab[s].mean() < 0.5
    assert rec_tab["report"].nunique() < 0.7 * len(rec_tab)  # heavy duplication, as in real report corpora
    again = ecg12_cohort(400, 3)
    assert _same(again.recordings[5], rec) and again.recordings.records["report"].equals(rec_tab["report"])


def test_ecg12_rhythm_labels_match_the_signal():
    c = ecg12_cohort(150, 4)
    tab = c.recordings.records
    usable = tab["rhythm"].map(lambda r: r[0] in ("SR", "STACH", "SBRAD", "AFIB")) & ~tab["form"].map(
        lambda f: "PVC" in f
    )  # a premature beat may hide in the T wave before it, as in real ECGs
    for i in np.flatnonzero(usable)[:60]:
        rec = c.recordings[int(i)]
        r = proofs.r_peaks(rec.signals["II"], 500.0)
        # 5 bpm: a 10-s record has no settling time, so the detector may miss an edge beat.
        assert abs(60 / np.diff(r).mean() - tab["heart_rate"].iloc[i]) < 5


# --------------------------------------------------------------------------------------- PSG cohort


@pytest.fixture(scope="module")
def psg():
    c = psg_cohort(4, 0, hours=1.5)
    return c, proofs.epoch_band_powers(c)


def test_psg_shapes_epochs_and_arousals(psg):
    c, _ = psg
    rec = c.recordings[0]
    assert rec.channels == ["F3-M2", "E1-M2", "Chin1-Chin2", "ECG"]
    assert all(
        rec.fs[ch] == 200.0 and rec.signals[ch].shape == (int(1.5 * 3600 * 200),) for ch in rec.channels
    )
    _covers(rec.annotations, rec.duration())
    assert set(c.labels["stage"]) == {"W", "N1", "N2", "N3", "REM"}
    assert 0.02 < c.labels["arousal"].mean() < 0.04
    assert _same(psg_cohort(4, 0, hours=1.5).recordings[1], c.recordings[1])


def test_psg_stage_spectra_show_expected_bands(psg):
    _, bp = psg
    m = bp.groupby("stage").mean(numeric_only=True)
    assert m["alpha"].idxmax() == "W"
    assert m["delta"].idxmax() == "N3"
    assert m.loc["N2", "sigma"] > max(m.loc["N1", "sigma"], m.loc["REM", "sigma"], m.loc["N3", "sigma"])
    assert m["theta"].idxmax() in ("N1", "REM")
    assert m["emg_log_power"].idxmin() == "REM" and m["emg_log_power"].idxmax() == "W"
    assert m.loc["REM", "eog_log_power"] > m.loc["N2", "eog_log_power"]
    assert bp.groupby("arousal")["alpha"].mean().diff().iloc[-1] > 0
    # Age acts on EEG slow waves and on ECG heart-rate variability.
    subj = bp[bp["stage"].isin(["N2", "N3"])].groupby("subject_id")[["delta_uv2", "rr_sd_ms", "age"]].median()
    assert subj.corr().loc["age", "delta_uv2"] < -0.5 and subj.corr().loc["age", "rr_sd_ms"] < -0.5
    spectra = proofs.stage_spectra(psg[0], records=2)
    assert spectra.loc[8:12, "W"].mean() > spectra.loc[8:12, "N2"].mean()


def test_ecg12_patients_keep_their_heart_and_chronic_diagnoses():
    """A patient's morphology and chronic diagnoses (MI, CD, HYP) persist across its records; ST-T changes and
    the rhythm are per record; two records of one patient look more alike than records of two patients."""
    c = ecg12_cohort(60, 5, records_per_subject=2.5)
    tab = c.recordings.records
    groups = [rows for rows in tab.groupby("patient_id").groups.values() if len(rows) > 1]
    assert len(groups) > 20
    for s in ("MI", "HYP"):
        assert all(tab.loc[rows, s].nunique() == 1 for rows in groups), s
    assert any(tab.loc[rows, "STTC"].nunique() > 1 for rows in groups)

    def amplitudes(i: int) -> np.ndarray:  # peak-to-peak per lead
        x = np.stack(list(c.recordings[i].signals.values()))
        return np.percentile(x, 99, axis=1) - np.percentile(x, 1, axis=1)

    f = np.stack([amplitudes(i) for i in range(len(tab))])
    f = (f - f.mean(0)) / f.std(0)
    dist = np.linalg.norm(f[:, None] - f[None], axis=-1)
    pid = tab["patient_id"].to_numpy()
    same = (pid[:, None] == pid[None]) & ~np.eye(len(pid), dtype=bool)
    assert dist[same].mean() < 0.6 * dist[pid[:, None] != pid[None]].mean()
