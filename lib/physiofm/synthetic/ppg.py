"""Photoplethysmogram: one pulse a pulse-transit time after each R peak.

A pulse is three Gaussians (the usual decomposition of the finger pulse, e.g. Rubins 2008): the
systolic wave, the reflected wave returning from the lower body, and the diastolic wave behind the
dicrotic notch. Arterial stiffness brings the reflected wave earlier and makes it larger (the
augmentation that hides the notch); age slows the systolic upstroke and damps the diastolic wave.

The pulse *foot* — where the tangent at the steepest upstroke meets the level before the pulse —
sits exactly ``ptt`` after the R peak: the systolic Gaussian is centred two widths after the foot,
and the tangent at its inflection point (one width before the centre) crosses zero one more width
earlier.
"""

from __future__ import annotations

import numpy as np

from physiofm.synthetic.ecg import Wave, render


def pulse_waves(
    foot: np.ndarray, amp: np.ndarray, rr: np.ndarray, stiffness: float, age_norm: float
) -> list[Wave]:
    """Waves of K pulses with feet at ``foot`` (s) and heights ``amp`` (NU).

    Args:
        foot: (K,) pulse-foot times (s) = R peak + pulse-transit time.
        amp: (K,) pulse amplitudes in normalised units.
        rr: (K,) cardiac cycle length of each pulse (s); the diastolic wave scales with it.
        stiffness: 0 (compliant) .. 1 (stiff).
        age_norm: 0 (20 years) .. 1 (90 years).
    """
    ones = np.ones_like(foot)
    rr_c = np.clip(rr, 0.3, 2.0)
    s_sys = (0.040 + 0.016 * age_norm) * ones
    c_sys = foot + 2 * s_sys
    c_ref = c_sys + (0.24 - 0.13 * stiffness) * np.sqrt(rr_c / 0.8)
    c_dia = c_sys + 0.33 * np.sqrt(rr_c / 0.8)
    a_ref = 0.30 + 0.45 * stiffness
    a_dia = 0.32 * (1 - 0.6 * stiffness) * (1 - 0.4 * age_norm)
    col = amp[:, None]
    return [
        Wave(c_sys, s_sys, col),
        Wave(c_ref, 0.055 * ones, a_ref * col),
        Wave(c_dia, 0.07 * ones * np.sqrt(rr_c / 0.8), a_dia * col),
    ]


def render_ppg(waves: list[Wave], n: int, fs: float) -> np.ndarray:
    """(n,) PPG at ``fs`` Hz from :func:`pulse_waves`."""
    return render(waves, n, fs)[0]


def pulse_amplitudes(rr: np.ndarray, base: float, rng: np.random.Generator) -> np.ndarray:
    """Beat amplitudes: a short preceding cycle fills the ventricle less (Frank-Starling), so in AF
    the pulse height follows the irregular RR; a 3 % beat-to-beat scatter is always present."""
    fill = np.clip(rr / np.median(rr), 0.4, 1.6) ** 0.8
    return base * fill * (1 + 0.03 * rng.standard_normal(rr.size))
