"""PPG loaders (DaLiA, WESAD, PPG-BP, UCI-BP, BUT PPG, Gyro-Acc-PPG, DeepBeat) on files written in the
published layouts, with malformed variants."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb

from physiofm import datasets
from physiofm.datasets import DatasetError, DatasetWarning


def empatica(seconds: int, rng: np.random.Generator) -> dict:
    return {
        "chest": {"ECG": rng.normal(0, 1, (seconds * 700, 1)), "ACC": rng.normal(0, 1, (seconds * 700, 3))},
        "wrist": {
            "BVP": rng.normal(0, 30, (seconds * 64, 1)),
            "ACC": rng.normal(0, 64, (seconds * 32, 3)),
            "EDA": rng.random((seconds * 4, 1)),
            "TEMP": 33 + rng.random((seconds * 4, 1)),
        },
    }


def dump(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def test_dalia_windows_activity_and_malformed(tmp_path):
    rng = np.random.default_rng(0)
    seconds = 40
    hr = 60 + np.arange(17, dtype=float)  # (40 - 8) / 2 + 1 windows
    activity = np.zeros((seconds * 4, 1))
    activity[:40] = 1  # first 10 s sitting
    activity[40:] = 4  # cycling afterwards
    base = {
        "signal": empatica(seconds, rng),
        "label": hr,
        "activity": activity,
        "rpeaks": np.arange(10),
        "questionnaire": {"AGE": 30, "Gender": " m", "WEIGHT": 70},
        "subject": "S1",
    }
    dump(tmp_path / "PPG_FieldStudy" / "S1" / "S1.pkl", base)
    s = datasets.load("dalia", tmp_path)
    rec = s[0]
    assert len(s) == 1 and rec.fs["ppg"] == 64 and len(rec.signals["ppg"]) == seconds * 64
    assert rec.fs["acc_x"] == 32 and rec.labels["age"] == 30 and rec.labels["gender"] == "m"
    ann = rec.annotations
    assert ann["onset"].tolist()[:3] == [0.0, 2.0, 4.0] and (ann["duration"] == 8).all()
    assert ann["hr"].tolist() == hr.tolist()
    assert ann["activity"].tolist()[:6] == [1, 1, 1, 1, 4, 4] and ann["activity_name"][0] == "sitting"
    assert "ecg" in datasets.load("dalia", tmp_path, include_chest=True)[0].signals
    # unknown activity id, then a label vector longer than the signal, then a missing BVP channel
    bad = dict(base, activity=np.full((seconds * 4, 1), 12))
    dump(tmp_path / "PPG_FieldStudy" / "S1" / "S1.pkl", bad)
    with pytest.warns(DatasetWarning, match=r"S1.pkl: activity id\(s\) \[12\]"):
        datasets.load("dalia", tmp_path)[0]
    dump(tmp_path / "PPG_FieldStudy" / "S1" / "S1.pkl", dict(base, label=np.arange(40.0)))
    with pytest.raises(DatasetError, match=r"S1.pkl: 40 HR labels .* length mismatch"):
        datasets.load("dalia", tmp_path)[0]
    sig = empatica(seconds, rng)
    del sig["wrist"]["BVP"]
    dump(tmp_path / "PPG_FieldStudy" / "S1" / "S1.pkl", dict(base, signal=sig))
    with pytest.raises(DatasetError, match=r"S1.pkl: signal\['wrist'\]\['BVP'\]"):
        datasets.load("dalia", tmp_path)[0]


def test_wesad_conditions_and_targets(tmp_path):
    rng = np.random.default_rng(1)
    seconds = 30
    label = np.repeat([0, 1, 2, 3, 4, 6], 5 * 700)
    dump(
        tmp_path / "WESAD" / "S2" / "S2.pkl",
        {"signal": empatica(seconds, rng), "label": label, "subject": "S2"},
    )
    s = datasets.load("wesad", tmp_path)
    ann = s[0].annotations
    assert ann["condition_name"].tolist() == [
        "transient",
        "baseline",
        "stress",
        "amusement",
        "meditation",
        "ignore",
    ]
    assert ann["onset"].tolist() == [0.0, 5.0, 10.0, 15.0, 20.0, 25.0] and (ann["duration"] == 5.0).all()
    np.testing.assert_array_equal(ann["stress"], [np.nan, 0, 1, 0, 0, np.nan])
    np.testing.assert_array_equal(ann["affect"], [np.nan, 0, 1, 2, 3, np.nan])
    label[:700] = 9
    dump(
        tmp_path / "WESAD" / "S2" / "S2.pkl",
        {"signal": empatica(seconds, rng), "label": label, "subject": "S2"},
    )
    with pytest.warns(DatasetWarning, match=r"S2.pkl: label code\(s\) \[9\]"):
        datasets.load("wesad", tmp_path)[0]


def write_ppgbp(root: Path, rng: np.random.Generator) -> Path:
    d = root / "Data File" / "0_subject"
    d.mkdir(parents=True)
    sheet = pd.DataFrame(
        {
            "Num.": [1, 2],
            "subject_ID": [2, 3],
            "Sex(M/F)": ["Female", "Male"],
            "Age(year)": [45, 50],
            "Height(cm)": [152, 170],
            "Weight(kg)": [63, 70],
            "Systolic Blood Pressure(mmHg)": [161, 120],
            "Diastolic Blood Pressure(mmHg)": [89, 80],
            "Heart Rate(b/m)": [97, 70],
            "BMI(kg/m^2)": [27.3, 24.2],
            "Hypertension": ["Stage 2 hypertension", "Normal"],
            "Diabetes": [None, None],
            "cerebral infarction": [None, None],
            "cerebrovascular disease": [None, None],
        }
    )
    xlsx = root / "Data File" / "PPG-BP dataset.xlsx"
    with pd.ExcelWriter(xlsx) as w:  # the published sheet has a title row above the header
        pd.DataFrame([["PPG-BP dataset"]]).to_excel(
            w, sheet_name="cardiovascular dataset", header=False, index=False
        )
        sheet.to_excel(w, sheet_name="cardiovascular dataset", startrow=1, index=False)
    for sid in (2, 3):
        for k in (1, 2, 3):
            values = rng.normal(2000, 50, 2100).round()
            (d / f"{sid}_{k}.txt").write_text("\t".join(f"{v:.0f}" for v in values) + "\t")
    return d


def test_ppgbp_segments_and_hypertension(tmp_path):
    d = write_ppgbp(tmp_path, np.random.default_rng(2))
    s = datasets.load("ppgbp", tmp_path)
    t = s.records
    assert len(s) == 6 and t["subject_id"].tolist() == ["2"] * 3 + ["3"] * 3
    assert t.groupby("subject_id")["hypertension"].first().tolist() == [1, 0]  # 161/89 and 120/80
    rec = s[0]
    assert rec.fs["ppg"] == 1000 and len(rec.signals["ppg"]) == 2100 and rec.labels["sbp"] == 161
    assert rec.labels["sex"] == "F" and rec.labels["hypertension_stage"] == "Stage 2 hypertension"
    (d / "3_2.txt").write_text("\t".join(["1"] * 1500) + "\t")
    with pytest.warns(DatasetWarning, match=r"3_2.txt: 1500 samples"):
        s[4]
    (d / "9_1.txt").write_text("1\t2\t")
    with pytest.warns(DatasetWarning, match=r"9_1.txt: subject 9 has no row"):
        assert len(datasets.load("ppgbp", tmp_path)) == 6


def write_v73_cells(path: Path, name: str, cells: list[np.ndarray]) -> None:
    """A MATLAB v7.3 cell array as MATLAB writes it: HDF5 with a 512-byte user block and object references."""
    import h5py

    with h5py.File(path, "w", userblock_size=512) as f:
        refs = f.create_group("#refs#")
        ref_ds = f.create_dataset(name, (1, len(cells)), dtype=h5py.ref_dtype)
        for i, c in enumerate(cells):
            d = refs.create_dataset(f"c{i}", data=c.T)  # HDF5 holds MATLAB's (3, T) transposed
            d.attrs["MATLAB_class"] = np.bytes_("double")
            ref_ds[0, i] = d.ref
        ref_ds.attrs["MATLAB_class"] = np.bytes_("cell")
    with open(path, "r+b") as f:
        f.write(
            b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
        )


def test_ucibp_v73_cells_and_bp_windows(tmp_path):
    t = np.arange(0, 25, 1 / 125)
    abp = 95 + 25 * np.sin(2 * np.pi * 1.2 * t)  # SBP 120, DBP 70
    rec0 = np.vstack([np.sin(t), abp, 0.5 * np.sin(3 * t)])
    write_v73_cells(tmp_path / "Part_1.mat", "Part_1", [rec0, rec0[:, :1000]])
    s = datasets.load("ucibp", tmp_path)
    assert s.records["record_id"].tolist() == ["Part_1/0001", "Part_1/0002"]
    assert s.records["n_samples"].tolist() == [len(t), 1000]
    r = s[0]
    assert r.fs == {"ppg": 125.0, "abp": 125.0, "ecg_ii": 125.0}
    np.testing.assert_allclose(r.signals["abp"], abp)
    ann = r.annotations
    assert ann["onset"].tolist() == [0.0, 10.0] and ann["sbp"].round(1).tolist() == [120.0, 120.0]
    assert ann["dbp"].round(1).tolist() == [70.0, 70.0]
    write_v73_cells(tmp_path / "Part_2.mat", "Part_2", [rec0[:2]])
    with pytest.raises(DatasetError, match=r"Part_2.mat\[0\]: record has shape"):
        datasets.load("ucibp", tmp_path)


def test_butppg_tables_and_records(tmp_path):
    rng = np.random.default_rng(3)
    for rid in ("100001", "100002", "101001"):
        d = tmp_path / rid
        d.mkdir()
        x = rng.normal(100, 5, (300, 3))
        wfdb.wrsamp(
            f"{rid}_PPG",
            fs=30,
            units=["NU"] * 3,
            sig_name=["PPG_R", "PPG_G", "PPG_B"],
            p_signal=x,
            fmt=["16"] * 3,
            write_dir=str(d),
        )
        wfdb.wrsamp(
            f"{rid}_ECG",
            fs=1000,
            units=["uV"],
            sig_name=["ECG"],
            p_signal=rng.normal(0, 300, (10000, 1)),
            fmt=["16"],
            write_dir=str(d),
        )
    pd.DataFrame({"ID": ["100001", "100002", "101001"], "Quality": [1, 0, 1], "HR": [72, 80, 65]}).to_csv(
        tmp_path / "quality-hr-ann.csv", index=False, encoding="utf-8-sig"
    )
    pd.DataFrame(
        {
            "ID": ["100001", "100002", "101001"],
            "Gender": ["F", "F", "M"],
            "Age [years]": [30, 30, 40],
            "Height [cm]": [170, 170, 180],
            "Weight [kg]": [60, 60, 80],
            "Ear/finger": ["finger"] * 3,
            "Motion": [0, 1, 0],
            "Blood pressure [mmHg]": ["120/80", "120/80", "135/85"],
        }
    ).to_csv(tmp_path / "subject-info.csv", index=False, encoding="utf-8-sig")
    s = datasets.load("butppg", tmp_path, include_ecg=True)
    t = s.records
    assert t["subject_id"].tolist() == ["100", "100", "101"] and t["quality"].tolist() == [1, 0, 1]
    assert (
        t["sbp"].tolist() == [120, 120, 135]
        and t["dbp"].tolist() == [80, 80, 85]
        and t["hr"].tolist() == [72, 80, 65]
    )
    r = s[2]
    assert r.channels == ["ppg", "PPG_G", "PPG_B", "ecg"] and r.fs["ppg"] == 30 and r.fs["ecg"] == 1000
    assert r.units["ecg"] == "mV" and np.abs(r.signals["ecg"]).max() < 5
    hea = tmp_path / "100002" / "100002_PPG.hea"
    hea.write_text(hea.read_text().replace("PPG_R", "PPG_X"))
    with pytest.raises(DatasetError, match=r"100002_PPG.hea: PPG channel 'PPG_R' missing"):
        s[1]


def test_gyroacc_subject_files(tmp_path):
    from scipy.io import savemat

    rng = np.random.default_rng(4)
    t_hr = np.arange(4.0, 60.0, 2.0)
    savemat(
        tmp_path / "Subject_1.mat",
        {
            "sigPPG": rng.normal(0, 1, (2, 3000)),
            "bpmECG": 80 + 0 * t_hr,
            "timeECG": t_hr,
            "sigAcc": rng.normal(0, 1, (3, 3000)),
        },
    )
    savemat(
        tmp_path / "Subject_2.mat",
        {"sigPPG": rng.normal(0, 1, (1, 1000)), "bpmECG": 70 + 0 * t_hr, "timeECG": t_hr},
    )
    s = datasets.load("gyroacc", tmp_path)
    r = s[0]
    assert r.channels == ["ppg", "ppg_1", "acc_x", "acc_y", "acc_z"] and r.fs["ppg"] == 50
    assert r.annotations["onset"].tolist()[0] == 3.0 and (r.annotations["duration"] == 2.0).all()
    with pytest.raises(
        DatasetError, match=r"Subject_2.mat: reference HR runs to 58.0 s but sigPPG holds 20.0 s"
    ):
        s[1]
    savemat(tmp_path / "Subject_2.mat", {"sigPPG": rng.normal(0, 1, (1, 1000))})
    with pytest.raises(DatasetError, match=r"Subject_2.mat: variable\(s\) \['bpmECG', 'timeECG'\] missing"):
        s[1]


def test_deepbeat_partitions(tmp_path):
    rng = np.random.default_rng(5)
    for split, n in (("train", 4), ("validate", 2), ("test", 3)):
        sig = rng.normal(0, 1, (n, 800, 1))
        if split == "test":
            sig[1, 100:200, 0] = np.nan
        rhythm = np.eye(2)[np.arange(n) % 2]
        qa = np.eye(3)[np.arange(n) % 3]
        params = np.array([[1000 + i, 0, f"P{i % 2}"] for i in range(n)], dtype=object)
        np.savez(tmp_path / f"{split}.npz", signal=sig, rhythm=rhythm, qa_label=qa, parameters=params)
    s = datasets.load("deepbeat", tmp_path)
    t = s.records
    assert len(s) == 9 and t["af"].tolist()[:4] == [0, 1, 0, 1] and t["quality"].tolist()[:4] == [0, 1, 2, 0]
    assert t["subject_id"].tolist()[:2] == ["P0", "P1"] and t["split"].tolist()[-1] == "test"
    r = s[0]
    assert r.fs["ppg"] == 32 and len(r.signals["ppg"]) == 800
    with pytest.warns(DatasetWarning, match=r"test.npz\[1\]: channel 'ppg' has 100 NaN samples"):
        s[7]
    np.savez(tmp_path / "test.npz", signal=np.zeros((3, 800, 1)), rhythm=np.zeros((3, 2)))
    with pytest.raises(DatasetError, match=r"test.npz: array\(s\) \['qa_label', 'parameters'\] missing"):
        datasets.load("deepbeat", tmp_path)
