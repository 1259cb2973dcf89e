"""SyneCo preprocessing on real ICU monitor records (PhysioNet/CinC Challenge 2015: ECG II, V, PLETH at
250 Hz): segment shapes, and each accepted segment's ECG- and PPG-derived heart rates agree within 5 bpm,
which shows that QC, filtering and resampling keep the beats where they were."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from physiofm.preprocess import SyneCoPreprocess, syneco_segments
from physiofm.recording import Recording

RECORDS = ("a103l", "v102s")
ROOT = Path(__file__).resolve().parents[1] / ".." / "shared" / "real-samples" / "challenge2015"


def load_challenge2015(folder, name: str) -> Recording:
    wfdb = pytest.importorskip("wfdb")
    rec = wfdb.rdrecord(str(folder / name))
    signals = {n: rec.p_signal[:, i] for i, n in enumerate(rec.sig_name)}
    return Recording(name, name, "challenge2015", signals, dict.fromkeys(signals, float(rec.fs)),
                     dict(zip(rec.sig_name, rec.units, strict=True)),
                     labels={"alarm": rec.comments[0], "true_alarm": rec.comments[1] == "True alarm"})


def robust_hr(peaks: np.ndarray, fs: float) -> tuple[float, float]:
    """(heart rate in bpm, coefficient of variation of the beat intervals) from peak sample indices.

    The rate averages the intervals within 20 % of the median, so one missed or doubled beat does not
    move it, and averaging many intervals avoids the 8-ms quantisation of a single 125-Hz interval.
    """
    rr = np.diff(peaks) / fs
    if len(rr) < 3:
        return np.nan, np.inf
    med = np.median(rr)
    ok = np.abs(rr - med) < 0.2 * med
    return 60.0 / rr[ok].mean() if ok.any() else np.nan, rr.std() / rr.mean()


@pytest.fixture(scope="module")
def segments():
    if not all((ROOT / f"{r}.hea").exists() for r in RECORDS):
        pytest.skip(f"{ROOT} (../shared/real-samples) is absent or lacks the Challenge 2015 records")
    recs = [load_challenge2015(ROOT, r) for r in RECORDS]
    # The records last 5-5.5 min, so the 10-min minimum is lowered; everything else is SyneCo's.
    return syneco_segments(recs, SyneCoPreprocess(min_duration_s=60.0))


def test_syneco_segments_of_real_icu_records_have_the_model_shapes(segments):
    n = len(segments)
    assert n >= 30   # 63 windows in the two records; isolated NaN samples in v102s cost some
    assert {g: a.shape for g, a in segments.arrays.items()} == {
        "ecg_ii": (n, 1, 5000), "ecg_v": (n, 1, 5000), "ppg": (n, 1, 1250)}
    for a in segments.arrays.values():
        assert a.dtype == np.float32 and np.isfinite(a).all()
        np.testing.assert_allclose(a.std(-1), 1.0, atol=1e-3)
    assert set(segments.index["record_id"]) == set(RECORDS)
    table = segments.funnel.table().set_index("stage")
    assert table.loc["records", "count"] == 2 and table.loc["after_caps", "count"] == n


def test_ecg_and_ppg_heart_rates_agree_on_every_accepted_segment(segments):
    """SyneCo's QC (flatline and validity only) has no ECG artefact screen, and a103l is a false asystole
    alarm: from about 264 s to 302 s both ECG leads carry electrode-motion bursts while the PPG keeps
    beating. In such a window no ECG beat detector can give a heart rate, so a window whose detected beat
    intervals are irregular in *both* leads (coefficient of variation > 0.15; sinus rhythm and this
    VT record stay below 0.1) is reported as ECG artefact instead of compared; at most 15 % may be."""
    sleepecg = pytest.importorskip("sleepecg")
    nk = pytest.importorskip("neurokit2")
    artefact = []
    for i in range(len(segments)):
        ecg = [robust_hr(sleepecg.detect_heartbeats(segments.arrays[g][i, 0].astype(np.float64), 500), 500)
               for g in ("ecg_ii", "ecg_v")]
        hr_ecg, cv = min(ecg, key=lambda h: h[1])   # the steadier lead
        where = f"{segments.index['record_id'][i]} at {segments.index['offset_s'][i]:.0f} s"
        if cv > 0.15:
            artefact.append(where)
            continue
        ppg = segments.arrays["ppg"][i, 0].astype(np.float64)
        hr_ppg, _ = robust_hr(nk.ppg_findpeaks(ppg, sampling_rate=125)["PPG_Peaks"], 125)
        assert 40 < hr_ecg < 200, where
        assert abs(hr_ecg - hr_ppg) < 5.0, f"{where}: ECG {hr_ecg:.1f} vs PPG {hr_ppg:.1f} bpm"
    assert len(artefact) <= 0.15 * len(segments), artefact
