"""Overnight PSG cohort (MultiMAE): EEG F3-M2, EOG E1-M2, chin EMG and ECG at 200 Hz, 30-s epochs.

The hypnogram is a Markov chain over W, N1, N2, N3 and REM whose transition probabilities drift
through the night (deep sleep early, REM late, as in real sleep cycles). Each stage shapes every
channel the way an AASM scorer expects:

========  ==========================================  ==============================  ====================
stage     EEG (F3-M2)                                 EOG                             chin EMG
========  ==========================================  ==============================  ====================
W         alpha 8-12 Hz, beta                         blinks, saccades                high tone
N1        theta 4-7 Hz, alpha fades                   slow rolling eye movements      lower
N2        spindles 12-14 Hz, K-complexes              frontal EEG leaking in          lower
N3        high-amplitude delta 0.5-2 Hz               delta leaking in                low
REM       low-amplitude mixed theta                   rapid eye movements             atonia + twitches
========  ==========================================  ==============================  ====================

Arousals (3-15 s of alpha/beta, raised EMG and heart rate) fall in about 3 % of the sleep epochs;
an epoch's ``arousal`` label is 1 when an arousal lies in it. Age acts on more than one modality:
it lowers slow-wave (delta) amplitude and N3 time in the EEG and shrinks heart-rate variability in
the ECG, so the ``old`` label (age >= 55, the MultiMAE task) is predictable from either.

Difficulty knobs (:class:`PsgEffects`, :mod:`physiofm.synthetic.effects`): one effect size per label, 1.0 by
default (the description above), 0 removes what the label does to the signals while the label is still drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import signal

from physiofm.recording import Recording, RecordingSet
from physiofm.synthetic import dipole, ecg
from physiofm.synthetic.cohort import Cohort, LazyLoader, check_positive, plan_tables, rng_for
from physiofm.synthetic.effects import Effects, lerp

SOURCE = "synthetic_psg"
FS = 200.0
EPOCH_S = 30.0
STAGES = ("W", "N1", "N2", "N3", "REM")
CHANNELS = ("F3-M2", "E1-M2", "Chin1-Chin2", "ECG")
AGE_THRESHOLD = 55.0

# Base transition matrix (rows: from, columns: to) in STAGES order.
_P = np.array(
    [
        [0.86, 0.11, 0.03, 0.00, 0.00],
        [0.08, 0.55, 0.32, 0.00, 0.05],
        [0.02, 0.04, 0.86, 0.05, 0.03],
        [0.01, 0.01, 0.07, 0.91, 0.00],
        [0.03, 0.04, 0.05, 0.00, 0.88],
    ]
)
# Per-stage amplitudes (µV): background, alpha, theta, delta, beta, EMG; heart rate offset (bpm).
_BG = np.array([8.0, 10.0, 12.0, 12.0, 8.0])
_ALPHA = np.array([22.0, 6.0, 2.5, 2.0, 4.0])
_THETA = np.array([4.0, 14.0, 9.0, 6.0, 12.0])
_DELTA = np.array([3.0, 6.0, 16.0, 65.0, 5.0])
_BETA = np.array([6.0, 3.0, 2.0, 1.5, 3.5])
_EMG = np.array([20.0, 11.0, 8.0, 6.0, 1.5])
_HR = np.array([8.0, 4.0, 0.0, -3.0, 4.0])


@dataclass(frozen=True)
class PsgEffects(Effects):
    """Effect size of each label of the PSG cohort (1.0: the original cohort; 0: the label leaves no trace).

    Attributes:
        stage: every stage signature: the per-stage EEG band amplitudes, chin-EMG tone and heart-rate offsets
            are pulled towards their mean over the stages (mean + s (stage value - mean)), and spindles,
            K-complexes, slow and rapid eye movements, blinks and REM twitches are scaled by s.
        age: every age effect (less slow-wave amplitude and N3 time, smaller HRV) as if the normalised age
            were s x (age - 20) / 65.
        arousal: the arousal's alpha / beta burst, EMG rise and heart-rate rise.
    """

    stage: float = 1.0
    age: float = 1.0
    arousal: float = 1.0


def _stage_tables(s: float) -> dict[str, np.ndarray]:
    """The per-stage amplitude tables pulled towards their mean over the stages by the stage knob."""
    tables = {"bg": _BG, "alpha": _ALPHA, "theta": _THETA, "delta": _DELTA, "beta": _BETA, "emg": _EMG,
              "hr": _HR}
    return {k: lerp(np.full(5, v.mean()), v, s) for k, v in tables.items()}


@dataclass
class PsgPlan:
    record_id: str
    subject_id: str
    index: int
    seed: int
    attrs: dict
    stages: np.ndarray  # (E,) stage index per epoch
    r: np.ndarray  # R-peak times (s)
    events: pd.DataFrame
    epochs: pd.DataFrame  # annotations
    morph: ecg.Morphology
    effects: PsgEffects


def hypnogram(n_epochs: int, age_norm: float, rng: np.random.Generator) -> np.ndarray:
    """Stage index per epoch from a time-varying Markov chain (starts awake)."""
    st = np.zeros(n_epochs, dtype=int)
    for e in range(1, n_epochs):
        frac = e / n_epochs
        row = _P[st[e - 1]].copy()
        if st[e - 1] == 2:
            row[3] *= max(0.05, 2.2 * (1 - frac)) * (1.3 - age_norm)  # deep sleep early, less with age
            row[4] *= 0.3 + 1.6 * frac  # REM late
        if st[e - 1] == 3:
            row[2] *= 0.6 + 2.0 * frac
        st[e] = rng.choice(5, p=row / row.sum())
    return st


def _envelope(per_epoch: np.ndarray, n: int, smooth: int) -> np.ndarray:
    """Per-sample amplitude from per-epoch values, with ~``smooth``-sample transitions."""
    x = np.repeat(per_epoch, int(EPOCH_S * FS))[:n]
    c = np.cumsum(np.concatenate([[0.0], np.pad(x, (smooth // 2, smooth - smooth // 2 - 1), mode="edge")]))
    return (c[smooth:] - c[:-smooth]) / smooth


def _band(n: int, lo: float, hi: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-SD noise band-limited to lo..hi Hz."""
    sos = signal.butter(3, [lo, hi], btype="band", fs=FS, output="sos")
    x = signal.sosfilt(sos, rng.standard_normal(n + 400))[400:]
    return x / max(x.std(), 1e-12)


def _place(n: int, times: np.ndarray, kernel: np.ndarray, amps: np.ndarray, centre: int) -> np.ndarray:
    """Sum of one kernel placed at each time (s) with the given amplitudes (vectorised)."""
    out = np.zeros(n)
    if times.size == 0:
        return out
    idx = np.round(times * FS).astype(np.int64)[:, None] + np.arange(kernel.size)[None, :] - centre
    ok = (idx >= 0) & (idx < n)
    return np.bincount(idx[ok], weights=(amps[:, None] * kernel[None, :])[ok], minlength=n)


def _events_in(stages: np.ndarray, which: list[int], per_min: float, rng: np.random.Generator) -> np.ndarray:
    """Poisson event times (s) inside the epochs of the given stages."""
    ep = np.flatnonzero(np.isin(stages, which))
    k = rng.poisson(per_min * ep.size * EPOCH_S / 60)
    return (
        np.sort(ep[rng.integers(0, max(ep.size, 1), k)] * EPOCH_S + rng.uniform(0.5, EPOCH_S - 0.5, k))
        if ep.size
        else np.array([])
    )


def _plan(s: pd.Series, index: int, seed: int, n_epochs: int, arousal_fraction: float,
          fx: PsgEffects) -> PsgPlan:
    rng = rng_for(seed, "psg", index, "plan")
    rid = f"psg{index:04d}"
    age_n = (s["age"] - 20) / 65 * fx.age
    st = hypnogram(n_epochs, age_n, rng)
    dur = n_epochs * EPOCH_S
    # Arousals: one in each of ~3 % of the sleep epochs.
    sleep_ep = np.flatnonzero(st > 0)
    k = min(sleep_ep.size, int(round(arousal_fraction * n_epochs)))
    aro_ep = np.sort(rng.choice(sleep_ep, k, replace=False)) if k else np.array([], int)
    aro_dur = rng.uniform(3, 15, k)
    aro_on = aro_ep * EPOCH_S + rng.uniform(0, EPOCH_S - aro_dur)
    spindles = _events_in(st, [2, 3], 6.0, rng)
    spindles = spindles[st[(spindles // EPOCH_S).astype(int)] == 2] if spindles.size else spindles
    kcomp = _events_in(st, [2], 1.5, rng)
    rems = _events_in(st, [4], 25.0, rng)
    blinks = _events_in(st, [0], 12.0, rng)
    rows = [{"kind": "arousal", "onset": o, "duration": d} for o, d in zip(aro_on, aro_dur, strict=True)]
    sp_dur = rng.uniform(0.5, 1.5, spindles.size)
    rows += [
        {"kind": "spindle", "onset": o - d / 2, "duration": d} for o, d in zip(spindles, sp_dur, strict=True)
    ]
    rows += [{"kind": "k_complex", "onset": o - 0.2, "duration": 0.8} for o in kcomp]
    rows += [{"kind": "rapid_eye_movement", "onset": o, "duration": 0.3} for o in rems]
    rows += [{"kind": "blink", "onset": o - 0.15, "duration": 0.3} for o in blinks]
    events = pd.DataFrame(rows, columns=["kind", "onset", "duration"]).assign(record_id=rid)
    events["channel"] = events["kind"].map(
        {
            "arousal": "all",
            "spindle": "F3-M2",
            "k_complex": "F3-M2",
            "rapid_eye_movement": "E1-M2",
            "blink": "E1-M2",
        }
    )
    events = events.sort_values("onset", ignore_index=True)[
        ["record_id", "onset", "duration", "kind", "channel"]
    ]

    # Heart rate: stage-dependent, raised during arousals; HRV shrinks with age.
    grid = np.arange(-2.0, dur + 1.0, 1 / ecg.GRID_HZ)
    ep_of_grid = np.clip((grid // EPOCH_S).astype(int), 0, n_epochs - 1)
    target = s["hr_base"] + _stage_tables(fx.stage)["hr"][st][ep_of_grid]
    for o, d in zip(aro_on, aro_dur, strict=True):
        target = target + 10 * fx.arousal * ((grid >= o) & (grid < o + d))
    hr = ecg.hr_course(
        grid, target, rng, rsa=0.10 * (1 - 0.75 * age_n), lf=0.05 * (1 - 0.6 * age_n), smooth_s=4
    )
    r = ecg.beat_times(grid, hr, rng)
    onsets = np.arange(n_epochs) * EPOCH_S
    rate = np.full(n_epochs, np.nan)
    for e in range(n_epochs):
        rb = r[(r >= onsets[e]) & (r < onsets[e] + EPOCH_S)]
        if rb.size >= 2:
            rate[e] = 60.0 / np.diff(rb).mean()
    aro = np.zeros(n_epochs, int)
    aro[aro_ep] = 1
    epochs = pd.DataFrame(
        {
            "onset": onsets,
            "duration": EPOCH_S,
            "stage": np.array(STAGES)[st],
            "stage_code": st,
            "arousal": aro,
            "heart_rate": rate.round(2),
        }
    )
    male = bool(s["male"])
    morph = ecg.Morphology(
        r_mv=float(rng.lognormal(np.log(1.2 if male else 1.05), 0.15)),
        qtc_s=0.405 if male else 0.42,
        rotation=ecg.random_rotation(rng, 15),
    )
    attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in s.items()}
    return PsgPlan(rid, s["subject_id"], index, seed, attrs, st, r, events, epochs, morph, fx)


def render(p: PsgPlan) -> Recording:
    """The four channels (µV for EEG/EOG/EMG, mV for ECG) of one planned night."""
    rng = rng_for(p.seed, "psg", p.index, "render")
    n = int(p.stages.size * EPOCH_S * FS)
    st, fx = p.stages, p.effects
    tab = _stage_tables(fx.stage)
    age_n = (p.attrs["age"] - 20) / 65 * fx.age
    sm = int(2 * FS)
    ev = p.events
    aro = ev[ev["kind"] == "arousal"]
    aro_env = np.zeros(n)
    for o, d in zip(aro["onset"], aro["duration"], strict=True):
        aro_env[int(o * FS) : int((o + d) * FS)] = 1.0

    # EEG
    delta_amp = tab["delta"] * np.where(np.arange(5) == 3, 1 - 0.55 * age_n, 1 - 0.3 * age_n)
    low = signal.sosfilt(signal.butter(1, 2.0, fs=FS, output="sos"), rng.standard_normal(n))
    low /= max(low.std(), 1e-12)
    eeg_slow = _envelope(delta_amp[st], n, sm) * _band(n, 0.5, 2.0, rng) + _envelope(
        tab["theta"][st], n, sm
    ) * _band(n, 4.0, 7.0, rng)
    eeg = (
        _envelope(tab["bg"][st], n, sm) * (0.7 * low + 0.3 * rng.standard_normal(n))
        + eeg_slow
        + (_envelope(tab["alpha"][st], n, sm) + 18 * fx.arousal * aro_env) * _band(n, 8.0, 12.0, rng)
        + (_envelope(tab["beta"][st], n, sm) + 8 * fx.arousal * aro_env) * _band(n, 16.0, 28.0, rng)
    )
    sp = ev[ev["kind"] == "spindle"]
    t_k = np.arange(-int(0.8 * FS), int(0.8 * FS) + 1) / FS
    for o, d in zip(sp["onset"], sp["duration"], strict=True):
        f = rng.uniform(12, 14)
        i0 = int((o + d / 2) * FS) - t_k.size // 2
        seg = 35 * fx.stage * np.exp(-0.5 * (t_k / (d / 5)) ** 2) * np.sin(
            2 * np.pi * f * t_k + rng.uniform(0, 6.3))
        lo, hi = max(i0, 0), min(i0 + t_k.size, n)
        eeg[lo:hi] += seg[lo - i0 : hi - i0]
    kc = np.arange(int(1.2 * FS)) / FS
    k_kernel = -90 * np.exp(-0.5 * ((kc - 0.25) / 0.08) ** 2) + 50 * np.exp(-0.5 * ((kc - 0.6) / 0.15) ** 2)
    kcs = ev[ev["kind"] == "k_complex"]["onset"].to_numpy() + 0.2
    eeg += _place(n, kcs, k_kernel * fx.stage, rng.uniform(0.7, 1.2, kcs.size), int(0.25 * FS))

    # EOG: eye movements plus frontal EEG picked up by the electrode.
    eog = 0.35 * eeg_slow + 4 * rng.standard_normal(n)
    sem = (
        _envelope(np.where(st == 1, 60.0 * fx.stage, 0.0), n, sm)
        * signal.sosfilt(signal.butter(2, 0.4, fs=FS, output="sos"), rng.standard_normal(n))
        * 12
    )
    eog += sem
    sac_t = np.arange(int(1.5 * FS)) / FS
    saccade = (1 / (1 + np.exp(-(sac_t - 0.05) / 0.008))) * np.exp(-sac_t / 0.6)  # step through AC coupling
    rem_t = ev[ev["kind"] == "rapid_eye_movement"]["onset"].to_numpy()
    eog += _place(n, rem_t, saccade * fx.stage,
                  rng.choice([-1, 1], rem_t.size) * rng.uniform(80, 200, rem_t.size), 0)
    bl = ev[ev["kind"] == "blink"]["onset"].to_numpy() + 0.15
    blink = np.exp(-0.5 * (np.arange(-60, 61) / FS / 0.06) ** 2) * fx.stage
    eog += _place(n, bl, blink, rng.uniform(100, 250, bl.size), 60)

    # Chin EMG: tone by stage (atonia in REM), twitches in REM, bursts with arousals.
    emg_amp = _envelope(tab["emg"][st], n, sm) * (1 + 2.0 * fx.arousal * aro_env)
    twitch = _events_in(st, [4], 8.0, rng)
    tw = np.zeros(n)
    for o in twitch:
        tw[int(o * FS) : int((o + rng.uniform(0.1, 0.3)) * FS)] = 15.0 * fx.stage
    emg = (emg_amp + tw[:n]) * _band(n, 10.0, 90.0, rng) + 0.5 * rng.standard_normal(n)

    # ECG (lead II): beats from the planned R peaks.
    rr = np.diff(p.r, prepend=p.r[0] - 0.9)
    vcg = ecg.render(ecg.beat_waves(p.r, rr, p.morph, rng), n, FS)
    ecg_ii = dipole.project(vcg, ("II",))[0] + 0.01 * rng.standard_normal(n)
    t = np.arange(n) / FS
    ecg_ii += 0.05 * np.sin(2 * np.pi * 0.25 * t + rng.uniform(0, 6.3))

    signals = {"F3-M2": eeg, "E1-M2": eog, "Chin1-Chin2": emg, "ECG": ecg_ii}
    signals = {k: v.astype(np.float32) for k, v in signals.items()}
    units = {"F3-M2": "uV", "E1-M2": "uV", "Chin1-Chin2": "uV", "ECG": "mV"}
    return Recording(p.record_id, p.subject_id, SOURCE, signals, dict.fromkeys(signals, FS), units, 0.0,
                     dict(p.attrs), p.epochs.copy(), {"r_peaks_s": p.r[(p.r >= 0) & (p.r < n / FS)]})


def psg_cohort(n_subjects: int, seed: int, hours: float = 2.0, arousal_fraction: float = 0.03,
               effects: PsgEffects | dict[str, float] | None = None) -> Cohort:
    """Overnight PSG recordings (one per subject) with 30-s epoch stages and arousals.

    Args:
        n_subjects: number of subjects (= records).
        seed: every array is a deterministic function of it.
        hours: recording length; the sleep-cycle drift is compressed into it (real nights: ~7.7 h).
        arousal_fraction: fraction of epochs holding an arousal.
        effects: the effect size of each label (:class:`PsgEffects`, or a dict of some of its knobs);
            None keeps every effect at 1.0.

    Returns:
        :class:`Cohort` with channels ``F3-M2``, ``E1-M2``, ``Chin1-Chin2``, ``ECG`` at 200 Hz; subject
        table with ``age``, ``old`` (age >= 55), ``sex``; epoch labels ``stage``, ``stage_code``,
        ``arousal``, ``heart_rate``.
    """
    check_positive("psg_cohort", n_subjects=n_subjects, hours=hours)
    if not 0 <= arousal_fraction < 0.5:
        raise ValueError(
            f"synthetic psg_cohort: arousal_fraction must be in [0, 0.5), got {arousal_fraction}"
        )
    fx = PsgEffects.from_mapping(effects)
    n_epochs = int(hours * 3600 // EPOCH_S)
    if n_epochs < 2:
        raise ValueError(f"synthetic psg_cohort: hours={hours} gives fewer than two 30-s epochs")
    rng = rng_for(seed, "psg", -1, "subjects")
    age = rng.uniform(20, 85, n_subjects)
    male = rng.random(n_subjects) < 0.6
    subjects = pd.DataFrame(
        {
            "subject_id": [f"psg-s{i:04d}" for i in range(n_subjects)],
            "age": age.round(1),
            "old": (age >= AGE_THRESHOLD).astype(int),
            "sex": np.where(male, "M", "F"),
            "male": male.astype(int),
            "hr_base": np.clip(rng.normal(62, 8, n_subjects), 45, 85).round(1),
        }
    )
    plans = {}
    for i, s in subjects.iterrows():
        p = _plan(s, int(i), seed, n_epochs, arousal_fraction, fx)
        plans[p.record_id] = p
    subjects["n3_fraction"] = [float((p.stages == 3).mean().round(3)) for p in plans.values()]
    records = pd.DataFrame(
        [{"record_id": p.record_id, **p.attrs, "hours": n_epochs * EPOCH_S / 3600} for p in plans.values()]
    )
    labels, events = plan_tables(plans, "epochs")
    info = {
        "channels": list(CHANNELS),
        "fs": dict.fromkeys(CHANNELS, FS),
        "epoch_s": EPOCH_S,
        "stages": STAGES,
        "age_threshold": AGE_THRESHOLD,
        "effects": fx.as_dict(),
    }
    rs = RecordingSet(SOURCE, records, LazyLoader(plans, render), {"fs": info["fs"]})
    return Cohort(SOURCE, rs, subjects, labels, events, info)
