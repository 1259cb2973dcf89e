"""Difficulty knobs of the built-in cohorts (physiofm.synthetic.effects): the defaults are the original
cohort, 0 removes a label's effect from the signals while the label is still drawn, params validate them."""

from __future__ import annotations

import numpy as np
import pytest

from physiofm.sections import CohortSection, Ecg12CohortSection, PsgCohortSection
from physiofm.synthetic import ecg12_cohort, icu_cohort, psg_cohort
from physiofm.synthetic.ecg12 import Ecg12Effects
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
    assert Ecg12CohortSection(n_subjects=2, seed=0, effects={"mi": 0.5}).effects == {"mi": 0.5}
    with pytest.raises(ValueError, match=r"Ecg12Effects: unknown effect knob\(s\) \['MI'\]"):
        Ecg12CohortSection(n_subjects=2, seed=0, effects={"MI": 0.5})


def test_ecg12_default_knobs_are_the_original_cohort() -> None:
    plain = ecg12_cohort(12, 5)
    ones = ecg12_cohort(12, 5, effects=dict.fromkeys(Ecg12Effects.names(), 1.0))
    assert plain.labels.drop(columns=["scp_codes"]).equals(ones.labels.drop(columns=["scp_codes"]))
    for i in range(len(plain.recordings)):
        for ch, x in _arrays(plain, i).items():
            np.testing.assert_array_equal(x, _arrays(ones, i)[ch])


def test_ecg12_knob_at_zero_removes_the_superclass_from_the_waveform_only() -> None:
    """The labels are those of the original cohort at every knob; on the records with a statement of the
    superclass, each morphology field at 0.5 lies between its value at 0 and at 1, and the added waves at 0
    are no stronger than at 1."""
    full = ecg12_cohort(150, 2)
    has = full.labels.set_index("record_id")
    for knob, sup in (("mi", "MI"), ("sttc", "STTC"), ("cd", "CD"), ("hyp", "HYP")):
        zero = ecg12_cohort(150, 2, effects={knob: 0.0})
        assert zero.labels[sup].equals(full.labels[sup]) and zero.labels[sup].sum() >= 5
        half = ecg12_cohort(150, 2, effects={knob: 0.5})
        zp, hp, fp = (c.recordings._load_fn.plans for c in (zero, half, full))
        changed = 0
        for rid, p in fp.items():
            z, h = zp[rid].morph, hp[rid].morph
            if not has.loc[rid, sup]:
                continue
            if knob == "cd":
                assert z.qrs_ms <= p.morph.qrs_ms + 1e-9
            for f in ("qrs_ms", "pr_s", "r_mv", "st_mv", "v_rprime_mv", "lbbb", "p_sigma_s"):
                a, b, c = getattr(z, f), getattr(h, f), getattr(p.morph, f)
                if knob in ("mi", "sttc", "cd") and f == "r_mv":
                    continue  # the low-voltage scaling and LVH (hyp) act here
                if b != c:
                    changed += 1
                    assert min(a, c) - 1e-9 <= b <= max(a, c) + 1e-9, (knob, rid, f)
            for (_, _, vz), (_, _, vf) in zip(z.extra, p.morph.extra, strict=True):
                assert np.linalg.norm(vz) <= np.linalg.norm(vf) + 1e-12
        assert changed > 0 or knob == "mi"
    z = ecg12_cohort(150, 2, effects={"mi": 0.0, "hyp": 0.0})
    for p in z.recordings._load_fn.plans.values():
        mi = any(c in p.labels["scp_codes"] for c in ("IMI", "AMI", "LMI"))
        if mi:  # the infarct's waves are still listed, with zero force
            assert any(np.allclose(v, 0) for _, _, v in p.morph.extra)
