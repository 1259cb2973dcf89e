"""NaN and unit safety on real records: SyneCo's and AnyPPG's preprocessing run over the MIMIC-III stand-in
of the assembled data root (a103l, v102s with isolated invalid samples, the multi-rate FLAC record with a
4-s ECG gap and a 3.6-s held PPG value), read through ``physiofm.datasets.load`` as a paper run reads it.

What reaches a store holds no NaN and is z-scored per segment (ECG read in mV, PPG in the loader's unit);
every window the records imply is either kept or counted in the funnel with the reason the raw samples
give, recomputed here independently of :mod:`physiofm.segments`; a 12-lead record in uV gives the same mV
segment, and one whose unit is not a voltage is counted (``ecg_unit``), not passed on or crashed on.

SyneCo's 10-min minimum is lowered to 60 s: every real ICU sample is shorter than 10 min."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from physiofm import datasets
from physiofm.preprocess import (
    AnyPPGPreprocess,
    SyneCoPreprocess,
    anyppg_segments,
    hybrid_ecg_segments,
    syneco_segments,
)
from physiofm.signals import flatline_fraction
from realdata import expected_windows

pytestmark = pytest.mark.filterwarnings("ignore::physiofm.datasets.DatasetWarning")


@pytest.fixture(scope="module")
def syneco(real_data_root):
    recs = list(datasets.load("mimic3_wave", real_data_root.folder("mimic3_wave")))
    cfg = SyneCoPreprocess(min_duration_s=60.0)
    return recs, cfg, syneco_segments(recs, cfg)


@pytest.fixture(scope="module")
def anyppg(real_data_root):
    recs = list(datasets.load("mimic3_wave", real_data_root.folder("mimic3_wave"), require=["ecg_ii", "ppg"]))
    cfg = AnyPPGPreprocess()
    return recs, cfg, anyppg_segments(recs, cfg)


def _dropped(funnel) -> dict[str, int]:
    return {r: n for (stage, r), n in funnel.dropped.items() if stage == "after_qc"}


def test_syneco_store_input_is_finite_z_scored_and_at_the_model_rates(syneco):
    recs, _, segs = syneco
    assert len(segs) > 0 and segs.fs == {"ecg_ii": 500.0, "ecg_v": 500.0, "ppg": 125.0}
    for g, a in segs.arrays.items():
        assert a.dtype == np.float32 and a.shape == (len(segs), 1, 5000 if g != "ppg" else 1250)
        assert np.isfinite(a).all(), g
        np.testing.assert_allclose(a.mean(-1), 0, atol=1e-4)
        np.testing.assert_allclose(a.std(-1), 1, atol=1e-3)
    for r in recs:
        assert r.units["ecg_ii"] == r.units["ecg_v"] == "mV" and r.units["ppg"] == "NU"
    assert set(segs.index["record_id"]) == {r.record_id for r in recs}  # the multi-rate record included


def test_syneco_funnel_counts_every_window_the_records_imply_with_its_reason(syneco):
    recs, cfg, segs = syneco
    table = segs.funnel.table().set_index("stage")["count"]
    windows = {r.record_id: expected_windows(r, ["ecg_ii", "ecg_v", "ppg"], cfg.window_s, cfg.max_gap_s,
                                             cfg.flat_min_s, cfg.max_flatline, cfg.max_invalid) for r in recs}
    reasons = [why for w in windows.values() for _, why in w]
    assert table["records"] == len(recs) and table["windows"] == len(reasons)
    assert _dropped(segs.funnel) == {r: reasons.count(r) for r in set(reasons) - {"kept"}}
    assert table["after_caps"] == len(segs) == reasons.count("kept")
    assert reasons.count("invalid") > 0   # v102s: isolated invalid samples, SyneCo keeps none of them
    kept = {(r, round(t, 3)) for r, w in windows.items() for t, why in w if why == "kept"}
    assert kept == set(zip(segs.index["record_id"], segs.index["offset_s"].round(3)))


def test_quantised_ecg_is_not_a_flatline_but_a_held_value_is(syneco):
    """The multi-rate record's V lead (5-uV steps at 250 Hz) repeats ~25 % of its samples in runs of up
    to 60 ms: counting every repeat as flat dropped live ECG. Only values held >= 1 s count now: a 3-s
    hold planted in a103l's PPG drops exactly its window, counted as ``flatline``."""
    recs, cfg, segs = syneco
    rec = next(r for r in recs if r.record_id.endswith("mixedsignals"))
    rows = segs.index[segs.index["record_id"] == rec.record_id]
    fs, n = rec.fs["ecg_v"], int(round(cfg.window_s * rec.fs["ecg_v"]))
    old_rule = [flatline_fraction(rec.signals["ecg_v"][int(np.ceil(t * fs - 1e-6)):][:n])
                for t in rows["offset_s"]]
    assert max(old_rule) > cfg.max_flatline, "a kept window the every-repeat rule would have dropped"
    # its Pleth reads 0 for the first 3.6 s, while both ECG leads are invalid: outside every window
    assert (rec.signals["ppg"][:448] == 0).all() and np.isnan(rec.signals["ecg_ii"][:1024]).all()
    assert rows["offset_s"].min() >= 1024 / rec.fs["ecg_ii"]

    a103l = next(r for r in recs if r.record_id.endswith("a103l"))
    ppg = a103l.signals["ppg"].copy()
    ppg[50 * 250:53 * 250] = ppg[50 * 250]   # 3 s of window 5 (50-60 s): 30 % held
    planted = dataclasses.replace(a103l, signals={**a103l.signals, "ppg": ppg})
    before, after = syneco_segments([a103l], cfg), syneco_segments([planted], cfg)
    assert set(before.index["offset_s"]) - set(after.index["offset_s"]) == {50.0}
    assert _dropped(after.funnel).get("flatline", 0) == _dropped(before.funnel).get("flatline", 0) + 1


def test_anyppg_store_input_is_finite_and_every_drop_has_its_reason(anyppg):
    recs, cfg, segs = anyppg
    assert segs.fs == {"ppg": 125.0, "ecg": 125.0}
    for g, a in segs.arrays.items():
        assert a.dtype == np.float32 and a.shape == (len(segs), 1, 1250) and np.isfinite(a).all(), g
        np.testing.assert_allclose(a.std(-1), 1, atol=1e-3)
    assert not set(segs.index["ecg_sqi"]) & set(cfg.sqi_reject)
    windows = [why for r in recs for _, why in expected_windows(
        r, ["ecg_ii", "ppg"], cfg.window_s, cfg.max_gap_s, cfg.flat_min_s, cfg.max_flatline, cfg.max_invalid)]
    table = segs.funnel.table().set_index("stage")["count"]
    dropped = _dropped(segs.funnel)
    assert table["records"] == len(recs) and table["windows"] == len(windows)
    assert {r: n for r, n in dropped.items() if r != "ecg_sqi"} == {
        r: windows.count(r) for r in set(windows) - {"kept"}}
    assert windows.count("kept") == len(segs) + dropped.get("ecg_sqi", 0) == table["after_qc"] + dropped.get(
        "ecg_sqi", 0)


def test_twelve_lead_segments_are_millivolts_whatever_the_declared_unit(real_samples):
    twelve_lead = datasets.load("georgia", real_samples / "cinc2021")  # all 50: Georgia, PTB-XL, Ningbo
    recs = [twelve_lead[i] for i in (0, 20, 30)]  # E07500, HR06000 (unit written 'mv'), JS20000
    assert [r.record_id for r in recs] == ["E07500", "HR06000", "JS20000"]
    segs = hybrid_ecg_segments(recs)
    assert segs.arrays["ecg"].shape == (3, 12, 2500) and np.isfinite(segs.arrays["ecg"]).all()
    microvolts = [dataclasses.replace(r, signals={k: v * 1000 for k, v in r.signals.items()},
                                      units=dict.fromkeys(r.signals, "uV")) for r in recs]
    np.testing.assert_allclose(hybrid_ecg_segments(microvolts).arrays["ecg"], segs.arrays["ecg"], rtol=1e-6)
    uncalibrated = dataclasses.replace(recs[1], units=dict.fromkeys(recs[1].signals, "NU"))
    out = hybrid_ecg_segments([recs[0], uncalibrated])
    assert len(out) == 1 and out.index["record_id"].tolist() == ["E07500"]
    assert out.funnel.dropped[("valid_spans", "ecg_unit")] == 1
