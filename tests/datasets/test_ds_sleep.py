"""PhysioNet/CinC 2018 loader: WFDB signals, MATLAB v7.3 -arousal.mat stages/arousals, age-sex table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb

from physiofm import datasets
from physiofm.datasets import DatasetError, DatasetWarning

FS = 200
CHANNELS = ["F3-M2", "E1-M2", "Chin1-Chin2", "ECG"]


def write_arousal(path: Path, stages: dict[str, np.ndarray], arousals: np.ndarray) -> None:
    import h5py

    with h5py.File(path, "w", userblock_size=512) as f:
        f.create_dataset("data/arousals", data=arousals.reshape(1, -1))
        for name, mask in stages.items():
            f.create_dataset(f"data/sleep_stages/{name}", data=mask.reshape(1, -1).astype(float))


def write_record(root: Path, rid: str, epochs: int, split: str = "training") -> tuple[Path, int]:
    d = root / split / rid
    d.mkdir(parents=True)
    n = epochs * 30 * FS
    x = np.random.default_rng(0).normal(0, 20, (n, len(CHANNELS)))
    wfdb.wrsamp(
        rid,
        fs=FS,
        units=["uV", "uV", "uV", "uV"],
        sig_name=CHANNELS,
        p_signal=x,
        fmt=["16"] * 4,
        write_dir=str(d),
    )
    return d / rid, n


def test_physionet2018_epochs_stages_arousals_and_demographics(tmp_path):
    path, n = write_record(tmp_path, "tr03-0005", epochs=4)
    e = 30 * FS
    names = ["wake", "nonrem1", "nonrem2", "nonrem3", "rem", "undefined"]
    stages = {k: np.zeros(n) for k in names}
    stages["wake"][:e] = 1
    stages["nonrem2"][e : 2 * e] = 1
    stages["rem"][2 * e : 3 * e - 100] = 1  # epoch 3 mixes REM and undefined
    stages["undefined"][3 * e - 100 :] = 1
    arousal = np.zeros(n)
    arousal[e + 10 : e + 400] = 1
    arousal[3 * e :] = -1  # not scored
    write_arousal(Path(str(path) + "-arousal.mat"), stages, arousal)
    write_record(tmp_path, "te03-0001", epochs=1, split="test")
    pd.DataFrame({"Record": ["tr03-0005", "te03-0001"], "Age": [60, 40], "Sex": ["F", "M"]}).to_csv(
        tmp_path / "age-sex.csv", index=False
    )
    s = datasets.load("physionet2018", tmp_path)
    assert len(s) == 1 and s.records.loc[0, "age_under_55"] == 0 and s.records.loc[0, "female"] == 1
    rec = s[0]
    assert rec.channels == CHANNELS and rec.fs["ECG"] == FS and rec.units["ECG"] == "mV"
    assert rec.units["F3-M2"] == "uV" and np.abs(rec.signals["ECG"]).max() < 1  # 20 uV noise in mV
    ann = rec.annotations
    assert ann["onset"].tolist() == [0.0, 30.0, 60.0, 90.0]
    np.testing.assert_array_equal(ann["stage"], [0, 2, np.nan, np.nan])
    assert ann["stage_name"].tolist()[:2] == ["W", "N2"]
    np.testing.assert_array_equal(ann["arousal"], [0, 1, 0, np.nan])
    s_all = datasets.load("physionet2018", tmp_path, split="all")
    assert s_all.records["split"].tolist() == ["training", "test"]
    assert s_all.records.loc[1, "age_under_55"] == 1 and s_all[1].annotations is None


def test_physionet2018_malformed_arousal_files(tmp_path):
    path, n = write_record(tmp_path, "tr03-0006", epochs=2)
    pd.DataFrame({"Record": ["tr03-0007"], "Age": [50], "Sex": ["M"]}).to_csv(
        tmp_path / "age-sex.csv", index=False
    )
    with pytest.warns(DatasetWarning, match=r"tr03-0006.hea: record tr03-0006 has no row in age-sex.csv"):
        s = datasets.load("physionet2018", tmp_path)
    with pytest.warns(DatasetWarning, match=r"tr03-0006-arousal.mat: missing"):
        assert s[0].annotations is None
    arousal_file = Path(str(path) + "-arousal.mat")
    write_arousal(arousal_file, {"wake": np.ones(n - 10), "undefined": np.zeros(n - 10)}, np.zeros(n - 10))
    with pytest.raises(
        DatasetError, match=r"tr03-0006-arousal.mat: 11990 samples of sleep stages, signal has 12000"
    ):
        s[0]
    arousal_file.unlink()
    write_arousal(arousal_file, {"wake": np.ones(n), "rem": np.ones(n)}, np.zeros(n))
    with pytest.raises(
        DatasetError, match=r"tr03-0006-arousal.mat: 12000 samples carry more than one sleep stage"
    ):
        s[0]
    arousal_file.unlink()
    write_arousal(arousal_file, {"wake": np.ones(n), "deep": np.zeros(n)}, np.zeros(n))
    with pytest.raises(DatasetError, match=r"unknown sleep stage 'deep'"):
        s[0]
