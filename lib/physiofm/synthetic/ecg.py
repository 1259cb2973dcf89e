"""Beat-by-beat ECG: R-peak times from a heart-rate course, P-QRS-T waves as dipole Gaussians.

Each wave of each beat is a Gaussian in time carrying a 3-D dipole vector (the ECGSYN-3D idea of
Sameni et al. 2007, without the ODE): the VCG is their sum and :mod:`.dipole` projects it onto leads.
All beats of a record are rendered at once with ``np.bincount`` — no per-sample Python loop.

R-peak times come from an integral pulse-frequency model: the cumulative beat phase
``phi(t) = integral of HR(t)/60`` is inverted at phase targets ``Phi_k``. In sinus rhythm the targets
advance by ~1 per beat (heart-rate variability enters through ``HR(t)``: respiratory sinus
arrhythmia plus slow fluctuations); in atrial fibrillation they advance by independent gamma draws,
which gives the irregularly irregular RR series of AF while keeping the mean rate ``HR(t)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import signal

from physiofm.synthetic import dipole

GRID_HZ = 20.0  # heart-rate course resolution; ample for RR structure, cheap to integrate


@dataclass
class Wave:
    """One wave of K beats: Gaussian centres (s, absolute), widths (s) and dipole vectors (mV)."""

    centre: np.ndarray  # (K,)
    sigma: np.ndarray  # (K,)
    vector: np.ndarray  # (K, 3)


@dataclass
class Morphology:
    """Per-subject P-QRS-T attributes (defaults: a normal adult heart).

    Attributes:
        r_mv: R-wave dipole amplitude (mV); sex and hypertrophy act here.
        qrs_ms: QRS duration (ms); > 120 ms is a conduction disturbance.
        pr_s: PR interval (s); > 0.2 s is first-degree AV block.
        qtc_s: Bazett-corrected QT (s).
        p_mv, t_mv: P and T dipole amplitudes (mV); negative ``t_mv`` inverts the T wave.
        st_mv: ST depression along the normal ST direction (mV, > 0 depresses II and V5-V6).
        v_rprime_mv: terminal anterior force orthogonal to lead II (mV): an R' seen only in the V leads.
        lbbb: slurred leftward-posterior terminal QRS force (left-bundle-branch-block-like).
        septal_q: amplitude factor of the septal Q wave; None: 1 without ``lbbb``, 0 with it (a bundle-branch
            block removes it); a cohort's conduction knob sets it in between.
        extra: additional per-subject waves as (offset s, sigma s, vector mV (3,)), e.g. infarct Q waves.
        rotation: (3, 3) rotation applied to every direction (the subject's electrical axis).
    """

    r_mv: float = 1.3
    qrs_ms: float = 90.0
    pr_s: float = 0.16
    qtc_s: float = 0.41
    p_mv: float = 0.16
    t_mv: float = 0.38
    st_mv: float = 0.0
    v_rprime_mv: float = 0.0
    lbbb: float = 0.0
    septal_q: float | None = None
    p_sigma_s: float = 0.022
    extra: list[tuple[float, float, np.ndarray]] = field(default_factory=list)
    rotation: np.ndarray = field(default_factory=lambda: np.eye(3))


def hr_course(
    t: np.ndarray,
    hr_bpm: np.ndarray,
    rng: np.random.Generator,
    rsa: float = 0.04,
    lf: float = 0.02,
    resp_hz: float = 0.25,
    smooth_s: float = 3.0,
) -> np.ndarray:
    """Instantaneous heart rate (bpm) on grid ``t`` (s, at :data:`GRID_HZ`) from a target course.

    ``rsa`` is the relative respiratory-sinus-arrhythmia amplitude, ``lf`` the relative SD of a slow
    (~0.1 Hz, Mayer-wave band) fluctuation; both shrink with age in the cohorts.
    """
    dt = t[1] - t[0]
    k = max(1, int(round(smooth_s / dt)))
    base = np.convolve(np.pad(hr_bpm, (k // 2, k - 1 - k // 2), mode="edge"), np.ones(k) / k, mode="valid")
    resp = np.sin(2 * np.pi * resp_hz * t + rng.uniform(0, 2 * np.pi))
    sos = signal.butter(2, [0.04, 0.15], btype="band", fs=1 / dt, output="sos")
    slow = signal.sosfilt(sos, rng.standard_normal(t.size + 400))[400:]
    slow *= lf / max(slow.std(), 1e-12)
    return base * (1 + rsa * resp + slow)


def beat_times(
    t: np.ndarray,
    hr_bpm: np.ndarray,
    rng: np.random.Generator,
    irregularity: float = 0.0,
    jitter: float = 0.004,
) -> np.ndarray:
    """R-peak times (s) from an instantaneous heart-rate course ``hr_bpm`` on grid ``t``.

    ``irregularity`` is the coefficient of variation of the beat-to-beat phase steps (0 for sinus,
    ~0.2 for AF). The first beat falls at a uniform random phase, so no channel is time-locked to
    the record start.
    """
    phase = np.concatenate([[0.0], np.cumsum(hr_bpm[:-1] / 60.0 * np.diff(t))])
    n = int(phase[-1] * 1.5) + 8
    if irregularity > 0:
        shape = 1.0 / irregularity**2
        # The AV node's refractory period forbids very short cycles: steps below 0.65 are redrawn.
        steps = rng.gamma(shape, 1.0 / shape, 2 * n)
        steps = steps[steps >= 0.65][:n]
    else:
        steps = 1.0 + jitter * rng.standard_normal(n)
    targets = rng.uniform(0, 1) + np.concatenate([[0.0], np.cumsum(steps[:-1])])
    targets = targets[targets < phase[-1]]
    return np.interp(targets, phase, t)


def _rotate(m: Morphology, direction: np.ndarray) -> np.ndarray:
    return m.rotation @ direction


def beat_waves(
    r: np.ndarray,
    rr: np.ndarray,
    m: Morphology,
    rng: np.random.Generator,
    p_wave: np.ndarray | None = None,
    gain: np.ndarray | None = None,
) -> list[Wave]:
    """Waves of K supraventricular beats with R peaks at ``r`` (s) and preceding intervals ``rr`` (s).

    ``p_wave`` (K,) bool switches the P wave per beat (False in AF); ``gain`` (K,) scales each beat
    (respiratory modulation of the electrical axis length).
    """
    k = r.size
    ones = np.ones(k)
    gain = ones if gain is None else gain
    g = gain * (1 + 0.02 * rng.standard_normal(k))
    w = m.qrs_ms / 90.0
    rr_c = np.clip(rr, 0.3, 2.0)
    qt = m.qtc_s * np.sqrt(rr_c)

    def wave(offset, sigma, amp, direction) -> Wave:
        vec = (g * amp)[:, None] * _rotate(m, direction)[None, :]
        return Wave(r + offset, sigma * ones if np.ndim(sigma) == 0 else sigma, vec)

    septal = (m.lbbb == 0) if m.septal_q is None else m.septal_q
    waves = [
        wave(-0.022 * w, 0.007 * w, 0.25 * m.r_mv / 1.3 * septal, dipole.SEPTAL_Q_DIRECTION),
        wave(0.0, 0.011 * w, m.r_mv, dipole.R_DIRECTION),
        wave(0.024 * w, 0.009 * w, 0.35 * m.r_mv / 1.3, dipole.S_DIRECTION),
        wave(qt - 0.10, 0.058 * np.sqrt(rr_c), m.t_mv, dipole.T_DIRECTION),
    ]
    if p_wave is None or p_wave.any():
        on = ones if p_wave is None else p_wave.astype(float)
        waves.append(wave(-m.pr_s, m.p_sigma_s, m.p_mv * on, dipole.P_DIRECTION))
    if m.st_mv:
        waves.append(wave(0.11 * np.sqrt(rr_c), 0.05 * ones, -m.st_mv * ones, dipole.ST_DIRECTION))
    if m.v_rprime_mv:
        # Unrotated on purpose: the direction is built to be orthogonal to lead II.
        vec = (g * m.v_rprime_mv)[:, None] * dipole.V_ONLY_DIRECTION[None, :]
        waves.append(Wave(r + 0.042 * w, 0.011 * ones, vec))
    if m.lbbb:
        waves.append(wave(0.035 * w, 0.02 * w, m.lbbb, dipole.LBBB_TERMINAL_DIRECTION))
    for offset, sigma, vector in m.extra:
        waves.append(Wave(r + offset, sigma * ones, g[:, None] * (m.rotation @ vector)[None, :]))
    return waves


def ectopic_waves(
    r: np.ndarray,
    rr: np.ndarray,
    direction: np.ndarray,
    amp_mv: float,
    rng: np.random.Generator,
    qrs_sigma_s: float = 0.032,
) -> list[Wave]:
    """Wide ventricular beats (PVCs, ventricular tachycardia): no P wave, broad QRS, discordant T."""
    k = r.size
    ones = np.ones(k)
    g = amp_mv * (1 + 0.05 * rng.standard_normal(k))
    t_off = np.clip(0.30 * np.sqrt(np.clip(rr, 0.25, 2.0)), 0.16, 0.4)
    return [
        Wave(r, qrs_sigma_s * ones, g[:, None] * direction[None, :]),
        Wave(r + t_off, 0.06 * ones, -0.35 * g[:, None] * direction[None, :]),
    ]


def render(waves: list[Wave], n: int, fs: float, support: float = 4.0) -> np.ndarray:
    """Sum of Gaussian waves as a (D, n) array at ``fs`` Hz (D = vector size, 3 for a VCG)."""
    dim = waves[0].vector.shape[1] if waves else 3
    out = np.zeros((dim, n))
    for wv in waves:
        if wv.centre.size == 0:
            continue
        half = int(np.ceil(support * wv.sigma.max() * fs))
        idx = np.round(wv.centre * fs).astype(np.int64)[:, None] + np.arange(-half, half + 1)[None, :]
        g = np.exp(-0.5 * ((idx / fs - wv.centre[:, None]) / wv.sigma[:, None]) ** 2)
        ok = (idx >= 0) & (idx < n)
        if not ok.any():
            continue
        flat_idx = idx[ok]
        for d in range(dim):
            out[d] += np.bincount(flat_idx, weights=(g * wv.vector[:, d : d + 1])[ok], minlength=n)
    return out


def fibrillatory_waves(
    n: int, fs: float, rng: np.random.Generator, amp_mv: float = 0.06, f_hz: float = 6.0
) -> np.ndarray:
    """Atrial f-waves (n,) in mV: a 4-9 Hz oscillation whose rate and amplitude wander."""
    grid = np.arange(n) / fs
    sos = signal.butter(1, 0.5, fs=fs, output="sos")
    drift = signal.sosfilt(sos, rng.standard_normal(n)) * np.sqrt(fs)  # slow random walk of the rate
    inst = np.clip(f_hz + 0.6 * drift / max(drift.std(), 1e-12), 4.0, 9.0)
    phase = 2 * np.pi * np.cumsum(inst) / fs
    env = 1 + 0.3 * np.sin(2 * np.pi * 0.3 * grid + rng.uniform(0, 6.3))
    return amp_mv * env * (np.sin(phase) + 0.3 * np.sin(2 * phase + 1.0))


def flutter_waves(
    n: int, fs: float, f_hz: float, rng: np.random.Generator, amp_mv: float = 0.15
) -> np.ndarray:
    """Atrial-flutter sawtooth (n,) in mV at ``f_hz`` (~5 Hz, 300/min)."""
    ph = (np.arange(n) / fs * f_hz + rng.uniform(0, 1)) % 1.0
    return amp_mv * (0.5 - ph)


def vcg_to_leads(vcg: np.ndarray, leads) -> dict[str, np.ndarray]:
    """Dict lead name -> (T,) float32 voltage (mV)."""
    volts = dipole.project(vcg, leads)
    return {name: volts[i].astype(np.float32) for i, name in enumerate(leads)}


def random_rotation(rng: np.random.Generator, max_deg: float) -> np.ndarray:
    """Small random rotation (3, 3): individual electrical-axis and heart-position differences."""
    ax = rng.standard_normal(3)
    ax /= np.linalg.norm(ax)
    ang = np.deg2rad(rng.uniform(-max_deg, max_deg))
    kx = np.array([[0, -ax[2], ax[1]], [ax[2], 0, -ax[0]], [-ax[1], ax[0], 0]])
    return np.eye(3) + np.sin(ang) * kx + (1 - np.cos(ang)) * kx @ kx
