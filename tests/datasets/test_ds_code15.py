"""The ``code15`` loader on HDF5 parts and an exams.csv written here in CODE-15%'s published layout."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from physiofm import datasets
from physiofm.datasets import DatasetError, DatasetWarning

COLUMNS = ["exam_id", "age", "is_male", "nn_predicted_age", "1dAVb", "RBBB", "LBBB", "SB", "ST", "AF",
           "patient_id", "death", "timey", "normal_ecg", "trace_file"]
LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]


def exam(n_real: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A (4096, 12) tracing with ``n_real`` centred samples of signal (mV) and zeros around it."""
    real = np.random.default_rng(seed).normal(0, 0.4, (n_real, 12)).astype(np.float32)
    real[0] += 1.0  # no lead is exactly zero at the first or last real sample
    real[-1] -= 1.0
    x = np.zeros((4096, 12), np.float32)
    pad = (4096 - n_real) // 2
    x[pad : pad + n_real] = real
    return x, real


def write_part(path: Path, ids: list[int], tracings: list[np.ndarray], filler: bool = True, **skip) -> None:
    with h5py.File(path, "w") as f:
        t = np.stack(tracings + ([np.zeros((4096, 12), np.float32)] if filler else []))
        e = np.array(ids + ([0] if filler else []), dtype=np.int64)
        if not skip.get("no_tracings"):
            f.create_dataset("tracings", data=t)
        f.create_dataset("exam_id", data=e)


def write_csv(root: Path, rows: list[dict]) -> None:
    pd.DataFrame(rows, columns=COLUMNS).to_csv(root / "exams.csv", index=False)


def row(exam_id: int, patient: int, part: int, male: bool = True, first: bool = True, **labels) -> dict:
    base = {c: False for c in ("1dAVb", "RBBB", "LBBB", "SB", "ST", "AF")} | labels
    return {"exam_id": exam_id, "age": 61, "is_male": male, "nn_predicted_age": 58.2, **base,
            "patient_id": patient, "death": False if first else None, "timey": 6.1 if first else None,
            "normal_ecg": not any(labels.values()), "trace_file": f"exams_part{part}.hdf5"}


@pytest.fixture
def code15(tmp_path: Path) -> tuple[Path, dict[int, np.ndarray]]:
    real = {}
    tracings = {}
    for exam_id, n, seed in [(101, 4000, 0), (102, 2800, 1), (103, 4000, 2), (201, 4000, 3), (202, 2800, 4)]:
        tracings[exam_id], real[exam_id] = exam(n, seed)
    write_part(tmp_path / "exams_part0.hdf5", [101, 102, 103], [tracings[i] for i in (101, 102, 103)])
    write_part(tmp_path / "exams_part1.hdf5", [201, 202], [tracings[i] for i in (201, 202)])
    write_csv(tmp_path, [row(101, 7, 0), row(102, 7, 0, first=False, RBBB=True), row(103, 8, 0, male=False),
                         row(201, 9, 1, AF=True), row(202, 10, 1)])
    return tmp_path, real


def test_records_labels_and_stripped_padding(code15) -> None:
    root, real = code15
    s = datasets.load("code15", root)
    assert len(s) == 5 and "0" not in set(s.records["record_id"])  # the filler row of every part is skipped
    assert list(s.records["record_id"]) == ["101", "102", "103", "201", "202"]
    assert list(s.records["subject_id"]) == ["7", "7", "8", "9", "10"]
    assert list(s.records["female"]) == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert list(s.records["RBBB"]) == [0, 1, 0, 0, 0] and list(s.records["AF"]) == [0, 0, 0, 1, 0]
    assert list(s.records["normal_ecg"]) == [1, 0, 1, 0, 1]
    assert s.records["death"].isna().tolist() == [False, True, False, False, False]  # first exam only
    assert s.info["tasks"]["abnormalities"]["columns"] == ["1dAVb", "RBBB", "LBBB", "SB", "ST", "AF"]
    for i, exam_id in enumerate([101, 102, 103, 201, 202]):
        rec = s[i]
        assert rec.channels == LEADS and set(rec.fs.values()) == {400.0} and set(rec.units.values()) == {"mV"}
        n = len(real[exam_id])
        pad = (4096 - n) // 2
        assert rec.meta["span"] == (pad, pad + n) and pad in (48, 648)
        for j, lead in enumerate(LEADS):
            np.testing.assert_allclose(rec.signals[lead], real[exam_id][:, j], rtol=0, atol=1e-7)
        assert rec.duration() == pytest.approx(n / 400)
    assert s[1].labels["RBBB"] == 1 and s[2].labels["female"] == 1.0


def test_unit_option_scales_to_mv(code15) -> None:
    root, real = code15
    s = datasets.load("code15", root, unit="uV")
    np.testing.assert_allclose(s[0].signals["II"], real[101][:, 1] * 1e-3, atol=1e-9)
    with pytest.raises(DatasetError, match="cannot be converted to mV"):
        datasets.load("code15", root, unit="counts")[0]


def test_missing_tracings_dataset_names_the_file(code15) -> None:
    root, _ = code15
    x, _ = exam(4000, 9)
    write_part(root / "exams_part2.hdf5", [301], [x], no_tracings=True)
    with pytest.raises(DatasetError, match=r"exams_part2\.hdf5: dataset 'tracings' missing"):
        datasets.load("code15", root)


def test_exam_not_in_csv_is_dropped_with_a_warning(code15) -> None:
    root, _ = code15
    x, _ = exam(4000, 9)
    write_part(root / "exams_part2.hdf5", [999], [x])
    with pytest.warns(DatasetWarning, match=r"exams_part2\.hdf5: 1 exam\(s\) not in exams.csv.*999"):
        s = datasets.load("code15", root)
    assert len(s) == 5


def test_csv_exam_missing_from_its_file_warns(code15) -> None:
    root, _ = code15
    rows = pd.read_csv(root / "exams.csv").to_dict("records") + [row(104, 11, 0)]
    write_csv(root, rows)
    with pytest.warns(DatasetWarning, match=r"exams_part0\.hdf5: 1 exam\(s\) that exams.csv places"):
        assert len(datasets.load("code15", root)) == 5


def test_nan_samples_warn_and_all_zero_tracings_raise(code15) -> None:
    root, _ = code15
    x, _ = exam(4000, 9)
    x[1000:1010, 3] = np.nan
    write_part(root / "exams_part2.hdf5", [301, 302], [x, np.zeros((4096, 12), np.float32)])
    rows = pd.read_csv(root / "exams.csv").to_dict("records") + [row(301, 12, 2), row(302, 13, 2)]
    write_csv(root, rows)
    s = datasets.load("code15", root)
    with pytest.warns(DatasetWarning, match=r"exam_id 301.*'aVR' has 10 NaN samples"):
        rec = s[5]
    assert np.isnan(rec.signals["aVR"]).sum() == 10 and len(rec.signals["aVR"]) == 4000
    with pytest.raises(DatasetError, match=r"exams_part2\.hdf5 exam_id 302 \(row 1\): tracing is all zeros"):
        s[6]


def test_layout_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="exams.csv: CODE-15% exam table not found"):
        datasets.load("code15", tmp_path)
    write_csv(tmp_path, [row(101, 7, 0)])
    with pytest.raises(FileNotFoundError, match="no exams_part<i>.hdf5"):
        datasets.load("code15", tmp_path)
    pd.DataFrame({"exam_id": [1], "age": [3]}).to_csv(tmp_path / "exams.csv", index=False)
    with pytest.raises(DatasetError, match=r"column\(s\) \['patient_id', 'is_male'\] missing"):
        datasets.load("code15", tmp_path)
    write_csv(tmp_path, [row(101, 7, 0), row(102, None, 0)])
    with pytest.raises(DatasetError, match="exam_id 102 has no patient_id"):
        datasets.load("code15", tmp_path)
    write_csv(tmp_path, [row(101, 7, 0)])
    with h5py.File(tmp_path / "exams_part0.hdf5", "w") as f:
        f.create_dataset("tracings", data=np.zeros((2, 4096, 8), np.float32))
        f.create_dataset("exam_id", data=np.array([101, 0]))
    with pytest.raises(DatasetError, match=r"'tracings' has shape \(2, 4096, 8\)"):
        datasets.load("code15", tmp_path)
