"""The one atomic I/O module: whole files or nothing, work folders keyed by their config, cached tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from physiofm import io


def test_atomic_writes_leave_the_old_file_on_failure(tmp_path) -> None:
    path = io.write_text(tmp_path / "a" / "x.txt", "old")
    with pytest.raises(RuntimeError):
        io.atomic_write_bytes(path, lambda f: (f.write(b"half"), (_ for _ in ()).throw(RuntimeError("boom"))))
    assert path.read_text() == "old" and sorted(p.name for p in path.parent.iterdir()) == ["x.txt"]
    io.write_json(tmp_path / "j.json", {"a": np.float32(1.5)})
    assert io.read_json(tmp_path / "j.json") == {"a": "1.5"}
    df = pd.DataFrame({"x": [1, 2]})
    pd.testing.assert_frame_equal(pd.read_parquet(io.write_parquet(df, tmp_path / "t.parquet")), df)
    arrays = io.read_arrays(io.write_arrays(tmp_path / "e.npz", {"in:ecg": np.ones((2, 3), np.float32)}))
    assert list(arrays) == ["in:ecg"] and arrays["in:ecg"].shape == (2, 3)
    with pytest.raises(FileNotFoundError, match="nope.json"):
        io.read_json(tmp_path / "nope.json")


def test_work_folders_follow_their_config(tmp_path) -> None:
    d = tmp_path / "work"
    assert io.fresh_dir(d, {"a": 1}) is False
    (d / "part").write_text("half done")
    assert io.fresh_dir(d, {"a": 1}) is False and (d / "part").is_file()  # same config: resume
    io.mark_done(d)
    assert io.fresh_dir(d, {"a": 1}) is True  # finished
    assert io.fresh_dir(d, {"a": 2}) is False and not (d / "part").exists()  # another config: wiped


def test_cached_frames_and_folders(tmp_path) -> None:
    calls = []

    def compute():
        calls.append(1)
        return {"t": pd.DataFrame({"v": [1.0, 2.0]}, index=["a", "b"])}

    first = io.cached_frames(tmp_path / "c", {"k": 1}, compute)
    again = io.cached_frames(tmp_path / "c", {"k": 1}, compute)
    assert len(calls) == 1 and again["t"]["v"].tolist() == [1.0, 2.0] and list(again["t"].index) == ["a", "b"]
    io.cached_frames(tmp_path / "c", {"k": 2}, compute)
    assert len(calls) == 2 and first["t"].equals(compute()["t"])
    folder = io.write_dir(tmp_path / "entry", lambda tmp: io.write_text(tmp / "f.txt", "x"))
    assert (folder / "f.txt").read_text() == "x"
    io.write_dir(tmp_path / "entry", lambda tmp: io.write_text(tmp / "f.txt", "y"))  # a later writer loses
    assert (folder / "f.txt").read_text() == "x"
