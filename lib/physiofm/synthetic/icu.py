"""Co-recorded ICU-like cohort (SyneCo, AnyPPG): ECG lead II + a V lead at 500 Hz, PPG at 125 Hz.

Information structure (by construction; :mod:`.proofs` checks it):

=====================  ======================================  ==========================================
label                  carried by                              how
=====================  ======================================  ==========================================
``heart_rate``         every channel (redundant)               R-R intervals in both leads, pulse rate in
                                                               PPG; varies per 10-s block with activity
``rhythm`` / ``af``    every channel (redundant)               AF: irregular RR, no P wave, f-waves (ECG);
                                                               irregular pulse timing and height (PPG)
``conduction``         ECG only (both leads)                   QRS duration >= 120 ms, slurred terminal
                                                               force (LBBB-like)
``st_change``          ECG only (both leads)                   ST depression and T-wave inversion
``v_rprime``           the V lead only                         terminal anterior force orthogonal to lead
                                                               II's lead vector: an R' in V1, zero in II
``stiff``/``stiffness``  PPG only                              earlier, larger reflected wave; weaker
                                                               dicrotic wave
``hypertensive``,      neither channel alone — only ECG+PPG    set by the pulse-transit time (R peak to
``sbp``, ``dbp``,      together (synergistic)                  pulse foot): SBP = 140 - 0.5 (PTT - 250 ms),
``ptt_ms``                                                     hypertensive <=> SBP >= 140 <=> PTT <= 250
``sex``                both, weakly (partly redundant)         male: larger QRS, shorter QTc (ECG);
                                                               larger pulse (PPG)
``age``                both (partly redundant)                 HRV shrinks with age (ECG and pulse
                                                               timing); slower upstroke, damped diastolic
                                                               wave (PPG)
``activity``           both; mostly PPG                        heart rate, PPG motion at the step/pedal
                                                               cadence, ECG muscle noise
``alarm``              both together                           'true': a ventricular-tachycardia run (wide
                                                               fast ECG complexes, PPG pulses collapse);
                                                               'false': a VT-like ECG artefact burst while
                                                               the PPG keeps beating normally
``ppg_quality``        PPG                                     0 when motion, dropout or flatline touches
                                                               the block
=====================  ======================================  ==========================================

Why the hypertension label is invisible in either channel: the PTT (150-350 ms) is drawn per block
independently of every other attribute, and no waveform property of either channel depends on it —
the PPG pulse shape depends on stiffness and age only, and the first beat of a record falls at a
random phase (beats start before the record), so neither channel is time-locked to the window
start. Each channel's marginal distribution is therefore the same for both labels; only the delay
between the channels carries it. PTT varies within a subject (an AR(1) course across blocks around a
subject mean) so that segment labels vary within subjects, not only between them.

Labels appear at two levels: subject attributes in ``Cohort.subjects`` (and every record's
``labels``), and per 10-s block in each recording's ``annotations`` (``Cohort.labels``).

Difficulty knobs (:class:`IcuEffects`, :mod:`physiofm.synthetic.effects`): one effect size per label, 1.0 by
default (the table above), 0 removes what the label does to the signals while the label is still drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from physiofm.recording import Recording, RecordingSet
from physiofm.synthetic import artefacts as art
from physiofm.synthetic import dipole, ecg, ppg
from physiofm.synthetic.cohort import Cohort, LazyLoader, block_edges, check_positive, plan_tables, rng_for
from physiofm.synthetic.effects import Effects, lerp

SOURCE = "synthetic_icu"
ECG_FS = 500.0
PPG_FS = 125.0
PTT_THRESHOLD_MS = 250.0
ACTIVITIES = ("rest", "sitting", "walking", "cycling", "stairs")
_ACT_HR = np.array([0.0, 4.0, 18.0, 26.0, 32.0])  # bpm added to the subject's resting rate
_ACT_MOTION = np.array([0.0, 0.05, 0.5, 0.3, 0.7])  # PPG motion amplitude relative to the pulse
_ACT_CADENCE = np.array([0.0, 0.0, 1.8, 1.3, 1.6])  # Hz: steps or pedal strokes
_ACT_MUSCLE = np.array([0.0, 0.005, 0.02, 0.015, 0.03])  # mV continuous EMG in the ECG
_HR_CAP = 135.0  # keeps PTT + upstroke inside one cardiac cycle outside VT runs


@dataclass(frozen=True)
class IcuEffects(Effects):
    """Effect size of each label of the ICU cohort (1.0: the original cohort; 0: the label leaves no trace).

    Attributes:
        af: AF's irregular RR (coefficient of variation 0.2 s), its f-waves (0.06 s mV) and the loss of
            the P wave (amplitude 1 - s); the PPG's irregular pulse follows the RR intervals.
        conduction: QRS widening (normal + s (wide - normal) ms), the slurred terminal force (0.5 s mV) and
            the loss of the septal Q wave (amplitude 1 - s).
        st_change: ST depression (0.15 s mV) and T-wave inversion (T amplitude x (1 - 1.6 s)).
        v_rprime: the R' amplitude in the V lead (0.35-0.55 s mV).
        stiff: the pulse-shape effect of arterial stiffness (the PPG sees 0.5 + s (stiffness - 0.5)); the
            ``stiff`` / ``stiffness`` labels keep the drawn value.
        hypertensive: the spread of the pulse-transit time around the 250-ms threshold (PTT = 250 + s (PTT0 -
            250) ms, clipped to 150-350); labels follow the delay in the signal, as SBP does.
        sex: the male-female differences (R amplitude 1.25 vs 1.1 mV, QTc 405 vs 420 ms, +4 bpm resting rate
            in women, PPG pulse 8 % smaller in women), scaled around their midpoints.
        age: every age effect (HRV shrinking, slower pulse upstroke, damped diastolic wave) as if the
            normalised age were s x (age - 20) / 70.
        activity: the heart-rate rise, PPG motion and ECG muscle noise of each activity.
    """

    af: float = 1.0
    conduction: float = 1.0
    st_change: float = 1.0
    v_rprime: float = 1.0
    stiff: float = 1.0
    hypertensive: float = 1.0
    sex: float = 1.0
    age: float = 1.0
    activity: float = 1.0


def sbp_from_ptt(ptt_ms):
    """Systolic pressure (mmHg) of this synthetic world: a falling linear function of PTT."""
    return 140.0 - 0.5 * (np.asarray(ptt_ms) - PTT_THRESHOLD_MS)


@dataclass
class IcuPlan:
    record_id: str
    subject_id: str
    index: int
    seed: int
    duration_s: float
    attrs: dict
    morph: ecg.Morphology
    r: np.ndarray  # R-peak times (s), including a pre-roll before 0
    vt: np.ndarray  # (K,) bool: beat is part of a VT run
    ptt_s: np.ndarray  # (K,) pulse-transit time of each beat
    blocks: pd.DataFrame  # annotations
    events: pd.DataFrame
    muscle: tuple  # onsets, durations, amplitudes
    false_alarms: tuple  # onsets, durations, amplitudes
    motion_events: tuple
    leads: tuple[str, ...]
    v_lead: str
    rates: art.ArtefactRates
    effects: IcuEffects


def _subjects(n: int, seed: int, fx: IcuEffects) -> pd.DataFrame:
    rng = rng_for(seed, "icu", -1, "subjects")
    male = rng.random(n) < 0.5
    age = rng.uniform(20, 90, n)
    af = rng.random(n) < 0.2
    conduction = rng.random(n) < 0.25
    st_change = rng.random(n) < 0.25
    v_rprime = rng.random(n) < 0.3
    stiffness = rng.uniform(0, 1, n)
    wide, normal = rng.uniform(130, 165, n), rng.uniform(80, 100, n)
    qrs = np.where(conduction, lerp(normal, wide, fx.conduction), normal)
    return pd.DataFrame(
        {
            "subject_id": [f"icu-s{i:04d}" for i in range(n)],
            "sex": np.where(male, "M", "F"),
            "male": male.astype(int),
            "age": age.round(1),
            "hr_rest": np.clip(rng.normal(76, 11, n) + lerp(2.0, 4 * ~male, fx.sex), 50, 105).round(1),
            "rhythm": np.where(af, "af", "sinus"),
            "af": af.astype(int),
            "qrs_ms": qrs.round(1),
            "conduction": conduction.astype(int),
            "st_change": st_change.astype(int),
            "v_rprime": v_rprime.astype(int),
            "stiffness": stiffness.round(3),
            "stiff": (stiffness > 0.5).astype(int),
            "ptt_mean_ms": rng.uniform(195, 305, n).round(1),
            "ppg_gain": rng.lognormal(0, 0.15, n).round(3),  # probe placement and perfusion
        }
    )


def _morphology(s: pd.Series, rng: np.random.Generator, fx: IcuEffects) -> ecg.Morphology:
    male = bool(s["male"])
    st, cd = bool(s["st_change"]), bool(s["conduction"])
    return ecg.Morphology(
        r_mv=float(rng.lognormal(np.log(lerp(1.175, 1.25 if male else 1.1, fx.sex)), 0.15)),
        qrs_ms=float(s["qrs_ms"]),
        qtc_s=float(rng.normal(lerp(0.4125, 0.405 if male else 0.42, fx.sex), 0.01)),
        pr_s=float(rng.uniform(0.14, 0.19)),
        t_mv=float(rng.uniform(0.28, 0.42)) * (lerp(1.0, -0.6, fx.st_change) if st else 1.0),
        st_mv=0.15 * fx.st_change if st else 0.0,
        v_rprime_mv=float(rng.uniform(0.35, 0.55)) * fx.v_rprime if s["v_rprime"] else 0.0,
        lbbb=0.5 * fx.conduction if cd else 0.0,
        septal_q=max(0.0, 1.0 - fx.conduction) if cd else None,
        rotation=ecg.random_rotation(rng, 12),
    )


def _courses(s: pd.Series, rng: np.random.Generator, nb: int, fx: IcuEffects) -> tuple[np.ndarray, ...]:
    """Per block: activity index, target heart rate (bpm) and pulse-transit time (ms)."""
    # Activity: a sticky Markov chain over blocks (mean bout ~ 100 s), starting at rest.
    act = np.zeros(nb, dtype=int)
    for b in range(1, nb):
        act[b] = act[b - 1] if rng.random() < 0.9 else rng.integers(len(ACTIVITIES))
    drift = np.cumsum(rng.normal(0, 1.0, nb))
    hr_block = np.clip(s["hr_rest"] + _ACT_HR[act] * fx.activity + drift - drift.mean(), 45,
                       115 if s["af"] else _HR_CAP)
    # Pulse-transit time: AR(1) across blocks around the subject mean, independent of everything else.
    ar = np.zeros(nb)
    ar[0] = rng.normal(0, 30)
    for b in range(1, nb):
        ar[b] = 0.85 * ar[b - 1] + rng.normal(0, 30 * np.sqrt(1 - 0.85**2))
    ptt = lerp(PTT_THRESHOLD_MS, s["ptt_mean_ms"] + ar, fx.hypertensive)
    return act, hr_block, np.clip(ptt, 150, 350)


def _alarms(rid: str, r: np.ndarray, onsets: np.ndarray, block_s: float, alarms_per_hour: float,
            duration_s: float, rng: np.random.Generator) -> tuple:
    """VT alarms, at most one per block and never in the first: true ones replace the beats of their span by a
    VT run, false ones are artefact bursts. Returns beats, VT flags, alarm kind per block, events, bursts."""
    nb = onsets.size
    n_alarm = min(rng.poisson(alarms_per_hour * duration_s / 3600), max(nb - 1, 0))
    alarm_blocks = (
        np.sort(rng.choice(np.arange(1, nb), n_alarm, replace=False)) if n_alarm else np.array([], int)
    )
    alarm = np.array(["none"] * nb, dtype=object)
    vt = np.zeros(r.size, bool)
    ev, fa = [], ([], [], [])
    for b in alarm_blocks:
        dur = rng.uniform(3, 6)
        on = onsets[b] + rng.uniform(1, block_s - dur - 1)
        if rng.random() < 0.4:
            alarm[b] = "true"
            keep = (r < on) | (r > on + dur)
            vt_rr = 60.0 / rng.uniform(150, 200)
            vt_r = on + np.arange(0, dur, vt_rr) + rng.normal(0, 0.004, int(np.ceil(dur / vt_rr)))
            r, vt = np.concatenate([r[keep], vt_r]), np.concatenate([vt[keep], np.ones(vt_r.size, bool)])
            order = np.argsort(r)
            r, vt = r[order], vt[order]
            ev.append({"record_id": rid, "onset": on, "duration": dur, "kind": "vt_run", "channel": "ECG"})
        else:
            alarm[b] = "false"
            for lst, v in zip(fa, (on, dur, rng.uniform(0.8, 1.5)), strict=True):
                lst.append(v)
            ev.append({"record_id": rid, "onset": on, "duration": dur, "kind": "false_alarm_artefact",
                       "channel": "ECG"})
    return r, vt, alarm, ev, fa


def _artefacts(rid: str, duration_s: float, rates: art.ArtefactRates, rng: np.random.Generator) -> tuple:
    """Episodic artefacts: muscle noise (ECG) and motion (PPG) bursts with amplitudes, dropouts and
    flatlines per channel. Returns the muscle and motion bursts and the event rows."""
    sc = rates.scale
    mus = art.poisson_events(duration_s, sc * rates.muscle_per_min / 60, rates.muscle_s, rng)
    mus = (*mus, rng.uniform(*rates.muscle_mv, mus[0].size))
    mot = art.poisson_events(duration_s, sc * rates.ppg_motion_per_min / 60, rates.span_s, rng)
    mot = (*mot, rng.uniform(0.5, 2.0, mot[0].size))
    ev = art.event_rows(rid, "muscle", "ECG", *mus[:2]) + art.event_rows(rid, "motion", "PPG", *mot[:2])
    spans = {"dropout": rates.dropout_per_hour, "flatline": rates.flatline_per_hour}
    for ch in ("II", "V"):
        for kind, per_hour in spans.items():
            drawn = art.poisson_events(duration_s, sc * per_hour / 3600, rates.span_s, rng)
            ev += art.event_rows(rid, kind, ch, *drawn)
    ev += art.event_rows(rid, "dropout", "PPG", *art.poisson_events(
        duration_s, sc * rates.ppg_dropout_per_hour / 3600, rates.span_s, rng))
    return mus, mot, ev


def _blocks(s: pd.Series, onsets: np.ndarray, block_s: float, r: np.ndarray, vt: np.ndarray,
            b_of_beat: np.ndarray, act: np.ndarray, ptt_block: np.ndarray, alarm: np.ndarray,
            events: pd.DataFrame, rng: np.random.Generator, motion: np.ndarray) -> pd.DataFrame:
    """The 10-s block annotations; heart rate from the beats actually generated."""
    nb = onsets.size
    hr_meas = np.full(nb, np.nan)
    for b in range(nb):
        rb = r[(r >= onsets[b]) & (r < onsets[b] + block_s)]
        if rb.size >= 2:
            hr_meas[b] = 60.0 / np.diff(rb).mean()
    vt_block = np.array([vt[b_of_beat == b].any() for b in range(nb)])

    def touched(kinds, channels):
        sel = events[events["kind"].isin(kinds) & events["channel"].isin(channels)]
        out = np.zeros(nb, bool)
        for on, du in zip(sel["onset"], sel["duration"], strict=True):
            out |= (onsets < on + du) & (onsets + block_s > on)
        return out

    sbp = sbp_from_ptt(ptt_block)
    ecg_kinds = ["muscle", "dropout", "flatline", "false_alarm_artefact"]
    return pd.DataFrame({
        "onset": onsets, "duration": block_s, "heart_rate": hr_meas.round(2),
        "rhythm": np.where(vt_block, "vt", s["rhythm"]), "activity": np.array(ACTIVITIES)[act],
        "ptt_ms": ptt_block.round(1), "sbp": sbp.round(1),
        "dbp": (0.55 * sbp + 12 + rng.normal(0, 2, nb)).round(1), "hypertensive": (sbp >= 140).astype(int),
        "alarm": alarm, "ecg_artefact": touched(ecg_kinds, ["ECG", "II", "V"]),
        "ppg_quality": (~touched(["motion", "dropout"], ["PPG"]) & (motion[act] < 0.2)).astype(int),
    })


def _plan(s: pd.Series, index: int, seed: int, duration_s: float, block_s: float, alarms_per_hour: float,
          rates: art.ArtefactRates, leads: tuple[str, ...], v_lead: str, fx: IcuEffects) -> IcuPlan:
    """Everything random about one record, drawn in a fixed order from its own generator."""
    rng = rng_for(seed, "icu", index, "plan")
    rid = f"icu{index:04d}"
    onsets = block_edges(duration_s, block_s)
    nb = onsets.size
    age_n = (s["age"] - 20) / 70 * fx.age
    act, hr_block, ptt_block = _courses(s, rng, nb, fx)
    # Heart-rate course on a grid with 2 s of pre-roll, then R peaks.
    grid = np.arange(-2.0, duration_s + 1.0, 1 / ecg.GRID_HZ)
    b_of_grid = np.clip((grid // block_s).astype(int), 0, nb - 1)
    hr = ecg.hr_course(
        grid, hr_block[b_of_grid], rng, rsa=0.06 * (1 - 0.75 * age_n), lf=0.03 * (1 - 0.6 * age_n)
    )
    r = ecg.beat_times(grid, hr, rng, irregularity=0.2 * fx.af if s["af"] else 0.0)
    r, vt, alarm, ev, fa = _alarms(rid, r, onsets, block_s, alarms_per_hour, duration_s, rng)
    b_of_beat = np.clip((r // block_s).astype(int), 0, nb - 1)
    ptt = ptt_block[b_of_beat] / 1000 + rng.normal(0, 0.002, r.size)
    mus, mot, more = _artefacts(rid, duration_s, rates, rng)
    events = pd.DataFrame(ev + more, columns=["record_id", "onset", "duration", "kind", "channel"])
    blocks = _blocks(s, onsets, block_s, r, vt, b_of_beat, act, ptt_block, alarm, events, rng,
                     _ACT_MOTION * fx.activity)
    attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in s.items()}
    return IcuPlan(rid, s["subject_id"], index, seed, duration_s, attrs, _morphology(s, rng, fx), r, vt, ptt,
                   blocks, events, mus, tuple(map(np.asarray, fa)), mot, leads, v_lead, rates, fx)


def _vt_waves(p: IcuPlan, rng: np.random.Generator) -> list[ecg.Wave]:
    rv, rrv = p.r[p.vt], np.diff(p.r, prepend=p.r[0] - 0.8)[p.vt]
    return ecg.ectopic_waves(rv, rrv, dipole.VT_DIRECTIONS[p.index % 3], 1.6, rng)


def _ecg_leads(p: IcuPlan, rr: np.ndarray, n: int, rng: np.random.Generator) -> tuple[dict, tuple[str, ...]]:
    """Noise-free ECG leads (mV) from the beats: sinus or AF beats, VT runs, AF's fibrillatory waves."""
    a = p.attrs
    sup = ~p.vt
    gain = 1 + 0.05 * np.sin(2 * np.pi * 0.25 * p.r + p.index)
    # AF removes the P wave; with a smaller AF effect a P wave of amplitude 1 - effect remains.
    p_wave = np.full(sup.sum(), max(0.0, 1.0 - p.effects.af) if a["af"] else 1.0)
    waves = ecg.beat_waves(p.r[sup], rr[sup], p.morph, rng, p_wave=p_wave, gain=gain[sup])
    if p.vt.any():
        waves += _vt_waves(p, rng)
    vcg = ecg.render(waves, n, ECG_FS)
    if a["af"]:
        f_waves = ecg.fibrillatory_waves(n, ECG_FS, rng, amp_mv=0.06 * p.effects.af)
        vcg += dipole.ATRIAL_F_DIRECTION[:, None] * f_waves[None, :]
    twelve = [x for x in p.leads if x in dipole.LEADS_12 and x not in ("II", p.v_lead)]
    names = ("II", p.v_lead, *twelve)
    return ecg.vcg_to_leads(vcg, names), names


def _ppg(p: IcuPlan, rr: np.ndarray, act_idx: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """PPG (normalised units): one pulse per beat a PTT after the R peak (VT beats barely perfuse), the
    respiratory baseline, motion at the cadence of the block's activity, motion bursts, white noise."""
    a, fx = p.attrs, p.effects
    age_n = (a["age"] - 20) / 70 * fx.age
    sex_gain = lerp(0.96, 1.0 if a["male"] else 0.92, fx.sex)
    amp = ppg.pulse_amplitudes(rr, a["ppg_gain"] * sex_gain, rng) * np.where(p.vt, 0.12, 1.0)
    stiffness = lerp(0.5, a["stiffness"], fx.stiff)
    pw = ppg.render_ppg(ppg.pulse_waves(p.r + p.ptt_s, amp, rr, stiffness, age_n), n, PPG_FS)
    t_p = np.arange(n) / PPG_FS
    pw += 0.08 * np.sin(2 * np.pi * 0.25 * t_p + rng.uniform(0, 6.3))  # respiratory baseline
    b_p = np.clip((t_p // p.blocks["duration"].iloc[0]).astype(int), 0, len(act_idx) - 1)
    motion_amp = (_ACT_MOTION * fx.activity)[act_idx][b_p]
    if motion_amp.any():
        cad = _ACT_CADENCE[act_idx][b_p]
        mot = np.sin(2 * np.pi * np.cumsum(cad) / PPG_FS) + 0.5 * art._lowpass_noise(n, PPG_FS, 3.0, rng)
        pw += np.convolve(motion_amp, np.ones(125) / 125, mode="same") * mot
    pw += art.bursts(n, PPG_FS, *p.motion_events, (0.3, 5.0), rng)
    return pw + p.rates.white_mv * 2 * rng.standard_normal(n)


def _noisy_ecg(p: IcuPlan, volts: dict, names: tuple[str, ...], act_idx: np.ndarray, n: int,
               rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The leads with baseline wander, mains, white and muscle noise, false-alarm bursts, dropouts and
    flatlines; lead II and the V lead under the monitor's names ``II`` and ``V``."""
    rates = p.rates
    bw_amp, pl_amp = rng.uniform(*rates.baseline_mv), rng.uniform(*rates.powerline_mv)
    muscle = _ACT_MUSCLE * p.effects.activity
    act_emg = np.repeat(muscle[act_idx], int(p.blocks["duration"].iloc[0] * ECG_FS))
    act_emg = np.pad(act_emg, (0, max(0, n - act_emg.size)))[:n]
    fa_noise = None
    if len(p.false_alarms[0]):
        # A VT-like artefact: large 2-6 Hz oscillation with sharp components, in every lead.
        fa_noise = art.bursts(n, ECG_FS, *p.false_alarms, (2.0, 6.0), rng)
        fa_noise += 0.3 * art.bursts(n, ECG_FS, *p.false_alarms, (10.0, 40.0), rng)
    pl_phase = rng.uniform(0, 6.3)
    t_e = np.arange(n) / ECG_FS
    mains = pl_amp * np.sin(2 * np.pi * rates.mains_hz * t_e + pl_phase)
    signals: dict[str, np.ndarray] = {}
    ev = p.events
    for name in names:
        x = volts[name].astype(np.float64)
        x += art.baseline_wander(n, ECG_FS, bw_amp, rng) + mains + rates.white_mv * rng.standard_normal(n)
        x += art.bursts(n, ECG_FS, *p.muscle, (20.0, 150.0), rng)
        x += act_emg * rng.standard_normal(n)
        if fa_noise is not None:
            x += fa_noise * rng.uniform(0.7, 1.3)
        ch = {"II": "II", p.v_lead: "V"}.get(name)
        if ch is not None:
            for kind, mode in (("dropout", "nan"), ("flatline", "flat")):
                sel = ev[(ev["kind"] == kind) & (ev["channel"] == ch)]
                art.blank(x, ECG_FS, sel["onset"].to_numpy(), sel["duration"].to_numpy(), mode)
        signals[ch or name] = x.astype(np.float32)
    return signals


def render(p: IcuPlan) -> Recording:
    """Signals of one planned ICU record (mV for ECG, normalised units for PPG)."""
    rng = rng_for(p.seed, "icu", p.index, "render")
    n_e, n_p = int(p.duration_s * ECG_FS), int(p.duration_s * PPG_FS)
    rr = np.diff(p.r, prepend=p.r[0] - 60 / p.attrs["hr_rest"])
    volts, names = _ecg_leads(p, rr, n_e, rng)
    act_idx = p.blocks["activity"].map({x: i for i, x in enumerate(ACTIVITIES)}).to_numpy()
    pw = _ppg(p, rr, act_idx, n_p, rng)
    signals = _noisy_ecg(p, volts, names, act_idx, n_e, rng)
    if len(names) > 2:
        signals[p.v_lead] = signals["V"]  # the monitor's V channel is that chest lead
    sel = p.events[(p.events["kind"] == "dropout") & (p.events["channel"] == "PPG")]
    art.blank(pw, PPG_FS, sel["onset"].to_numpy(), sel["duration"].to_numpy(), "nan")
    signals["PPG"] = pw.astype(np.float32)
    fs = {c: (PPG_FS if c == "PPG" else ECG_FS) for c in signals}
    units = {c: ("NU" if c == "PPG" else "mV") for c in signals}
    meta = {"v_lead": p.v_lead, "r_peaks_s": p.r[(p.r >= 0) & (p.r < p.duration_s)],
            "ptt_threshold_ms": PTT_THRESHOLD_MS}
    return Recording(p.record_id, p.subject_id, SOURCE, signals, fs, units, 0.0, dict(p.attrs),
                     p.blocks.copy(), meta)


def _task(kind: str, level: str, column: str) -> dict:
    return {"type": kind, "level": level, "columns": [column], "papers": ["syneco", "anyppg"]}


# The cohort's labels as probing tasks, in the loaders' ``info["tasks"]`` format: per-block labels are
# "annotation" tasks (every segment its own label), subject attributes "record" tasks.
TASKS = {
    **{c: _task("regression", "annotation", c) for c in ("heart_rate", "sbp", "dbp", "ptt_ms")},
    **{c: _task("binary", "annotation", c) for c in ("hypertensive", "ppg_quality")},
    "activity": _task("multiclass", "annotation", "activity"),
    "alarm": _task("multiclass", "annotation", "alarm"),
    **{c: _task("binary", "record", c)
       for c in ("af", "conduction", "st_change", "v_rprime", "stiff", "male")},
    **{c: _task("regression", "record", c) for c in ("stiffness", "age")},
}


def icu_cohort(
    n_subjects: int,
    seed: int,
    duration_s: float = 720.0,
    block_s: float = 10.0,
    twelve_lead: bool = False,
    v_lead: str = "V1",
    alarms_per_hour: float = 15.0,
    artefacts: art.ArtefactRates | None = None,
    effects: IcuEffects | dict[str, float] | None = None,
) -> Cohort:
    """Co-recorded ECG (II, V at 500 Hz) + PPG (125 Hz) cohort, one record per subject.

    Args:
        n_subjects: number of subjects (= records).
        seed: every array is a deterministic function of it.
        duration_s: record length (s); SyneCo keeps records of at least 10 minutes.
        block_s: length (s) of the annotation blocks that carry segment-level labels.
        twelve_lead: also emit the 12 standard leads ``I .. V6`` (for ECG tasks).
        v_lead: which chest lead the monitor's ``V`` channel is (``V1`` shows the V-only feature best).
        alarms_per_hour: rate of VT-alarm blocks (40 % true VT runs, 60 % artefact false alarms).
        artefacts: artefact rates; ``ArtefactRates()`` by default, ``ArtefactRates.clean()`` for none.
        effects: the effect size of each label (:class:`IcuEffects`, or a dict of some of its knobs);
            None keeps every effect at 1.0.

    Returns:
        :class:`Cohort` with channels ``II``, ``V``, ``PPG`` (+ the 12 leads), subject table and
        10-s block labels (see the module docstring for what each label means).
    """
    check_positive("icu_cohort", n_subjects=n_subjects, duration_s=duration_s, block_s=block_s)
    if duration_s < block_s:
        raise ValueError(
            f"synthetic icu_cohort: duration_s={duration_s} is shorter than one block ({block_s} s)"
        )
    if v_lead not in {f"V{k}" for k in range(1, 7)}:
        raise ValueError(f"synthetic icu_cohort: v_lead must be one of V1..V6, got {v_lead!r}")
    rates = art.ArtefactRates() if artefacts is None else artefacts
    fx = IcuEffects.from_mapping(effects)
    leads = ("II", "V") + (dipole.LEADS_12 if twelve_lead else ())
    leads = tuple(dict.fromkeys(leads))
    subjects = _subjects(n_subjects, seed, fx)
    plans = {}
    for i, s in subjects.iterrows():
        p = _plan(s, int(i), seed, duration_s, block_s, alarms_per_hour, rates, leads, v_lead, fx)
        plans[p.record_id] = p
    subj_ptt = {p.subject_id: p.blocks["ptt_ms"].mean() for p in plans.values()}
    subjects["ptt_ms"] = subjects["subject_id"].map(subj_ptt).round(1)
    subjects["sbp"] = sbp_from_ptt(subjects["ptt_ms"]).round(1)
    subjects["hypertensive"] = (subjects["sbp"] >= 140).astype(int)
    for p in plans.values():
        row = subjects.loc[subjects["subject_id"] == p.subject_id].iloc[0]
        p.attrs.update(
            ptt_ms=float(row["ptt_ms"]), sbp=float(row["sbp"]), hypertensive=int(row["hypertensive"])
        )
    records = pd.DataFrame(
        [{"record_id": p.record_id, **p.attrs, "duration_s": duration_s} for p in plans.values()]
    )
    labels, events = plan_tables(plans, "blocks")
    channels = ["II", "V", *[x for x in leads if x not in ("II", "V")], "PPG"]
    info = {
        "channels": channels,
        "fs": {c: (PPG_FS if c == "PPG" else ECG_FS) for c in channels},
        "v_lead": v_lead,
        "block_s": block_s,
        "ptt_threshold_ms": PTT_THRESHOLD_MS,
        "activities": ACTIVITIES,
        "effects": fx.as_dict(),
        "structure": {
            "redundant": ["heart_rate", "af"],
            "ecg_unique": ["conduction", "st_change"],
            "v_lead_unique": ["v_rprime"],
            "ppg_unique": ["stiff", "stiffness"],
            "synergistic": ["hypertensive", "sbp", "dbp", "ptt_ms"],
            "mixed": ["sex", "age", "activity", "alarm"],
        },
    }
    info["tasks"] = TASKS
    rs = RecordingSet(SOURCE, records, LazyLoader(plans, render), {"fs": info["fs"], "tasks": TASKS})
    return Cohort(SOURCE, rs, subjects, labels, events, info)
