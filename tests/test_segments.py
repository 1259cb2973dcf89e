"""physiofm.segments: spans, windows, QC that rejects exactly what was planted, caps, labels, funnel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from physiofm.preprocess import AnyPPGPreprocess, SyneCoPreprocess, anyppg_segments, syneco_segments
from physiofm.recording import Recording
from physiofm.segments import (
    Funnel,
    Segments,
    annotation_at,
    cap_per_subject,
    segment_record,
    segment_recordings,
)

CHANNELS = {"ecg_ii": ("II",), "ecg_v": ("V",), "ppg": ("PLETH",)}


def icu_record(record_id="r1", subject_id="s1", duration_s=300.0, source="mimic3_wave", seed=0,
               **labels) -> Recording:
    """Noise-like ECG II/V at 250 Hz and PPG at 125 Hz: no sample repeats its predecessor by chance."""
    rng = np.random.default_rng(seed)
    sig = {"II": rng.standard_normal(int(duration_s * 250)), "V": rng.standard_normal(int(duration_s * 250)),
           "PLETH": rng.standard_normal(int(duration_s * 125))}
    return Recording(record_id, subject_id, source, sig, {"II": 250.0, "V": 250.0, "PLETH": 125.0},
                     {"II": "mV", "V": "mV", "PLETH": "NU"}, labels=labels)


@pytest.fixture
def planted():
    rec = icu_record(age=63, sex="F")
    s = rec.signals
    s["V"][30 * 250:33 * 250] = 0.7          # window 3: 30 % flat in V -> flatline
    s["PLETH"][50 * 125:52 * 125] = 0.1      # window 5: 20 % flat in PPG -> kept
    s["II"][100 * 250:110 * 250] = np.nan    # window 10: long gap -> splits the record into two spans
    s["PLETH"][int(150.2 * 125):int(150.2 * 125) + 3] = np.nan   # window 15: 24-ms gap, interpolated
    s["II"][int(271 * 250):int(271 * 250) + 1] = np.nan          # window 27: one NaN sample
    return rec


def test_qc_rejects_exactly_the_planted_flatlines_and_nan_spans(planted):
    segs = segment_record(planted, CHANNELS, 10.0, max_gap_s=0.1, max_flatline=0.25, max_invalid=0.0)
    expected = [k * 10.0 for k in range(30) if k not in (3, 10, 15, 27)]
    np.testing.assert_allclose(segs.index["offset_s"], expected)
    t = segs.funnel.table().set_index("stage")
    assert t.loc["valid_spans", "count"] == 2
    assert t.loc["windows", "count"] == 29
    assert t.loc["after_qc", "count"] == 26
    assert segs.funnel.dropped[("after_qc", "flatline")] == 1
    assert segs.funnel.dropped[("after_qc", "invalid")] == 2
    assert segs.funnel.span_seconds == pytest.approx(290.0)
    assert {k: a.shape for k, a in segs.arrays.items()} == {"ecg_ii": (26, 1, 2500), "ecg_v": (26, 1, 2500),
                                                            "ppg": (26, 1, 1250)}
    assert np.isfinite(segs.arrays["ppg"]).all()
    # The raw samples are the record's: window at 40 s of ECG II.
    row = int(np.flatnonzero(segs.index["offset_s"] == 40.0)[0])
    raw = planted.signals["II"][10000:12500].astype(np.float32)
    np.testing.assert_allclose(segs.arrays["ecg_ii"][row, 0], raw)


def test_short_gaps_are_kept_when_invalid_fraction_allows(planted):
    segs = segment_record(planted, CHANNELS, 10.0, max_gap_s=0.1, max_invalid=0.25)
    assert 150.0 in set(segs.index["offset_s"]) and 270.0 in set(segs.index["offset_s"])
    assert 30.0 not in set(segs.index["offset_s"])


def test_min_duration_drops_short_spans(planted):
    segs = segment_record(planted, CHANNELS, 10.0, min_duration_s=120.0, max_gap_s=0.1, max_invalid=0.25)
    assert segs.index["offset_s"].min() == 110.0  # the 100-s span before the gap is too short
    assert segs.funnel.dropped[("valid_spans", "short_span")] == 1


def test_missing_channel_drops_record_with_reason():
    rec = icu_record()
    del rec.signals["PLETH"]
    segs = segment_record(rec, CHANNELS, 10.0)
    assert len(segs) == 0 and segs.funnel.dropped[("valid_spans", "missing_channel")] == 1


def test_multirate_windows_and_aliases():
    rec = icu_record()
    rec.signals["ECG_V5"] = rec.signals.pop("V")
    rec.fs["ECG_V5"] = rec.fs.pop("V")
    segs = segment_record(rec, {"ecg_ii": ("II",), "ecg_v": ("V", "ECG_V5"), "ppg": ("PLETH",)}, 10.0)
    assert segs.fs == {"ecg_ii": 250.0, "ecg_v": 250.0, "ppg": 125.0} and len(segs) == 30


def test_record_and_subject_caps_are_seeded_subsets():
    recs = [icu_record("a", "s1", seed=1), icu_record("b", "s1", seed=2), icu_record("c", "s2", seed=3)]
    one = segment_record(recs[0], CHANNELS, 10.0, record_cap={"mimic3_wave": 5}, seed=7)
    again = segment_record(recs[0], CHANNELS, 10.0, record_cap={"mimic3_wave": 5}, seed=7)
    other = segment_record(recs[0], CHANNELS, 10.0, record_cap={"mimic3_wave": 5}, seed=8)
    assert len(one) == 5 and one.funnel.dropped[("after_caps", "record_cap")] == 25
    assert list(one.index["offset_s"]) == list(again.index["offset_s"])
    assert list(one.index["offset_s"]) != list(other.index["offset_s"])
    assert one.index["offset_s"].is_monotonic_increasing
    unaffected = segment_record(recs[0], CHANNELS, 10.0, record_cap={"vitaldb": 5})
    assert len(unaffected) == 30

    parts = segment_recordings(recs, CHANNELS, 10.0, subject_cap=12, seed=0)
    joined = Segments.concat(parts)
    assert joined.index.groupby("subject_id").size().to_dict() == {"s1": 12, "s2": 12}
    assert joined.funnel.dropped[("after_caps", "subject_cap")] == 48 + 18
    assert joined.funnel.counts["after_caps"] == 24
    capped = cap_per_subject(Segments.concat(segment_recordings(recs, CHANNELS, 10.0)), {"*": 10})
    assert capped.index.groupby("subject_id").size().to_dict() == {"s1": 10, "s2": 10}


def test_windows_carry_record_labels_and_covering_annotation():
    rec = icu_record(age=63, sex="F")
    rec.annotations = pd.DataFrame({"onset": [0.0, 95.0, 200.0], "duration": [95.0, 105.0, 50.0],
                                    "alarm": ["none", "VT", "none"]})
    segs = segment_record(rec, CHANNELS, 10.0)
    idx = segs.index.set_index("offset_s")
    assert (idx["age"] == 63).all() and (idx["sex"] == "F").all()
    assert idx.loc[80.0, "alarm"] == "none"        # centre 85 s
    assert idx.loc[90.0, "alarm"] == "VT"          # centre 95 s: the row starting at 95 covers it
    assert idx.loc[190.0, "alarm"] == "VT"         # centre 195 s
    assert np.isnan(idx.loc[250.0, "alarm"])        # centre 255 s: no row covers it -> NaN, not None
    assert (segs.index["start_time"] == segs.index["offset_s"]).all()


def test_funnel_table_and_sum():
    a, b = Funnel(), Funnel()
    a.add("records", 2)
    a.drop("after_qc", "flatline", 3)
    b.add("records")
    b.drop("after_qc", "flatline")
    b.drop("after_qc", "invalid", 2)
    t = (a + b).table().set_index("stage")
    assert list(t.index) == ["records", "valid_spans", "windows", "after_qc", "after_caps"]
    assert t.loc["records", "count"] == 3 and t.loc["after_qc", "dropped"] == 6
    assert t.loc["after_qc", "reasons"] == "flatline: 4, invalid: 2"
    assert Funnel.from_dict((a + b).to_dict()).table().equals(t.reset_index())


def test_syneco_composition_shapes_rates_and_normalisation():
    recs = [icu_record("a", "s1", duration_s=700, seed=1), icu_record("b", "s2", duration_s=400, seed=2)]
    segs = syneco_segments(recs, SyneCoPreprocess(record_cap={"mimic3_wave": 50}))
    assert set(segs.index["record_id"]) == {"a"}   # b is shorter than 10 minutes
    assert {k: a.shape for k, a in segs.arrays.items()} == {"ecg_ii": (50, 1, 5000), "ecg_v": (50, 1, 5000),
                                                            "ppg": (50, 1, 1250)}
    assert segs.fs == {"ecg_ii": 500.0, "ecg_v": 500.0, "ppg": 125.0}
    for a in segs.arrays.values():
        assert a.dtype == np.float32
        np.testing.assert_allclose(a.mean(-1), 0, atol=1e-4)
        np.testing.assert_allclose(a.std(-1), 1, atol=1e-3)
    t = segs.funnel.table().set_index("stage")
    assert t.loc["after_caps", "count"] == 50 and "record_cap: 20" in t.loc["after_caps", "reasons"]


def test_anyppg_composition_drops_unacceptable_ecg():
    nk = pytest.importorskip("neurokit2")
    fs = 250
    ecg = nk.ecg_simulate(duration=60, sampling_rate=fs, heart_rate=70, noise=0.01, random_state=0)
    ecg[30 * fs:40 * fs] = np.random.default_rng(0).standard_normal(10 * fs)   # window 3: noise only
    ppg = nk.ppg_simulate(duration=60, sampling_rate=125, heart_rate=70, random_state=0)
    rec = Recording("p", "p", "pulsedb", {"II": ecg, "PLETH": ppg}, {"II": fs, "PLETH": 125.0})
    segs = anyppg_segments([rec], AnyPPGPreprocess())
    assert segs.arrays["ecg"].shape[1:] == (1, 1250) and segs.arrays["ppg"].shape[1:] == (1, 1250)
    assert 30.0 not in set(segs.index["offset_s"]) and len(segs) == 5
    assert segs.funnel.dropped[("after_qc", "ecg_sqi")] == 1
    # An upside-down lead is detected and flipped back: the output is the same as for the upright lead.
    flipped = Recording("p", "p", "pulsedb", {"II": -ecg, "PLETH": ppg}, {"II": fs, "PLETH": 125.0})
    np.testing.assert_allclose(anyppg_segments([flipped]).arrays["ecg"], segs.arrays["ecg"], atol=1e-4)


def test_ecg12_paths_convert_to_millivolts_resample_and_pad():
    from physiofm.preprocess import LEADS_12, dbeta_segments, hybrid_ecg_segments

    rng = np.random.default_rng(5)
    leads = [lead.lower() for lead in LEADS_12]          # PTB-style lower-case names resolve too
    wave = 1000 * np.sin(2 * np.pi * 5 * np.arange(5000) / 500)   # 1000 uV amplitude
    ten_s = Recording("e1", "p1", "ptbxl", dict.fromkeys(leads, wave), dict.fromkeys(leads, 500.0),
                      dict.fromkeys(leads, "uV"), labels={"age": 70})
    seven_s = Recording("c1", "p2", "code15", {lead: rng.standard_normal(2800) for lead in LEADS_12},
                        dict.fromkeys(LEADS_12, 400.0))
    with_nan = Recording("n1", "p3", "ptbxl", {lead: np.full(5000, np.nan) for lead in LEADS_12},
                         dict.fromkeys(LEADS_12, 500.0))
    hyb = hybrid_ecg_segments([ten_s, seven_s, with_nan])
    assert hyb.arrays["ecg"].shape == (2, 12, 2500) and hyb.fs == {"ecg": 250.0}
    assert np.abs(hyb.arrays["ecg"][0]).max() == pytest.approx(1.0, rel=0.01)    # 1000 uV -> 1 mV
    assert hyb.funnel.dropped[("after_qc", "nan")] == 1 and list(hyb.index["age"].iloc[:1]) == [70]
    db = dbeta_segments([seven_s])
    assert db.arrays["ecg12"].shape == (1, 12, 5000)
    assert np.all(db.arrays["ecg12"][0, :, 3500:] == 0) and np.any(db.arrays["ecg12"][0, :, :3500] != 0)


def test_multimae_path_filters_decimates_and_labels_30s_windows():
    from physiofm.preprocess import MultiMAEPreprocess, multimae_segments

    rng = np.random.default_rng(6)
    names = ("F3-M2", "E1-M2", "Chin1-Chin2", "ECG")
    rec = Recording("n1", "s1", "physionet2018", {c: rng.standard_normal(120 * 200) for c in names},
                    dict.fromkeys(names, 200.0),
                    annotations=pd.DataFrame({"onset": [0.0, 30.0, 60.0, 90.0], "duration": [30.0] * 4,
                                              "stage": ["W", "N1", "N2", "R"]}))
    segs = multimae_segments([rec])
    groups = ("eeg", "eog", "emg", "ecg")
    assert {g: a.shape for g, a in segs.arrays.items()} == dict.fromkeys(groups, (4, 1, 3000))
    assert segs.fs == dict.fromkeys(("eeg", "eog", "emg", "ecg"), 100.0)
    assert list(segs.index["stage"]) == ["W", "N1", "N2", "R"]
    # z-scored per recording and channel over the whole night (the four windows are all of it)
    for g in groups:
        x = segs.arrays[g].ravel()
        assert abs(x.mean()) < 1e-3 and abs(x.std() - 1) < 1e-3
    raw = multimae_segments([rec], MultiMAEPreprocess(zscore=False))
    assert 0.5 < raw.arrays["eeg"].std() < 0.6  # white noise of sd 1 band-passed to 0.1-30 Hz: sqrt(0.3)


def test_multimae_zscore_ignores_long_gaps_and_rejects_flat_channels():
    from physiofm.preprocess import multimae_record

    rng = np.random.default_rng(7)
    names = ("F3-M2", "E1-M2", "Chin1-Chin2", "ECG")
    signals = {c: 5 + 3 * rng.standard_normal(120 * 200) for c in names}
    signals["ECG"][10 * 200 : 40 * 200] = np.nan  # a 30-s gap: left out, stays NaN
    rec = Recording("n1", "s1", "physionet2018", signals, dict.fromkeys(names, 200.0))
    out = multimae_record(rec)
    ecg = out.signals["ecg"]
    assert np.isnan(ecg[10 * 100 : 40 * 100]).all()
    assert abs(np.nanmean(ecg)) < 1e-6 and abs(np.nanstd(ecg) - 1) < 1e-6
    flat = dict(signals, **{"F3-M2": np.zeros(120 * 200)})
    with pytest.raises(ValueError, match="n1 channel F3-M2: constant signal"):
        multimae_record(Recording("n1", "s1", "physionet2018", flat, dict.fromkeys(names, 200.0)))


def test_overlapping_window_labels_align_with_the_window_start():
    """PPG-DaLiA labels 8-s windows every 2 s: a window takes the label of the annotation starting with it,
    not the one starting at its centre (4 s later for SyneCo's 8-s windows)."""
    from physiofm.datasets.dalia import hr_annotations

    fs, seconds = 64.0, 64
    hr = np.arange(29, dtype=float)  # one label per 8-s window shifted by 2 s: label i starts at 2 i s
    ann = hr_annotations(hr, np.zeros(int(seconds * 4)), Path("S1.pkl"))
    rec = Recording("r", "s", "dalia", {"ppg": np.sin(np.arange(int(seconds * fs)) / 7.0)}, {"ppg": fs},
                    annotations=ann)
    for window_s in (8.0, 10.0):  # SyneCo's 8-s windows, AnyPPG's 10-s windows
        segs = segment_record(rec, {"ppg": "ppg"}, window_s)
        starts = segs.index["offset_s"].to_numpy()
        assert segs.index["hr"].tolist() == (starts / 2).tolist(), window_s
    blocks = pd.DataFrame({"onset": [0.0, 10.0, 20.0], "duration": 10.0, "kind": ["a", "b", "c"]})
    got = annotation_at(blocks, np.array([5.0, 12.0, 25.0, 31.0]))  # non-overlapping: the block covering t
    assert got["kind"].tolist()[:3] == ["a", "b", "c"] and pd.isna(got["kind"].iloc[3])
