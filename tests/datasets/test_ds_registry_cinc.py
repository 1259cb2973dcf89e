"""Registry contract and the CinC-format 12-lead loaders (chapman, georgia, cpsc2018, csn)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb

from physiofm import datasets
from physiofm.datasets import DatasetError, DatasetWarning

LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
EXPECTED_NAMES = [
    "ptbxl",
    "chapman",
    "georgia",
    "cpsc2018",
    "csn",
    "mimic4_ecg",
    "code15",
    "mimic3_wave",
    "mimic4_wave",
    "vitaldb",
    "vtac",
    "dalia",
    "ppgbp",
    "wesad",
    "ucibp",
    "butppg",
    "gyroacc",
    "deepbeat",
    "physionet2018",
]


def write_cinc(
    folder: Path,
    rid: str,
    dx: str,
    age="63",
    sex="Female",
    units="mV",
    n=1000,
    fs=500,
    hash_style="# ",
    seed=0,
) -> np.ndarray:
    folder.mkdir(parents=True, exist_ok=True)
    x = np.random.default_rng(seed).normal(0, 0.5, (n, 12))
    wfdb.wrsamp(
        rid,
        fs=fs,
        units=[units] * 12,
        sig_name=LEADS,
        p_signal=x,
        fmt=["16"] * 12,
        write_dir=str(folder),
        comments=[f"Age: {age}", f"Sex: {sex}", f"Dx: {dx}", "Rx: Unknown"],
    )
    if hash_style != "# ":  # CSN writes "#Dx:" without the space
        hea = folder / f"{rid}.hea"
        hea.write_text(hea.read_text().replace("# ", hash_style))
    return x


def test_registry_lists_every_dataset_and_rejects_unknown(tmp_path):
    assert datasets.names() == EXPECTED_NAMES
    with pytest.raises(KeyError, match="unknown dataset 'nope'"):
        datasets.load("nope", tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datasets.load("ptbxl", tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match="no WFDB headers"):
        datasets.load("georgia", tmp_path)


def test_chapman_rhythm_sex_and_units(tmp_path):
    x = write_cinc(tmp_path / "g1", "JS00001", "426177001,164934002", sex="Male", age="70")
    write_cinc(tmp_path / "g1", "JS00002", "164889003", units="uV", seed=1)
    with pytest.warns(DatasetWarning, match="JS00003.hea"):
        write_cinc(tmp_path / "g2", "JS00003", "164934002")  # no rhythm code at all
        s = datasets.load("chapman", tmp_path)
    assert len(s) == 3
    rec = s.records.set_index("record_id")
    assert rec.loc["JS00001", "rhythm"] == "SB" and rec.loc["JS00002", "rhythm"] == "AFIB"
    assert np.isnan(rec.loc["JS00003", "rhythm"])
    assert rec.loc["JS00001", "female"] == 0 and rec.loc["JS00002", "female"] == 1
    r0 = s[0]
    assert r0.channels == LEADS and r0.fs["II"] == 500 and r0.labels["age"] == 70
    np.testing.assert_allclose(r0.signals["II"], x[:, 1], atol=1e-3)
    r1 = s[1]  # written in uV: the loader hands back mV
    assert r1.units["II"] == "mV" and np.abs(r1.signals["II"]).max() < 0.01
    assert s.info["tasks"]["rhythm"]["classes"][:3] == ["SB", "SR", "AFIB"]


def test_georgia_scored_classes_and_malformed_files(tmp_path):
    write_cinc(tmp_path, "E00001", "59118001,426783006")
    write_cinc(tmp_path, "E00002", "713427006,164889003", seed=2)
    s = datasets.load("georgia", tmp_path)
    cols = s.info["tasks"]["diagnosis"]["columns"]
    assert cols == ["dx_AF", "dx_CRBBB", "dx_NSR"]  # CRBBB/RBBB merged as the challenge scores them
    assert s.records["dx_CRBBB"].tolist() == [1, 1]
    # truncated signal file
    dat = tmp_path / "E00002.dat"
    dat.write_bytes(dat.read_bytes()[:1000])
    with pytest.raises(DatasetError, match=r"E00002.dat: truncated"):
        s[1]
    # header/data length mismatch: the header promises fewer samples than the file holds
    hea = tmp_path / "E00001.hea"
    hea.write_text(hea.read_text().replace("E00001 12 500 1000", "E00001 12 500 900"))
    with pytest.raises(DatasetError, match=r"E00001.dat: header/data length mismatch"):
        datasets.load("georgia", tmp_path)[0]
    # unknown (non-SNOMED) label code
    write_cinc(tmp_path, "E00003", "426783006,AFIB")
    with pytest.raises(DatasetError, match=r"E00003.hea: Dx code 'AFIB'"):
        datasets.load("georgia", tmp_path)


def test_nan_runs_are_reported_with_file_and_channel(tmp_path):
    x = np.random.default_rng(0).normal(0, 0.5, (1000, 12))
    x[100:300, 1] = np.nan
    wfdb.wrsamp(
        "E00009",
        fs=500,
        units=["mV"] * 12,
        sig_name=LEADS,
        p_signal=x,
        fmt=["16"] * 12,
        write_dir=str(tmp_path),
        comments=["Age: 50", "Sex: Male", "Dx: 426783006"],
    )
    s = datasets.load("georgia", tmp_path)
    with pytest.warns(DatasetWarning, match=r"E00009: channel 'II' has 200 NaN samples"):
        rec = s[0]
    assert np.isnan(rec.signals["II"][100:300]).all() and not np.isnan(rec.signals["I"]).any()


def test_cpsc2018_cinc_and_original_layouts(tmp_path):
    write_cinc(tmp_path / "cinc", "A0001", "164884008,429622005")
    s = datasets.load("cpsc2018", tmp_path / "cinc")
    assert s.records.loc[0, ["dx_PVC", "dx_STD", "dx_NORM"]].tolist() == [1, 1, 0]
    assert len(s.info["tasks"]["diagnosis"]["columns"]) == 9

    from scipy.io import savemat

    orig = tmp_path / "orig"
    orig.mkdir()
    data = np.random.default_rng(0).normal(0, 0.3, (12, 2500))
    savemat(orig / "A0001.mat", {"ECG": {"sex": "Female", "age": 61, "data": data}})
    savemat(orig / "A0002.mat", {"ECG": {"sex": "Male", "age": 40, "data": data[:, :1000]}})
    pd.DataFrame(
        {
            "Recording": ["A0001", "A0002"],
            "First_label": [2, 1],
            "Second_label": [9, None],
            "Third_label": [None, None],
        }
    ).to_csv(orig / "REFERENCE.csv", index=False)
    s = datasets.load("cpsc2018", orig)
    assert s.records.loc[0, ["dx_AF", "dx_STE", "dx_NORM"]].tolist() == [1, 1, 0]
    r = s[0]
    assert r.channels == LEADS and r.labels["sex"] == "F" and r.labels["age"] == 61
    np.testing.assert_allclose(r.signals["V6"], data[11])
    pd.DataFrame({"Recording": ["A0001"], "First_label": [12]}).to_csv(orig / "REFERENCE.csv", index=False)
    with pytest.raises(DatasetError, match=r"REFERENCE.csv: record A0001 has unknown label code '12'"):
        datasets.load("cpsc2018", orig)


def test_csn_condition_table_and_unknown_code(tmp_path):
    root = tmp_path / "csn"
    write_cinc(root / "WFDBRecords" / "01" / "010", "JS00001", "426177001,164889003", hash_style="#")
    write_cinc(root / "WFDBRecords" / "01" / "010", "JS00002", "426177001,999999999", hash_style="#")
    pd.DataFrame(
        {
            "Acronym Name": ["SB", "AFIB"],
            "Full Name": ["Sinus Bradycardia", "Atrial Fibrillation"],
            "Snomed_CT": ["426177001", "164889003"],
        }
    ).to_csv(root / "ConditionNames_SNOMED-CT.csv", index=False)
    with pytest.warns(DatasetWarning, match=r"JS00002.hea has Dx code 999999999"):
        s = datasets.load("csn", root)
    assert s.records["dx_SB"].tolist() == [1, 1] and s.records["dx_AFIB"].tolist() == [1, 0]
    assert s.records["age"].tolist() == [63, 63] and s[1].labels["dx"] == ["426177001", "999999999"]


def _parse_header(path: Path) -> dict:
    """Independent reading of a CinC header: first line, signal lines and # comments."""
    lines = path.read_text().splitlines()
    rid, nsig, fs, n = lines[0].split()[:4]
    leads = [ln.split()[-1] for ln in lines[1 : 1 + int(nsig)]]
    meta = {}
    for ln in lines[1 + int(nsig) :]:
        if ln.startswith("#") and ":" in ln:
            key, value = ln.lstrip("# ").split(":", 1)
            meta[key.strip()] = value.strip()
    return {"rid": rid, "fs": float(fs), "n": int(n), "leads": leads, **meta}


def test_real_cinc2021_headers_come_out_exactly(real_samples):
    root = real_samples / "cinc2021"
    with pytest.warns(DatasetWarning):  # PTB-XL / Georgia records carry no Chapman rhythm code
        s = datasets.load("chapman", root)
    assert len(s) == 50
    assert {r[:2] for r in s.records["record_id"]} == {"HR", "E0", "JS"}
    for i, row in s.records.iterrows():
        h = _parse_header(root / f"{row['record_id']}.hea")
        assert row["leads"].split(";") == h["leads"] and row["fs"] == h["fs"] and row["n_samples"] == h["n"]
        assert row["dx"].split(";") == h["Dx"].split(",")
        assert row["sex"] == {"Male": "M", "Female": "F"}[h["Sex"]]
        assert row["age"] == float(h["Age"])
        if i % 10 == 0:  # read a sample of signals fully
            rec = s[i]
            assert rec.channels == h["leads"]
            assert all(len(v) == h["n"] and rec.fs[k] == h["fs"] for k, v in rec.signals.items())
            assert all(np.nanmax(np.abs(v)) < 30 for v in rec.signals.values())  # mV, not raw ADC counts
    with pytest.warns(DatasetWarning, match="carry none of the task's label codes"):
        g = datasets.load("georgia", root)
    assert set(g.records.columns) >= {"dx_NSR", "dx_TAb"}


def test_georgia_pinned_to_synecos_22_classes(tmp_path):
    from physiofm.datasets.georgia import SYNECO_CLASSES

    assert len(SYNECO_CLASSES) == 22 and not {"PR", "LPR"} & set(SYNECO_CLASSES)
    write_cinc(tmp_path, "E00001", "59118001,426783006")
    write_cinc(tmp_path, "E00002", "713427006,164889003", seed=2)
    s = datasets.load("georgia", tmp_path, classes=SYNECO_CLASSES)
    cols = s.info["tasks"]["diagnosis"]["columns"]
    assert cols == [f"dx_{c}" for c in SYNECO_CLASSES]  # every class, with or without positives here
    assert s.records["dx_CRBBB"].tolist() == [1, 1] and s.records["dx_IAVB"].tolist() == [0, 0]
    with pytest.raises(ValueError, match="not CinC 2020 scored classes"):
        datasets.load("georgia", tmp_path, classes=["AF", "MI"])


def test_georgia_22_classes_on_real_records(real_samples):
    from physiofm.datasets.georgia import SYNECO_CLASSES

    root = real_samples / "cinc2021"
    with pytest.warns(DatasetWarning):  # the PTB-XL and Chapman records there carry no Georgia code
        g = datasets.load("georgia", root, classes=SYNECO_CLASSES)
    assert len(g.info["tasks"]["diagnosis"]["columns"]) == 22
    georgia = g.records[g.records["record_id"].str.startswith("E0")]
    assert georgia[[f"dx_{c}" for c in SYNECO_CLASSES]].to_numpy().sum() > 0
