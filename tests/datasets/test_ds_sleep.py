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
    assert len(s) == 1 and s.records.loc[0, "old"] == 1 and s.records.loc[0, "female"] == 1
    rec = s[0]
    assert rec.channels == CHANNELS and rec.fs["ECG"] == FS and rec.units["ECG"] == "mV"
    assert rec.units["F3-M2"] == "uV" and np.abs(rec.signals["ECG"]).max() < 1  # 20 uV noise in mV
    ann = rec.annotations
    assert ann["onset"].tolist() == [0.0, 30.0, 60.0, 90.0]
    np.testing.assert_array_equal(ann["stage_code"], [0, 2, np.nan, np.nan])
    assert ann["stage"].tolist()[:2] == ["W", "N2"] and ann["stage"].isna().tolist()[2:] == [True, True]
    assert rec.labels["challenge_split"] == "training" and rec.labels["old"] == 1
    np.testing.assert_array_equal(ann["arousal"], [0, 1, 0, np.nan])
    s_all = datasets.load("physionet2018", tmp_path, split="all")
    assert s_all.records["split"].tolist() == ["training", "test"]
    assert s_all.records.loc[1, "old"] == 0 and s_all[1].annotations is None
    assert s_all[1].labels["challenge_split"] == "test"


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


def test_physionet2018_arousal_rules_on_a_hand_built_vector():
    from physiofm.datasets.physionet2018 import epoch_arousal

    fs = 10.0  # 300 samples per 30-s epoch
    ar = np.zeros(6 * 300)
    ar[290:320] = 1  # 1 s at the end of epoch 0, 2 s at the start of epoch 1
    ar[600 + 100 : 600 + 200] = 1  # epoch 2: 10 s covering the centre (sample 150)
    ar[900 + 10 : 900 + 50] = 1  # epoch 3: 4 s away from the centre
    ar[1200:1500] = -1  # epoch 4: not scored
    ar[1500:1650] = -1  # epoch 5: first half unscored, centre scored
    ar[1700:1720] = 1  # ... with 2 s of arousal after the centre
    any_ = epoch_arousal(ar, fs, "any")
    np.testing.assert_array_equal(any_, [1, 1, 1, 1, np.nan, 1])
    np.testing.assert_array_equal(epoch_arousal(ar, fs, "min_overlap", 3.0), [0, 0, 1, 1, np.nan, 0])
    np.testing.assert_array_equal(epoch_arousal(ar, fs, "min_overlap", 1.5), [0, 1, 1, 1, np.nan, 1])
    np.testing.assert_array_equal(epoch_arousal(ar, fs, "centre"), [0, 0, 1, 0, np.nan, 0])
    np.testing.assert_array_equal(epoch_arousal(ar[:-1], fs, "any"), any_[:5])  # partial epoch dropped
    with pytest.raises(ValueError, match="arousal_rule must be one of"):
        epoch_arousal(ar, fs, "majority")
    with pytest.raises(ValueError, match="arousal_min_overlap_s must be in"):
        epoch_arousal(ar, fs, "min_overlap", 0.0)


def test_physionet2018_arousal_rule_option_and_seconds_column(tmp_path):
    path, n = write_record(tmp_path, "tr03-0008", epochs=2)
    stages = {"nonrem2": np.ones(n), "undefined": np.zeros(n)}
    arousal = np.zeros(n)
    arousal[6000 - 2 * FS : 6000 + 4 * FS] = 1  # 2 s in epoch 0, 4 s in epoch 1, neither at a centre
    write_arousal(Path(str(path) + "-arousal.mat"), stages, arousal)
    demo = pd.DataFrame({"Record": ["tr03-0008"], "Age": [70], "Sex": ["M"]})
    demo.to_csv(tmp_path / "age-sex.csv", index=False)
    ann = datasets.load("physionet2018", tmp_path)[0].annotations
    np.testing.assert_array_equal(ann["arousal_s"], [2.0, 4.0])
    np.testing.assert_array_equal(ann["arousal_centre"], [0, 0])
    np.testing.assert_array_equal(ann["arousal"], [1, 1])
    from physiofm.datasets.physionet2018 import arousal_rule_rates

    rates = arousal_rule_rates(ann)
    assert rates.to_dict() == {"any": 1.0, "min_overlap_3s": 0.5, "centre": 0.0}
    ann = datasets.load("physionet2018", tmp_path, arousal_rule="min_overlap")[0].annotations
    np.testing.assert_array_equal(ann["arousal"], [0, 1])
    ann = datasets.load("physionet2018", tmp_path, arousal_rule="centre")[0].annotations
    np.testing.assert_array_equal(ann["arousal"], [0, 0])
    with pytest.raises(ValueError, match="arousal_rule must be one of"):
        datasets.load("physionet2018", tmp_path, arousal_rule="half")


def test_physionet2018_any_rule_matches_the_synthetic_psg_labels():
    """The synthetic PSG cohort labels an epoch 1 when an arousal lies in it: the loader's "any" rule."""
    from physiofm.datasets.physionet2018 import epoch_arousal
    from physiofm.synthetic import psg_cohort

    cohort = psg_cohort(3, seed=0, hours=1.0, arousal_fraction=0.1)
    fs = cohort.info["fs"]["ECG"]
    events = cohort.events[cohort.events["kind"] == "arousal"]
    for rid, labels in cohort.labels.groupby("record_id"):
        vector = np.zeros(int(len(labels) * 30 * fs))
        for onset, dur in events.loc[events["record_id"] == rid, ["onset", "duration"]].to_numpy():
            vector[int(onset * fs) : int((onset + dur) * fs)] = 1
        np.testing.assert_array_equal(epoch_arousal(vector, fs, "any"), labels["arousal"].to_numpy())
        assert labels["arousal"].sum() > 0


def test_physionet2018_columns_match_the_synthetic_psg_cohort(tmp_path):
    """Loader and built-in cohort give the same task columns: stage names and codes, ``old``, ``arousal``."""
    from physiofm.synthetic import psg_cohort

    path, n = write_record(tmp_path, "tr03-0005", epochs=5)
    e = 30 * FS
    stages = {k: np.zeros(n) for k in ("wake", "nonrem1", "nonrem2", "nonrem3", "rem", "undefined")}
    for i, k in enumerate(("wake", "nonrem1", "nonrem2", "nonrem3", "rem")):
        stages[k][i * e : (i + 1) * e] = 1
    write_arousal(Path(str(path) + "-arousal.mat"), stages, np.zeros(n))
    pd.DataFrame({"Record": ["tr03-0005"], "Age": [55], "Sex": ["F"]}).to_csv(tmp_path / "age-sex.csv",
                                                                             index=False)
    rec = datasets.load("physionet2018", tmp_path)[0]
    cohort = psg_cohort(1, seed=0, hours=0.5)
    synthetic = cohort.recordings[0]
    for col in ("stage", "stage_code", "arousal"):
        assert col in rec.annotations and col in synthetic.annotations
    assert "old" in rec.labels and "old" in synthetic.labels and rec.labels["old"] == 1  # 55 counts as >= 55
    names = dict(zip(rec.annotations["stage_code"], rec.annotations["stage"], strict=True))
    for code, name in zip(synthetic.annotations["stage_code"], synthetic.annotations["stage"], strict=True):
        assert names[code] == name
    info = datasets.load("physionet2018", tmp_path).info["tasks"]
    assert {k: v["columns"] for k, v in info.items()} == {"sleep": ["stage_code"], "age": ["old"],
                                                          "arousal": ["arousal"]}
