"""PTB-XL label aggregation / split and MIMIC-IV-ECG report merging on files written in the native layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb

from physiofm import datasets
from physiofm.datasets import DatasetWarning
from physiofm.datasets.mimic4_ecg import clean_report

LEADS = ["I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6"]

# real rows of scp_statements.csv (code, diagnostic, form, rhythm, diagnostic_class, diagnostic_subclass)
STATEMENTS = [
    ("NORM", 1.0, None, None, "NORM", "NORM"),
    ("IMI", 1.0, None, None, "MI", "IMI"),
    ("ASMI", 1.0, None, None, "MI", "AMI"),
    ("LVH", 1.0, None, None, "HYP", "LVH"),
    ("NDT", 1.0, 1.0, None, "STTC", "STTC"),
    ("SR", None, None, 1.0, None, None),
    ("AFIB", None, None, 1.0, None, None),
    ("PVC", None, 1.0, 1.0, None, None),
    ("LOWT", None, 1.0, None, None, None),
]


def write_record(path: Path, units: str = "mV", n: int = 500, fs: int = 500, seed: int = 0) -> np.ndarray:
    path.parent.mkdir(parents=True, exist_ok=True)
    x = np.random.default_rng(seed).normal(0, 0.4, (n, 12))
    wfdb.wrsamp(
        path.name,
        fs=fs,
        units=[units] * 12,
        sig_name=LEADS,
        p_signal=x,
        fmt=["16"] * 12,
        write_dir=str(path.parent),
    )
    return x


def write_ptbxl(root: Path, scp_codes: list[str], folds: list[int]) -> None:
    st = pd.DataFrame(
        STATEMENTS,
        columns=["code", "diagnostic", "form", "rhythm", "diagnostic_class", "diagnostic_subclass"],
    ).set_index("code")
    st.index.name = None
    st.to_csv(root / "scp_statements.csv")
    rows = []
    for i, (codes, fold) in enumerate(zip(scp_codes, folds, strict=True), start=1):
        hr, lr = f"records500/00000/{i:05d}_hr", f"records100/00000/{i:05d}_lr"
        write_record(root / hr, seed=i)
        write_record(root / lr, n=100, fs=100, seed=i)
        rows.append(
            {
                "ecg_id": i,
                "patient_id": 100.0 + i % 2,
                "age": 50 + i,
                "sex": i % 2,
                "scp_codes": codes,
                "strat_fold": fold,
                "filename_lr": lr,
                "filename_hr": hr,
            }
        )
    pd.DataFrame(rows).to_csv(root / "ptbxl_database.csv", index=False)


def test_ptbxl_aggregation_split_and_units(tmp_path):
    write_ptbxl(
        tmp_path,
        [
            "{'NORM': 100.0, 'SR': 0.0}",
            "{'IMI': 50.0, 'ASMI': 15.0, 'PVC': 100.0, 'AFIB': 0.0}",
            "{'LVH': 100.0, 'NDT': 100.0, 'LOWT': 0.0}",
        ],
        [3, 9, 10],
    )
    s = datasets.load("ptbxl", tmp_path)
    t = s.records
    assert len(s) == 3 and t["split"].tolist() == ["train", "val", "test"]
    assert s.info["tasks"]["superdiagnostic"]["columns"] == [
        "super_HYP",
        "super_MI",
        "super_NORM",
        "super_STTC",
    ]
    assert t.loc[1, ["super_MI", "super_NORM"]].tolist() == [1, 0]
    assert t.loc[1, ["sub_AMI", "sub_IMI"]].tolist() == [1, 1]  # subclasses of IMI and ASMI
    # likelihood 0.0 still counts, as in the benchmark code
    assert t.loc[0, "rhythm_SR"] == 1 and t.loc[1, "rhythm_AFIB"] == 1 and t.loc[2, "form_LOWT"] == 1
    assert t.loc[1, ["form_PVC", "rhythm_PVC"]].tolist() == [1, 1]
    assert t["n_rhythm"].tolist() == [1, 2, 0] and t["n_form"].tolist() == [0, 1, 2]
    assert t["subject_id"].tolist() == ["101", "100", "101"] and t["female"].tolist() == [1, 0, 1]
    rec = s[2]
    assert rec.channels == LEADS and rec.fs["I"] == 500 and len(rec.signals["V6"]) == 500
    s100 = datasets.load("ptbxl", tmp_path, sampling_rate=100)
    assert s100[0].fs["II"] == 100


def test_ptbxl_unknown_code_and_missing_record(tmp_path):
    write_ptbxl(tmp_path, ["{'NORM': 100.0, 'XYZ': 100.0}"], [1])
    with pytest.warns(DatasetWarning, match=r"ecg_id 1 has SCP code\(s\) \['XYZ'\]"):
        s = datasets.load("ptbxl", tmp_path)
    (tmp_path / "records500/00000/00001_hr.dat").unlink()
    with pytest.raises(FileNotFoundError, match="00001_hr.dat"):
        s[0]


def test_mimic4_ecg_reports_are_merged_and_cleaned(tmp_path):
    paths = [
        "files/p1000/p10000032/s40689238/40689238",
        "files/p1000/p10000032/s40689239/40689239",
        "files/p1001/p10010000/s40000001/40000001",
    ]
    for i, p in enumerate(paths):
        write_record(tmp_path / p, units="uV" if i == 0 else "mV", seed=i)
    pd.DataFrame(
        {
            "subject_id": [10000032, 10000032, 10010000],
            "study_id": [40689238, 40689239, 40000001],
            "file_name": ["40689238", "40689239", "40000001"],
            "ecg_time": ["2180-07-23 08:44:00"] * 3,
            "path": paths,
        }
    ).to_csv(tmp_path / "record_list.csv", index=False)
    mm = pd.DataFrame(
        {
            "subject_id": [10000032, 10000032, 10010000],
            "study_id": [40689238, 40689239, 40000001],
            "cart_id": [6848296] * 3,
        }
    )
    for k in range(18):
        mm[f"report_{k}"] = pd.Series([None] * 3, dtype=object)
    mm.loc[0, ["report_0", "report_1", "report_2"]] = [
        "Sinus rhythm.",
        "Left axis deviation",
        "ST-T changes, Abnormal ECG.",
    ]
    mm.loc[2, "report_0"] = "  Normal ECG  "
    mm["rr_interval"] = 800
    mm.to_csv(tmp_path / "machine_measurements.csv", index=False)
    s = datasets.load("mimic4_ecg", tmp_path)
    assert len(s) == 2  # the study with no report text is dropped, as D-BETA does
    assert s.records["text"].tolist() == [
        "sinus rhythm left axis deviation stt changes abnormal ecg",
        "normal ecg",
    ]
    rec = s[0]
    assert rec.labels["text"].startswith("sinus rhythm") and rec.subject_id == "10000032"
    assert rec.units["II"] == "mV" and np.abs(rec.signals["II"]).max() < 0.01  # written in uV
    assert len(datasets.load("mimic4_ecg", tmp_path, require_text=False)) == 3
    assert clean_report("  Sinus  Brady-cardia!! ") == "sinus bradycardia"
