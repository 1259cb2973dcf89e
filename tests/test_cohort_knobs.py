"""Difficulty knobs of the built-in cohorts (physiofm.synthetic.effects): the defaults are the original
cohort, 0 removes a label's effect from the signals while the label is still drawn, params validate them."""

from __future__ import annotations

import numpy as np
import pytest

from physiofm.sections import CohortSection, Ecg12CohortSection, PsgCohortSection
from physiofm.synthetic import icu_cohort, psg_cohort
from physiofm.synthetic.effects import lerp
from physiofm.synthetic.icu import IcuEffects
from physiofm.synthetic.psg import PsgEffects, _stage_tables


def _arrays(cohort, i: int = 0) -> dict[str, np.ndarray]:
    return cohort.recordings[i].signals


def test_default_knobs_are_the_original_cohort() -> None:
    plain, ones = icu_cohort(4, 3, duration_s=20), icu_cohort(4, 3, duration_s=20, effects=IcuEffects())
    explicit = icu_cohort(4, 3, duration_s=20, effects=dict.fromkeys(IcuEffects.names(), 1.0))
    for c in (ones, explicit):
        assert plain.subjects.equals(c.subjects) and plain.labels.equals(c.labels)
        for ch, x in _arrays(plain).items():
            np.testing.assert_array_equal(x, _arrays(c)[ch])
    p, q = psg_cohort(1, 2, hours=0.05), psg_cohort(1, 2, hours=0.05, effects={"stage": 1.0})
    for ch, x in _arrays(p).items():
        np.testing.assert_array_equal(x, _arrays(q)[ch])


def test_a_knob_at_zero_removes_the_labels_effect_but_keeps_the_label() -> None:
    fx = {"conduction": 0.0, "st_change": 0.0, "v_rprime": 0.0, "hypertensive": 0.0, "af": 0.0}
    c = icu_cohort(40, 1, duration_s=20, effects=fx)
    plans = c.recordings._load_fn.plans.values()
    assert c.subjects["conduction"].any() and c.subjects["v_rprime"].any() and c.subjects["af"].any()
    for p in plans:
        m = p.morph
        assert m.lbbb == 0 and m.st_mv == 0 and m.v_rprime_mv == 0
        assert m.septal_q in (None, 1.0)
        assert m.t_mv > 0  # no T inversion
        assert 80 <= m.qrs_ms <= 100  # the normal QRS range
    assert np.allclose(c.labels["ptt_ms"], 250.0)  # every delay at the threshold
    assert c.info["effects"]["conduction"] == 0.0


def test_intermediate_knobs_scale_the_difference() -> None:
    assert lerp(90.0, 150.0, 0.5) == 120.0 and lerp(90.0, 150.0, 1) == 150.0
    half = icu_cohort(40, 1, duration_s=10, effects={"v_rprime": 0.5})
    full = icu_cohort(40, 1, duration_s=10)
    plans = zip(half.recordings._load_fn.plans.values(), full.recordings._load_fn.plans.values(), strict=True)
    for p, q in plans:
        assert p.morph.v_rprime_mv == pytest.approx(0.5 * q.morph.v_rprime_mv)
    tables = _stage_tables(0.0)
    assert all(np.allclose(v, v.mean()) for v in tables.values())


def test_unknown_or_negative_knobs_are_errors_naming_them() -> None:
    with pytest.raises(ValueError, match=r"unknown effect knob\(s\) \['conductoin'\]"):
        icu_cohort(2, 0, duration_s=10, effects={"conductoin": 0.5})
    with pytest.raises(ValueError, match="must be a finite number >= 0"):
        PsgEffects(stage=-1.0)
    base = {"n_subjects": 2, "seed": 0, "duration_s": 10, "alarms_per_hour": 0, "artefact_scale": 1}
    assert CohortSection(**base, effects={"stiff": 0.1}).effects == {"stiff": 0.1}
    with pytest.raises(ValueError, match="unknown effect knob"):
        CohortSection(**base, effects={"stiffness": 0.1})
    with pytest.raises(ValueError, match="unknown effect knob"):
        PsgCohortSection(n_subjects=2, seed=0, hours=0.1, effects={"conduction": 0.1})
    with pytest.raises(ValueError, match="no difficulty knobs yet"):
        Ecg12CohortSection(n_subjects=2, seed=0, effects={"mi": 0.5})
