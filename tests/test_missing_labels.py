"""One marker for a missing label value in segment indexes: NaN, never None (the same under pandas 2 and 3).

Each check looks at every value of every label column: a missing one must be a float NaN, so no column mixes
``None`` and ``NaN`` and ``pd.isna`` / ``x != x`` read the same whatever the pandas version.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from physiofm.preprocess import (
    AnyPPGPreprocess,
    SyneCoPreprocess,
    anyppg_segments,
    ecg12_segments,
    hybrid_ecg_config,
    hybrid_ecg_segments,
    multimae_segments,
    syneco_segments,
)
from physiofm.recording import Recording
from physiofm.segments import Segments, missing_as_nan, segment_record, segment_recordings
from physiofm.store import SegmentStore
from physiofm.synthetic import ecg12_cohort, icu_cohort, psg_cohort

CHANNELS = {"ecg": ("II",), "ppg": ("PLETH",)}
IDS = ("subject_id", "record_id", "source", "offset_s", "start_time", "shard", "row")


def missing_markers(index: pd.DataFrame) -> dict[str, set[str]]:
    """Label column -> the kinds of missing value it holds ({"NaN"}, {"None"}, {"None", "NaN"}, ...)."""
    out: dict[str, set[str]] = {}
    for col in index.columns:
        kinds = {"None" if v is None else "NaN" if isinstance(v, float) else type(v).__name__
                 for v in index[col].to_numpy(dtype=object) if pd.isna(v)}
        if kinds:
            out[col] = kinds
    return out


def assert_missing_is_nan(index: pd.DataFrame) -> None:
    bad = {c: k for c, k in missing_markers(index).items() if k != {"NaN"}}
    assert not bad, f"label columns with a missing marker other than NaN: {bad}"


def record(record_id: str, seed: int, duration_s: float = 60.0, annotations=None, **labels) -> Recording:
    rng = np.random.default_rng(seed)
    sig = {"II": rng.standard_normal(int(duration_s * 250)),
           "PLETH": rng.standard_normal(int(duration_s * 125))}
    return Recording(record_id, f"s-{record_id}", "toy", sig, {"II": 250.0, "PLETH": 125.0},
                     {"II": "mV", "PLETH": "NU"}, labels=labels, annotations=annotations)


@pytest.fixture
def gappy_records() -> list[Recording]:
    """Records whose labels go missing every way a real dataset does."""
    ann = pd.DataFrame({"onset": [0.0, 20.0], "duration": [20.0, 20.0], "alarm": ["none", "VT"],
                        "artefact": [True, False], "quality": [1, 2], "hr": [61.0, 62.5]})
    return [
        record("a", 1, annotations=ann, sex="F", age=63.0, diagnosis="AF"),  # 40-60 s: no annotation row
        record("b", 2, sex=None, age=None, diagnosis="NORM"),                # labels given as None
        record("c", 3, age=70.0),                                            # sex, diagnosis absent
    ]


def test_uncovered_windows_read_nan_in_every_annotation_column(gappy_records):
    segs = segment_record(gappy_records[0], CHANNELS, 10.0)
    gap = segs.index[segs.index["offset_s"] >= 40.0]
    assert len(gap) == 2
    for col in ("alarm", "artefact", "quality", "hr"):
        assert all(isinstance(v, float) and np.isnan(v) for v in gap[col]), col
    covered = segs.index[segs.index["offset_s"] < 40.0]
    assert list(covered["alarm"]) == ["none", "none", "VT", "VT"]
    assert list(covered["artefact"]) == [True, True, False, False]
    assert_missing_is_nan(segs.index)


def test_none_labels_and_absent_columns_join_as_nan(gappy_records):
    parts = segment_recordings(gappy_records, CHANNELS, 10.0)
    assert_missing_is_nan(parts[1].index)
    joined = Segments.concat(parts)
    markers = missing_markers(joined.index)
    assert {"sex", "diagnosis", "age", "alarm"} <= set(markers)
    assert_missing_is_nan(joined.index)
    assert joined.index.loc[joined.index["record_id"] == "a", "sex"].eq("F").all()


def test_store_round_trip_keeps_nan(tmp_path, gappy_records):
    store = SegmentStore.build(tmp_path / "st", gappy_records, segment_recordings_joined,
                               subjects_per_shard=1, progress=False)
    assert {"sex", "diagnosis", "alarm", "artefact"} <= set(missing_markers(store.index))
    assert_missing_is_nan(store.index)


def segment_recordings_joined(recs) -> Segments:
    return Segments.concat(segment_recordings(recs, CHANNELS, 10.0))


def test_twelve_lead_rows_with_none_labels(gappy_records):
    leads = ("I", "II")
    recs = [Recording(f"e{i}", f"p{i}", "toy", {ld: np.zeros(500) + i for ld in leads},
                      dict.fromkeys(leads, 50.0),
                      labels={"report": None if i else "sinus rhythm", "age": None if i == 2 else 50.0})
            for i in range(3)]
    segs = ecg12_segments(recs, hybrid_ecg_config(leads=leads, fs=50.0))
    assert list(segs.index["report"].isna()) == [False, True, True]
    assert_missing_is_nan(segs.index)


def test_missing_as_nan_replaces_every_other_marker():
    df = pd.DataFrame({"s": pd.Series(["x", None, pd.NA, np.nan], dtype=object),
                       "b": pd.Series([True, None, False, pd.NaT], dtype=object),
                       "f": [1.0, np.nan, 2.0, 3.0]})
    assert missing_markers(df) == {"s": {"None", "NAType", "NaN"}, "b": {"None", "NaTType"}, "f": {"NaN"}}
    missing_as_nan(df)
    assert missing_markers(df) == {"s": {"NaN"}, "b": {"NaN"}, "f": {"NaN"}}
    assert list(df["s"].iloc[[0]]) == ["x"] and df["b"].iloc[2] is False


def test_synthetic_cohorts_through_every_paper_path():
    icu = list(icu_cohort(2, 0, duration_s=60).recordings)
    ecg12 = list(ecg12_cohort(3, 0).recordings)
    psg = list(psg_cohort(1, 0, hours=0.1).recordings)
    indexes = {
        "syneco": syneco_segments(icu, SyneCoPreprocess(min_duration_s=0.0)).index,
        "anyppg": anyppg_segments(icu, AnyPPGPreprocess()).index,
        "hybrid_ecg": hybrid_ecg_segments(ecg12).index,
        "multimae": multimae_segments(psg).index,
    }
    for name, index in indexes.items():
        assert len(index), name
        assert_missing_is_nan(index)
