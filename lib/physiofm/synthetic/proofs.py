"""Checks that the synthetic cohorts carry the information they claim to (tests and data notebooks).

- :func:`heart_rate_agreement`: R peaks found by ``neurokit2`` in the generated ECG against the latent
  heart rate of each block.
- :func:`ptt_agreement`: pulse-transit time measured from the signals (R peak to PPG foot, foot by the
  intersecting-tangent method) against the latent one.
- :func:`information_structure`: a supervised classifier on hand-made features of lead II, the V
  lead, both ECG leads, the PPG, or everything including cross-channel timing, for each label;
  subject-grouped cross-validated AUROC. The synergy proof is the ``hypertensive`` row: near chance
  for every single channel, high for both.
- :func:`stage_spectra`: mean EEG/EOG/EMG power spectra per sleep stage of the PSG cohort, and the
  band-power ratios that tell the stages apart.
"""

from __future__ import annotations

import neurokit2 as nk
import numpy as np
import pandas as pd
from scipy import signal
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from physiofm.recording import Recording
from physiofm.synthetic.cohort import Cohort


def _fill_nan(x: np.ndarray) -> np.ndarray:
    bad = ~np.isfinite(x)
    if not bad.any():
        return x
    x = x.copy()
    x[bad] = 0.0 if bad.all() else np.interp(np.flatnonzero(bad), np.flatnonzero(~bad), x[~bad])
    return x


def r_peaks(x: np.ndarray, fs: float) -> np.ndarray:
    """R-peak times (s) found by neurokit2's default detector (NaN spans interpolated first).

    neurokit2 rather than sleepecg: on these signals sleepecg's search-back picks T waves and
    f-waves inside long AF cycles. The record is mirror-padded by 2 s at both ends so that the
    detector's filters and thresholds have settled by the first real beat; peaks in the padding
    are dropped, as are peaks within 40 ms of either end.
    """
    x = _fill_nan(np.asarray(x, float))
    pad = min(int(2 * fs), x.size - 1)
    xp = np.concatenate([x[pad:0:-1], x, x[-2 : -pad - 2 : -1]])
    sr = int(round(fs))
    _, info = nk.ecg_peaks(nk.ecg_clean(xp, sampling_rate=sr), sampling_rate=sr)
    idx = np.asarray(info["ECG_R_Peaks"], dtype=np.int64) - pad
    edge = int(0.04 * fs)  # a peak this close to an end may be the mirror image's, not a beat
    return idx[(idx >= edge) & (idx < x.size - edge)] / fs


def pulse_feet(ppg: np.ndarray, fs: float, min_interval_s: float = 0.27) -> np.ndarray:
    """PPG pulse-foot times (s) by the intersecting-tangent method.

    Hand-written because neither neurokit2 nor sleepecg locates pulse feet: the steepest upstroke of
    each pulse (a peak of the first derivative, refined by a parabola through three samples) is
    followed back along its tangent to the level of the minimum that precedes it.
    """
    x = _fill_nan(np.asarray(ppg, float))
    sos = signal.butter(2, 12.0, fs=fs, output="sos")
    x = signal.sosfiltfilt(sos, x)
    d = np.gradient(x) * fs
    height = 0.35 * np.percentile(d, 99)
    idx, _ = signal.find_peaks(d, height=height, distance=max(1, int(min_interval_s * fs)))
    idx = idx[(idx > 0) & (idx < x.size - 1)]
    y0, y1, y2 = d[idx - 1], d[idx], d[idx + 1]
    denom = y0 - 2 * y1 + y2
    shift = np.where(denom < 0, 0.5 * (y0 - y2) / np.where(denom < 0, denom, -1), 0.0)
    t_slope = (idx + shift) / fs
    slope = y1 - 0.25 * (y0 - y2) * shift
    level = np.interp(t_slope * fs, np.arange(x.size), x)
    look = int(0.25 * fs)
    lows = np.array([x[max(0, i - look) : i + 1].min() for i in idx]) if idx.size else np.array([])
    return t_slope - (level - lows) / slope


def transit_times(
    r: np.ndarray, feet: np.ndarray, lo: float = 0.08, hi: float = 0.45
) -> tuple[np.ndarray, np.ndarray]:
    """(foot times, delays) pairing each pulse foot with the last R peak ``lo``..``hi`` s before it."""
    if r.size == 0 or feet.size == 0:
        return np.array([]), np.array([])
    j = np.searchsorted(r, feet - lo) - 1
    ok = j >= 0
    delay = np.full(feet.size, np.nan)
    delay[ok] = feet[ok] - r[j[ok]]
    ok &= delay <= hi
    return feet[ok], delay[ok]


def _per_block(times: np.ndarray, values: np.ndarray, onsets: np.ndarray, block_s: float, fn) -> np.ndarray:
    b = np.floor(times / block_s).astype(int)
    out = np.full(onsets.size, np.nan)
    for k in range(onsets.size):
        v = values[b == k]
        if v.size:
            out[k] = fn(v)
    return out


def _rate(r: np.ndarray) -> float:
    return 60.0 / np.diff(r).mean() if r.size >= 2 else np.nan


def heart_rate_agreement(cohort: Cohort, channel: str = "II", records: int | None = None) -> pd.DataFrame:
    """Per block: latent heart rate vs the rate from neurokit2 R peaks (bpm), and artefact flags.

    Blocks with an alarm, an ECG artefact or a dropout are flagged (``clean`` False) so that callers
    can compare on clean signal, as a heart-rate reference would be.
    """
    rows = []
    n = len(cohort.recordings) if records is None else min(records, len(cohort.recordings))
    for i in tqdm(range(n), desc="R peaks", disable=n < 20):
        rec = cohort.recordings[i]
        fs = rec.fs[channel]
        r = r_peaks(rec.signals[channel], fs)
        ann = rec.annotations
        block_s = float(ann["duration"].iloc[0])
        # Same definition as the latent rate: intervals between R peaks that both fall in the block.
        det = np.array([_rate(r[(r >= on) & (r < on + block_s)]) for on in ann["onset"].to_numpy()])
        df = ann[["onset", "heart_rate"]].rename(columns={"heart_rate": "latent_hr"})
        df["detected_hr"] = det
        clean = ~ann.get("ecg_artefact", pd.Series(False, index=ann.index)).astype(bool)
        if "alarm" in ann:
            clean &= ann["alarm"].eq("none")
        # The first and last blocks are not "clean": a detector's filters are still settling there.
        clean.iloc[[0, -1]] = False
        df["clean"] = clean.to_numpy()
        df.insert(0, "record_id", rec.record_id)
        rows.append(df)
    out = pd.concat(rows, ignore_index=True)
    out["abs_error"] = (out["detected_hr"] - out["latent_hr"]).abs()
    return out


def ptt_agreement(cohort: Cohort, records: int | None = None) -> pd.DataFrame:
    """Per block: latent PTT vs the median measured R-peak-to-PPG-foot delay (ms)."""
    rows = []
    n = len(cohort.recordings) if records is None else min(records, len(cohort.recordings))
    for i in tqdm(range(n), desc="PTT", disable=n < 20):
        rec = cohort.recordings[i]
        ann = rec.annotations
        block_s = float(ann["duration"].iloc[0])
        r = r_peaks(rec.signals["II"], rec.fs["II"])
        ft, delay = transit_times(r, pulse_feet(rec.signals["PPG"], rec.fs["PPG"]))
        df = ann[["onset", "ptt_ms"]].rename(columns={"ptt_ms": "latent_ptt_ms"})
        df["measured_ptt_ms"] = 1000 * _per_block(ft, delay, ann["onset"].to_numpy(), block_s, np.median)
        df["clean"] = (
            (~ann["ecg_artefact"].astype(bool)) & ann["ppg_quality"].eq(1) & ann["alarm"].eq("none")
        ).to_numpy()
        df.insert(0, "record_id", rec.record_id)
        rows.append(df)
    out = pd.concat(rows, ignore_index=True)
    out["abs_error_ms"] = (out["measured_ptt_ms"] - out["latent_ptt_ms"]).abs()
    return out


def agreement_summary(hr: pd.DataFrame, ptt: pd.DataFrame) -> pd.DataFrame:
    """Measured vs latent heart rate and pulse-transit time on clean blocks: number of blocks and the median,
    95th percentile and maximum absolute error."""
    rows = {}
    for name, df, col, unit in (("heart rate", hr, "abs_error", "bpm"),
                                ("pulse-transit time", ptt, "abs_error_ms", "ms")):
        e = df.loc[df["clean"], col]
        rows[name] = {"blocks": len(e), "median abs error": e.median(),
                      "95th pct abs error": e.quantile(0.95),
                      "max abs error": e.max(), "unit": unit}
    return pd.DataFrame(rows).T


# ---------------------------------------------------------------------------------------------------
# Hand-made features per block, by channel set.


def _band_passed(x: np.ndarray, fs: float, band: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """``x`` with NaN spans interpolated, and its zero-phase 2nd-order band-pass over ``band`` (Hz)."""
    x = _fill_nan(np.asarray(x, float))
    return x, signal.sosfiltfilt(signal.butter(2, list(band), btype="band", fs=fs, output="sos"), x)


def _beats_per_block(times: np.ndarray, onsets: np.ndarray, block_s: float, first: str):
    """Per block: its onset (s), the beat times (s) inside it, and a feature dict holding ``first``, the
    delay (s) from the onset to the block's first beat (NaN without one)."""
    for on in onsets:
        tb = times[(times >= on) & (times < on + block_s)]
        yield on, tb, {first: (tb[0] - on) if tb.size else np.nan}


def _rhythm(times: np.ndarray, names: tuple[str, str, str]) -> dict[str, float]:
    """Rate (per min), SD and RMSSD (s) of the intervals between beat ``times`` (s), under ``names``."""
    iv = np.diff(times)
    return dict(zip(names, (60 / iv.mean(), iv.std(), np.sqrt(np.mean(np.diff(iv) ** 2))), strict=True))


def _sample_index(times: np.ndarray, offs: np.ndarray, fs: float, n: int) -> np.ndarray:
    """(K, M) sample indices at ``offs`` (s) around each of K beat ``times`` (s), clipped to ``n`` samples."""
    return np.clip(np.round((times[:, None] + offs[None, :]) * fs).astype(int), 0, n - 1)


def _ecg_features(x: np.ndarray, fs: float, onsets: np.ndarray, block_s: float, prefix: str) -> pd.DataFrame:
    """Rate, variability, amplitude and a coarse median-beat template per block for one ECG lead."""
    x, xf = _band_passed(x, fs, (0.5, 40.0))
    r = r_peaks(x, fs)
    offs = np.arange(-0.20, 0.42, 0.02)  # template sample offsets (s) around the R peak
    feats = []
    for on, rb, f in _beats_per_block(r, onsets, block_s, "first_r"):
        if rb.size >= 3:
            f.update(_rhythm(rb, ("hr", "rr_sd", "rmssd")))
            idx = _sample_index(rb, offs, fs, x.size)
            tmpl = np.median(xf[idx], axis=0)
            f.update({f"t{k:02d}": v for k, v in enumerate(tmpl)})
            seg = xf[int(on * fs) : int((on + block_s) * fs)]
            d = np.abs(np.diff(seg))
            f.update(sd=seg.std(), ptp=np.ptp(seg), deriv=d.mean())
            around = np.clip(
                np.round(rb * fs).astype(int)[:, None] + np.arange(-40, 41)[None, :], 0, x.size - 1
            )
            env = np.median(np.abs(np.gradient(xf[around], axis=1)), axis=0)
            f["qrs_width"] = (env > 0.3 * env.max()).sum() / fs
        feats.append(f)
    return pd.DataFrame(feats).add_prefix(prefix)


def _ppg_features(x: np.ndarray, fs: float, onsets: np.ndarray, block_s: float) -> pd.DataFrame:
    """Pulse rate, variability, amplitude and a foot-aligned median-pulse template per block."""
    x, xf = _band_passed(x, fs, (0.4, 12.0))
    feet = pulse_feet(x, fs)
    offs = np.arange(0.0, 0.6, 0.016)
    feats = []
    for on, fb, f in _beats_per_block(feet, onsets, block_s, "first_foot"):
        if fb.size >= 3:
            f.update(_rhythm(fb, ("pr", "pi_sd", "pi_rmssd")))
            idx = _sample_index(fb, offs, fs, x.size)
            pulses = xf[idx] - xf[idx[:, :1]]
            amp = pulses.max(axis=1)
            tmpl = np.median(pulses / np.maximum(amp[:, None], 1e-6), axis=0)
            f.update({f"p{k:02d}": v for k, v in enumerate(tmpl)})
            f.update(
                amp=np.median(amp), amp_cv=amp.std() / max(amp.mean(), 1e-6), t_peak=offs[np.argmax(tmpl)]
            )
            seg = xf[int(on * fs) : int((on + block_s) * fs)]
            fr, p = signal.welch(seg, fs, nperseg=min(256, seg.size))
            tot = p.sum() + 1e-12
            f.update(sd=seg.std(), lf=p[fr < 0.6].sum() / tot, hf=p[fr > 4].sum() / tot)
        feats.append(f)
    return pd.DataFrame(feats).add_prefix("ppg_")


def _cross_features(rec: Recording, onsets: np.ndarray, block_s: float) -> pd.DataFrame:
    """What only the pair shows: the R-peak-to-pulse-foot delay (median and spread) per block."""
    r = r_peaks(rec.signals["II"], rec.fs["II"])
    ft, delay = transit_times(r, pulse_feet(rec.signals["PPG"], rec.fs["PPG"]))
    q = [_per_block(ft, delay, onsets, block_s, lambda v, p=p: np.percentile(v, p)) for p in (25, 50, 75)]
    return pd.DataFrame({"x_delay_med": q[1], "x_delay_iqr": q[2] - q[0]})


def block_features(rec: Recording) -> pd.DataFrame:
    """Hand-made features of one ICU recording, one row per annotation block.

    Columns are prefixed by what they look at: ``ii_`` (lead II), ``v_`` (V lead), ``ppg_`` (PPG),
    ``x_`` (both ECG and PPG together: their relative timing).
    """
    ann = rec.annotations
    onsets, block_s = ann["onset"].to_numpy(), float(ann["duration"].iloc[0])
    parts = [
        _ecg_features(rec.signals["II"], rec.fs["II"], onsets, block_s, "ii_"),
        _ecg_features(rec.signals["V"], rec.fs["V"], onsets, block_s, "v_"),
        _ppg_features(rec.signals["PPG"], rec.fs["PPG"], onsets, block_s),
        _cross_features(rec, onsets, block_s),
    ]
    out = pd.concat(parts, axis=1)
    out.insert(0, "onset", onsets)
    out.insert(0, "subject_id", rec.subject_id)
    out.insert(0, "record_id", rec.record_id)
    return out


CHANNEL_SETS = {
    "II": ("ii_",),
    "V": ("v_",),
    "ECG (II+V)": ("ii_", "v_"),
    "PPG": ("ppg_",),
    "ECG+PPG": ("ii_", "v_", "ppg_", "x_"),
}
BINARY_LABELS = ("hypertensive", "stiff", "conduction", "st_change", "v_rprime", "af", "male")


def cohort_features(cohort: Cohort) -> pd.DataFrame:
    """:func:`block_features` of every recording, joined to the block and subject labels."""
    feats = pd.concat(
        [
            block_features(rec)
            for rec in tqdm(cohort.recordings, desc="features", disable=len(cohort.recordings) < 20)
        ],
        ignore_index=True,
    )
    lab = cohort.labels.drop(columns=["duration"])
    subj = cohort.subjects.drop(
        columns=[c for c in cohort.subjects.columns if c in lab.columns and c != "subject_id"]
    )
    return feats.merge(lab, on=["record_id", "subject_id", "onset"]).merge(subj, on="subject_id")


def grouped_auroc(x: pd.DataFrame, y: np.ndarray, groups: np.ndarray, folds: int = 5, seed: int = 0) -> float:
    """Mean over subject-grouped folds of the held-out AUROC of a gradient-boosted tree classifier.

    AUROC is computed within each fold and averaged: pooling out-of-fold scores across folds biases
    an uninformative classifier below 0.5 (each fold's model shifts its scores with the training
    fold's base rate, which runs opposite to the test fold's). Folds are stratified by label.
    One thread, because boosting's OpenMP threads thrash on a small shared machine.
    """
    scores = []
    cv = StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
    with threadpool_limits(1):
        for tr, te in cv.split(x, y, groups):
            if len(np.unique(y[te])) < 2:
                continue
            clf = HistGradientBoostingClassifier(
                max_iter=60, learning_rate=0.15, max_leaf_nodes=15, min_samples_leaf=20, random_state=seed
            )
            clf.fit(x.iloc[tr], y[tr])
            scores.append(roc_auc_score(y[te], clf.predict_proba(x.iloc[te])[:, 1]))
    if not scores:
        raise ValueError("grouped_auroc: no fold holds both classes; too few subjects for this label")
    return float(np.mean(scores))


def information_structure(
    features: pd.DataFrame, labels=BINARY_LABELS, channel_sets=None, clean_only: bool = True
) -> pd.DataFrame:
    """AUROC (rows: labels, columns: channel sets) of the same classifier on each channel set's features.

    ``features`` comes from :func:`cohort_features`. With ``clean_only`` the blocks with an alarm,
    an ECG artefact or poor PPG quality are left out, so that what is measured is the information in
    the physiology, not in the artefacts.
    """
    sets = CHANNEL_SETS if channel_sets is None else channel_sets
    df = features
    if clean_only:
        df = df[(~df["ecg_artefact"].astype(bool)) & df["ppg_quality"].eq(1) & df["alarm"].eq("none")]
    df = df.reset_index(drop=True)
    out = {}
    for label in labels:
        y = df[label].to_numpy().astype(int)
        if len(np.unique(y)) < 2:
            raise ValueError(f"information_structure: label {label!r} has a single class in these blocks")
        out[label] = {
            name: grouped_auroc(
                df[[c for c in df.columns if c.startswith(prefixes)]], y, df["subject_id"].to_numpy()
            )
            for name, prefixes in sets.items()
        }
    return pd.DataFrame(out).T


# ---------------------------------------------------------------------------------------------------
# PSG: what each sleep stage looks like in the spectrum.

EEG_BANDS = {
    "delta": (0.5, 2.0),
    "theta": (4.0, 7.0),
    "alpha": (8.0, 12.0),
    "sigma": (12.0, 15.0),
    "beta": (16.0, 28.0),
}


def _epochs(x: np.ndarray, fs: float, epoch_s: float, n_epochs: int) -> np.ndarray:
    m = int(epoch_s * fs)
    return _fill_nan(np.asarray(x, float))[: n_epochs * m].reshape(n_epochs, m)


def stage_spectra(cohort: Cohort, channel: str = "F3-M2", records: int | None = None) -> pd.DataFrame:
    """Mean Welch power spectral density per sleep stage (rows: frequency in Hz, columns: stages)."""
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    freqs = None
    n = len(cohort.recordings) if records is None else min(records, len(cohort.recordings))
    for i in range(n):
        rec = cohort.recordings[i]
        ann, fs = rec.annotations, rec.fs[channel]
        ep = _epochs(rec.signals[channel], fs, float(ann["duration"].iloc[0]), len(ann))
        freqs, p = signal.welch(ep, fs, nperseg=int(4 * fs), axis=-1)
        for stage, rows in ann.groupby("stage").groups.items():
            sums[stage] = sums.get(stage, 0) + p[np.asarray(rows)].sum(axis=0)
            counts[stage] = counts.get(stage, 0) + len(rows)
    order = [s for s in ("W", "N1", "N2", "N3", "REM") if s in sums]
    return pd.DataFrame({s: sums[s] / counts[s] for s in order}, index=pd.Index(freqs, name="freq_hz"))


def epoch_band_powers(cohort: Cohort, records: int | None = None) -> pd.DataFrame:
    """Per 30-s epoch: relative EEG band powers, log EOG (0.3-5 Hz) and chin-EMG (10-90 Hz) power,
    ECG heart-rate variability (SD of RR), with the epoch's stage, arousal and the subject's age."""
    rows = []
    n = len(cohort.recordings) if records is None else min(records, len(cohort.recordings))
    for i in range(n):
        rec = cohort.recordings[i]
        ann = rec.annotations
        fs, epoch_s = rec.fs["F3-M2"], float(ann["duration"].iloc[0])
        f, p_eeg = signal.welch(_epochs(rec.signals["F3-M2"], fs, epoch_s, len(ann)), fs, nperseg=int(4 * fs))
        tot = p_eeg[:, (f >= 0.5) & (f <= 30)].sum(axis=1)
        df = pd.DataFrame(
            {b: p_eeg[:, (f >= lo) & (f < hi)].sum(axis=1) / tot for b, (lo, hi) in EEG_BANDS.items()}
        )
        df["delta_uv2"] = p_eeg[:, (f >= 0.5) & (f < 2.0)].sum(axis=1) * (f[1] - f[0])
        f2, p_eog = signal.welch(
            _epochs(rec.signals["E1-M2"], fs, epoch_s, len(ann)), fs, nperseg=int(4 * fs)
        )
        df["eog_log_power"] = np.log10(p_eog[:, (f2 >= 0.3) & (f2 <= 5)].sum(axis=1))
        f3, p_emg = signal.welch(
            _epochs(rec.signals["Chin1-Chin2"], fs, epoch_s, len(ann)), fs, nperseg=int(fs)
        )
        df["emg_log_power"] = np.log10(p_emg[:, (f3 >= 10) & (f3 <= 90)].sum(axis=1))
        r = r_peaks(rec.signals["ECG"], rec.fs["ECG"])
        df["rr_sd_ms"] = [1000 * np.diff(r[(r >= o) & (r < o + epoch_s)]).std() for o in ann["onset"]]
        df["stage"] = ann["stage"].to_numpy()
        df["arousal"] = ann["arousal"].to_numpy()
        df["record_id"], df["subject_id"], df["age"] = rec.record_id, rec.subject_id, rec.labels["age"]
        rows.append(df)
    return pd.concat(rows, ignore_index=True)
