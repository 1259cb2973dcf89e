"""Real 12-lead ECGs (10 PTB-XL and 20 Chapman/Ningbo records of the CinC 2021 release) through hybrid_ecg's
preprocessing: 12 x 2,500 samples at 250 Hz, mV, every record kept. Skips when ../shared is absent."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from physiofm import datasets
from physiofm.preprocess import LEADS_12, hybrid_ecg_config, hybrid_ecg_segments

ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "real-samples" / "cinc2021"
PTBXL = [f"HR0600{i}" for i in range(10)]
CHAPMAN = [f"JS200{i:02d}" for i in range(20)]


@pytest.fixture(scope="module")
def records():
    if not ROOT.is_dir():
        pytest.skip(f"{ROOT} is absent (a fresh clone has no ../shared)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", datasets.DatasetWarning)  # PTB-XL records carry no Chapman rhythm
        s = datasets.load("chapman", ROOT)
    wanted = PTBXL + CHAPMAN
    rows = s.records.index[s.records["record_id"].isin(wanted)]
    assert sorted(s.records.loc[rows, "record_id"]) == sorted(wanted), "a real sample record is missing"
    return s.subset(rows)


@pytest.fixture(scope="module")
def segments(records):
    return hybrid_ecg_segments(records)


@pytest.fixture(scope="module")
def raw(records):
    return {rec.record_id: rec for rec in records}


def test_every_record_is_kept_as_12_by_2500_at_250_hz(segments, records) -> None:
    x = segments.arrays["ecg"]
    assert x.shape == (30, 12, 2500) and x.dtype == np.float32
    assert segments.fs == {"ecg": 250.0} and hybrid_ecg_config().fs == 250.0
    assert list(segments.index["record_id"]) == list(records.records["record_id"])
    assert np.isfinite(x).all()


def test_units_are_millivolts_with_physiological_r_waves(segments, raw) -> None:
    x = segments.arrays["ecg"]
    ii = LEADS_12.index("II")
    peak = np.abs(x[:, ii]).max(axis=1)
    assert ((peak > 0.2) & (peak < 5.0)).all(), dict(zip(segments.index["record_id"], peak.round(2)))
    assert (np.abs(x).max(axis=(1, 2)) < 15.0).all()  # no lead reads like raw ADC counts or microvolts
    for i, rid in enumerate(segments.index["record_id"]):
        rec = raw[rid]
        assert set(rec.units.values()) == {"mV"} and set(rec.fs.values()) == {500.0}
        # resampling 500 -> 250 Hz keeps the lead's amplitude (R peaks are several samples wide)
        source = np.abs(rec.signals["II"]).max()
        assert peak[i] == pytest.approx(source, rel=0.15), rid


def test_time_axis_is_ten_seconds_of_the_record(segments, raw) -> None:
    for i, rid in enumerate(segments.index["record_id"][:5]):
        rec = raw[rid]
        n = len(rec.signals["V2"])
        assert n == 5000  # 10 s at 500 Hz in these records
        decimated = rec.signals["V2"][::2]
        corr = np.corrcoef(segments.arrays["ecg"][i, LEADS_12.index("V2")], decimated)[0, 1]
        assert corr > 0.95, (rid, corr)
