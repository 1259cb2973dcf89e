"""The heart as one rotating dipole: a vectorcardiogram (VCG) projected onto the body-surface leads.

Coordinates are Frank's: x to the subject's left, y to the feet, z to the back. The projection uses
Dower's transform (Dower, Machado & Osborne 1980), the standard linear map from the Frank XYZ leads to
the 12-lead ECG; the limb leads III, aVR, aVL and aVF follow from I and II by Einthoven and Goldberger.

Because the map is linear, a dipole component orthogonal to lead II's row leaves lead II untouched
while still reaching the chest leads — that is how the ICU cohort hides a feature from lead II and
shows it only in the V lead (see :data:`V_ONLY_DIRECTION`).
"""

from __future__ import annotations

import numpy as np

LEADS_12 = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")

# Dower coefficients: rows I, II, V1..V6; columns X, Y, Z.
_DOWER = np.array(
    [
        [0.632, -0.235, 0.059],
        [0.235, 1.066, -0.132],
        [-0.515, 0.157, -0.917],
        [0.044, 0.164, -1.387],
        [0.882, 0.098, -1.277],
        [1.213, 0.127, -0.601],
        [1.125, 0.127, -0.086],
        [0.831, 0.076, 0.230],
    ]
)


def lead_matrix(leads: tuple[str, ...] | list[str] = LEADS_12) -> np.ndarray:
    """(L, 3) matrix mapping a VCG (3, T) to the named leads (L, T)."""
    i, ii = _DOWER[0], _DOWER[1]
    rows = {"I": i, "II": ii, "III": ii - i, "aVR": -(i + ii) / 2, "aVL": i - ii / 2, "aVF": ii - i / 2}
    rows.update({f"V{k}": _DOWER[1 + k] for k in range(1, 7)})
    unknown = [name for name in leads if name not in rows]
    if unknown:
        raise ValueError(f"unknown ECG lead(s) {unknown}; known: {list(rows)}")
    return np.stack([rows[name] for name in leads])


def project(vcg: np.ndarray, leads: tuple[str, ...] | list[str] = LEADS_12) -> np.ndarray:
    """Lead voltages (L, T) in mV from a VCG (3, T) in mV."""
    if vcg.ndim != 2 or vcg.shape[0] != 3:
        raise ValueError(f"VCG must have shape (3, T), got {vcg.shape}")
    return lead_matrix(leads) @ vcg


def unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def _orthogonal_to(row: np.ndarray, towards: np.ndarray) -> np.ndarray:
    """Component of ``towards`` orthogonal to ``row``, normalised (Gram-Schmidt)."""
    row = unit(row)
    return unit(towards - (towards @ row) * row)


# Anterior terminal force orthogonal to lead II: it shows as an R' in V1 (about 0.9 of its amplitude)
# and is exactly zero in lead II.
V_ONLY_DIRECTION = _orthogonal_to(_DOWER[1], np.array([0.0, 0.0, -1.0]))

# Typical wave directions (unit vectors) of a normal adult heart.
P_DIRECTION = unit([0.45, 0.85, 0.1])
SEPTAL_Q_DIRECTION = unit([-0.6, 0.2, -0.6])
R_DIRECTION = unit([0.55, 0.7, 0.35])
S_DIRECTION = unit([-0.3, -0.5, 0.6])
T_DIRECTION = unit([0.5, 0.65, -0.45])
ST_DIRECTION = unit([0.45, 0.7, -0.3])  # ST depression is the negative of this
ATRIAL_F_DIRECTION = unit([0.3, 0.35, -0.9])  # f-waves are largest in V1, as in real AF
LBBB_TERMINAL_DIRECTION = unit([0.7, 0.05, 0.7])
VT_DIRECTIONS = np.array([unit([-0.4, -0.7, 0.6]), unit([0.8, -0.5, -0.3]), unit([-0.6, 0.7, -0.4])])
