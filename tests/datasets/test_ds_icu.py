"""ICU waveform loaders: real Challenge 2015 / multirate / multi-segment records, and written MIMIC-III/IV,
VTaC and VitalDB copies including missing channels, gaps and malformed files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb

from physiofm import datasets
from physiofm.datasets import DatasetError, DatasetWarning, icu


def _header_facts(hea: Path) -> tuple[float, int, list[str], list[int]]:
    """Independent parse of a single-segment header: frame rate, frames, names, samples per frame."""
    lines = [ln for ln in hea.read_text().splitlines() if ln and not ln.startswith("#")]
    first = lines[0].split()
    nsig, fs, n = int(first[1]), float(first[2].split("/")[0]), int(first[3])
    names, spf = [], []
    for ln in lines[1 : 1 + nsig]:
        parts = ln.split()
        names.append(parts[-1])
        fmt = parts[1].split("+")[0]
        spf.append(int(fmt.split("x")[1]) if "x" in fmt else 1)
    return fs, n, names, spf


@pytest.mark.parametrize("rel", ["challenge2015/a103l", "challenge2015/v102s", "icu-multirate/mixedsignals"])
def test_real_single_segment_records_match_headers(real_samples, rel):
    path = real_samples / rel
    fs, n, names, spf = _header_facts(Path(str(path) + ".hea"))
    with pytest.warns(DatasetWarning) if rel != "challenge2015/a103l" else _no_warning():
        rec = icu.read_record(path, channels="all")
    assert rec.channels == names
    for name, k in zip(names, spf, strict=True):
        assert rec.fs[name] == pytest.approx(fs * k) and len(rec.signals[name]) == n * k
    canon = icu.read_record(path) if rel == "challenge2015/a103l" else None
    if canon is not None:
        assert canon.channels == ["ecg_ii", "ecg_v", "ppg"] and canon.labels["alarm"] == "Asystole"
        assert canon.labels["true_alarm"] == 0 and canon.meta["channel_source"]["ppg"] == "PLETH"


class _no_warning:
    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("error", DatasetWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def test_real_multisegment_041s(real_samples):
    master = real_samples / "icu-multirate/041s/041s"
    seg_fs, seg_n, names, spf = _header_facts(real_samples / "icu-multirate/041s/041s01.hea")
    lines = Path(str(master) + ".hea").read_text().splitlines()
    total = int(lines[0].split()[3])
    with pytest.warns(DatasetWarning):
        rec = icu.read_record(master, channels="all")
    assert rec.channels == names
    for name, k in zip(names, spf, strict=True):
        assert rec.fs[name] == seg_fs * k and len(rec.signals[name]) == total * k
    seg2 = wfdb.rdrecord(str(real_samples / "icu-multirate/041s/041s02"), smooth_frames=False)
    np.testing.assert_allclose(rec.signals["PLETH"][1000:], seg2.e_p_signal[5], equal_nan=True)
    with pytest.warns(DatasetWarning, match=r"041s.hea: no channel for \['ecg_ii'\]"):
        canon = icu.read_record(master)
    assert canon.channels == ["ecg_v", "ppg"]


def write_segment(
    folder: Path, name: str, channels: list[str], n: int, fs: float = 125, seed: int = 0
) -> None:
    x = np.random.default_rng(seed).normal(0, 0.5, (n, len(channels)))
    units = ["mV" if c.upper() not in ("PLETH", "ABP") else "NU" for c in channels]
    wfdb.wrsamp(
        name,
        fs=fs,
        units=units,
        sig_name=channels,
        p_signal=x,
        fmt=["16"] * len(channels),
        write_dir=str(folder),
    )


def write_mimic3(root: Path) -> Path:
    d = root / "p00" / "p000020"
    d.mkdir(parents=True)
    write_segment(d, "3544749_0001", ["II", "V", "PLETH", "ABP"], 1250)
    write_segment(d, "3544749_0002", ["II", "AVR", "V"], 500, seed=1)  # no PLETH
    write_segment(d, "3544749_0003", ["II", "MCL1", "PLETH"], 2500, seed=2)
    (d / "p000020-2183-04-28-17-47.hea").write_text(
        "p000020-2183-04-28-17-47/4 5 125 4500 17:47:00.000 28/04/2183\n3544749_layout 0\n3544749_0001 1250\n"
        "3544749_0002 500\n~ 250\n3544749_0003 2500\n"
    )
    (d / "p000020-2183-04-28-17-47n.hea").write_text("p000020-2183-04-28-17-47n 1 1 0\n")
    return d


def test_mimic3_matched_segments_gaps_and_missing_channel(tmp_path):
    d = write_mimic3(tmp_path)
    with pytest.warns(DatasetWarning, match=r"3544749_0002.hea lacks \['ppg'\]"):
        s = datasets.load("mimic3_wave", tmp_path)
    assert s.records["record_id"].tolist() == ["p000020/3544749_0001", "p000020/3544749_0003"]
    assert s.records["start_time"].tolist() == [0.0, (1250 + 500 + 250) / 125]
    rec = s[1]
    assert rec.channels == ["ecg_ii", "ecg_v", "ppg"] and rec.meta["channel_source"]["ecg_v"] == "MCL1"
    assert rec.start_time == 16.0 and len(rec.signals["ppg"]) == 2500
    assert s.info["excluded"] == {"missing_channel": 1}  # counted in a store's funnel (physiofm.store)
    with pytest.warns(DatasetWarning, match="lack required channel"):
        short = datasets.load("mimic3_wave", tmp_path, min_duration_s=15)
    assert len(short) == 1 and short.info["excluded"] == {"missing_channel": 1, "short_record": 1}
    # the whole master record laid out on one timeline: the gap and the PLETH-less segment are NaN
    with pytest.warns(DatasetWarning, match="NaN"):
        whole = icu.read_record(d / "p000020-2183-04-28-17-47", channels="all")
    assert len(whole.signals["PLETH"]) == 4500
    assert (
        np.isnan(whole.signals["PLETH"][1250:2000]).all()
        and not np.isnan(whole.signals["PLETH"][:1250]).any()
    )
    # truncated segment file
    dat = d / "3544749_0003.dat"
    dat.write_bytes(dat.read_bytes()[:-600])
    with pytest.raises(DatasetError, match=r"3544749_0003.dat: truncated signal file"):
        s[1]


def test_mimic3_segments_too_short_are_warned_and_an_all_short_copy_gives_an_empty_set(tmp_path):
    write_mimic3(tmp_path)
    with pytest.warns(DatasetWarning, match=r"1 of 2 segment\(s\) are shorter than min_duration_s=15 s"):
        s = datasets.load("mimic3_wave", tmp_path, min_duration_s=15)
    assert s.records["record_id"].tolist() == ["p000020/3544749_0003"]
    assert s.records["start_time"].tolist() == [(1250 + 500 + 250) / 125]
    with pytest.warns(DatasetWarning, match=r"2 of 2 segment\(s\) are shorter"):
        assert len(datasets.load("mimic3_wave", tmp_path, min_duration_s=3600)) == 0


def test_mimic4_multifrequency_segments(tmp_path):
    d = tmp_path / "waves" / "p100" / "p10014354" / "81739927"
    d.mkdir(parents=True)
    n = 1000
    rng = np.random.default_rng(0)
    e = [rng.normal(0, 0.5, 2 * n), rng.normal(0, 0.5, 2 * n), rng.normal(0, 1, n)]
    r = wfdb.Record(
        record_name="81739927_0000",
        n_sig=3,
        fs=62.5,
        sig_len=n,
        sig_name=["II", "V", "Pleth"],
        units=["mV", "mV", "NU"],
        fmt=["16"] * 3,
        samps_per_frame=[2, 2, 1],
        e_p_signal=e,
        adc_gain=[200.0, 200.0, 100.0],
        baseline=[0] * 3,
        file_name=["81739927_0000.dat"] * 3,
        adc_res=[16] * 3,
        adc_zero=[0] * 3,
        block_size=[0] * 3,
    )
    r.set_d_features(expanded=True, do_adc=True)
    r.set_d_features(expanded=True)
    r.wrsamp(expanded=True, write_dir=str(d))
    (d / "81739927.hea").write_text("81739927/1 3 62.5 1000 10:00:00.000 01/01/2150\n81739927_0000 1000\n")
    s = datasets.load("mimic4_wave", tmp_path)
    assert s.records["record_id"].tolist() == ["p10014354/81739927_0000"]
    rec = s[0]
    assert rec.fs == {"ecg_ii": 125.0, "ecg_v": 125.0, "ppg": 62.5}
    assert len(rec.signals["ecg_ii"]) == 2 * n and len(rec.signals["ppg"]) == n
    np.testing.assert_allclose(rec.signals["ecg_ii"], e[0], atol=0.01)


def write_vtac(root: Path) -> None:
    for rec, ev, chans in (
        ("r1", "e1", ["II", "V", "PLETH", "ABP"]),
        ("r1", "e2", ["II", "V", "ABP"]),
        ("r2", "e3", ["II", "V", "PLETH"]),
    ):
        (root / "waveforms" / rec).mkdir(parents=True, exist_ok=True)
        write_segment(root / "waveforms" / rec, ev, chans, 2500, fs=250)
    pd.DataFrame(
        {"record": ["r1", "r1", "r2"], "event": ["e1", "e2", "e3"], "decision": ["True", "False", "False"]}
    ).to_csv(root / "event_labels.csv", index=False)
    pd.DataFrame(
        {"record": ["r1", "r1", "r2"], "event": ["e1", "e2", "e3"], "split": ["train", "train", "test"]}
    ).to_csv(root / "benchmark_data_split.csv", index=False)


def test_vtac_labels_split_and_missing_pleth(tmp_path):
    write_vtac(tmp_path)
    s = datasets.load("vtac", tmp_path)
    t = s.records
    assert t["false_alarm"].tolist() == [0, 1, 1] and t["split"].tolist() == ["train", "train", "test"]
    assert t["subject_id"].tolist() == ["r1", "r1", "r2"]
    rec = s[0]
    assert (
        rec.channels == ["ecg_ii", "ecg_v", "ppg"] and rec.fs["ppg"] == 250 and rec.labels["false_alarm"] == 0
    )
    with pytest.warns(DatasetWarning, match=r"e2.hea: no channel for \['ppg'\]"):
        assert s[1].channels == ["ecg_ii", "ecg_v"]
    pd.DataFrame({"record": ["r1"], "event": ["e1"], "decision": ["maybe"]}).to_csv(
        tmp_path / "event_labels.csv", index=False
    )
    with pytest.raises(DatasetError, match=r"event_labels.csv: event e1 has unknown decision 'maybe'"):
        datasets.load("vtac", tmp_path)


def write_vital(path: Path, tracks: dict[str, tuple[np.ndarray, str]]) -> None:
    import vitaldb

    vf = vitaldb.VitalFile()
    for name, (x, unit) in tracks.items():
        vf.add_track(name, [{"dt": 1_600_000_000.0, "val": x.astype(np.float32)}], srate=500, unit=unit)
    vf.to_vital(str(path))


def test_vitaldb_tracks_clinical_labels_and_missing_track(tmp_path):
    d = tmp_path / "vital_files"
    d.mkdir()
    rng = np.random.default_rng(0)
    ecg = rng.normal(0, 0.5, 5000)
    write_vital(
        d / "0001.vital",
        {
            "SNUADC/ECG_II": (ecg, "mV"),
            "SNUADC/ECG_V5": (ecg, "mV"),
            "SNUADC/PLETH": (rng.normal(50, 5, 5000), ""),
        },
    )
    write_vital(d / "0002.vital", {"SNUADC/ECG_II": (ecg * 1000, "uV"), "SNUADC/PLETH": (ecg, "")})
    pd.DataFrame(
        {
            "caseid": [1, 2, 3],
            "subjectid": [11, 12, 13],
            "age": [60, 45, 30],
            "sex": ["F", "M", "M"],
            "emop": [0, 1, 0],
        }
    ).to_csv(tmp_path / "clinical_data.csv", index=False)
    s = datasets.load("vitaldb", tmp_path)
    t = s.records
    assert t["record_id"].tolist() == ["1", "2"] and t["female"].tolist() == [1.0, 0.0]
    assert t["emop"].tolist() == [0, 1] and t["subject_id"].tolist() == ["11", "12"]
    rec = s[0]
    assert rec.channels == ["ecg_ii", "ecg_v", "ppg"] and rec.fs["ecg_ii"] == 500
    np.testing.assert_allclose(rec.signals["ecg_ii"][:4999], ecg[:4999], atol=1e-5)
    with pytest.raises(DatasetError, match=r"0002.vital: track\(s\) \['SNUADC/ECG_V5'\] missing"):
        s[1]
    s2 = datasets.load("vitaldb", tmp_path, require=("ecg_ii", "ppg"))
    with pytest.warns(DatasetWarning, match=r"0002.vital: track\(s\) \['SNUADC/ECG_V5'\] missing"):
        rec2 = s2[1]
    assert np.nanmax(np.abs(rec2.signals["ecg_ii"] - ecg[: len(rec2.signals["ecg_ii"])])) < 1e-4  # uV -> mV
    assert len(datasets.load("vitaldb", tmp_path, check_tracks=True)) == 1
