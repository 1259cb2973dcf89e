"""Each loader's LAYOUT declaration agrees with its docstring, and ``datasets.check`` reports every kind
of broken root (absent folder, absent file, unreadable record, wrong rate, bad option) with what is
missing."""

from __future__ import annotations

import re
from importlib import import_module
from pathlib import Path

import pytest
from test_ds_icu import write_mimic3, write_segment, write_vtac
from test_ds_registry_cinc import write_cinc

from physiofm import datasets
from physiofm.datasets._layout import bound_options, doc_paths, layouts_of


def _module(name: str):
    return import_module(f"physiofm.datasets.{name}")


def _materialise(root: Path, rel: str) -> None:
    """Create the file a docstring path names (``**/`` as no folder at all)."""
    path = root / rel.replace("**/", "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def _globs(root: Path, pattern: str) -> bool:
    return next(iter(root.glob(re.sub(r"\{\w+\}", "*", pattern))), None) is not None


@pytest.mark.parametrize("name", datasets.names())
def test_every_file_a_layout_declares_is_named_in_the_loader_docstring(name):
    doc = _module(name).__doc__
    named = doc_paths(doc)
    for layout in layouts_of(name):
        for spec in layout.resolve(bound_options(name, {})).files:
            assert spec.example in named or f"root/{spec.example}" in doc, (name, spec.example)


@pytest.mark.parametrize("name", datasets.names())
def test_every_file_the_docstring_names_is_declared_and_found_by_its_pattern(name, tmp_path):
    layouts = layouts_of(name)
    patterns = [f.pattern for lay in layouts for f in lay.files] + [p for lay in layouts for p in lay.ignored]
    for i, rel in enumerate(doc_paths(_module(name).__doc__)):
        root = tmp_path / f"doc{i}"
        _materialise(root, rel)
        assert any(_globs(root, p) for p in patterns), f"{name}: docstring path {rel} matches no pattern"
    for j, spec in enumerate(f for lay in layouts for f in lay.files):
        root = tmp_path / f"spec{j}"
        _materialise(root, spec.example)
        assert _globs(root, spec.pattern), f"{name}: {spec.pattern} does not find its example {spec.example}"


def test_check_of_a_whole_mimic3_copy_is_ok(tmp_path):
    write_mimic3(tmp_path)
    c = datasets.check("mimic3_wave", tmp_path)  # the loader's warnings are kept, not raised
    assert c.ok and c.record == "p000020/3544749_0001" and c.records == 2
    assert any("3544749_0002.hea lacks ['ppg']" in w for w in c.warnings)


def test_check_lists_an_absent_folder_and_every_absent_file(tmp_path):
    c = datasets.check("vtac", tmp_path / "vtac")
    assert (c.status, c.missing) == ("missing", [f"{tmp_path / 'vtac'}/"])
    assert "does not exist" in c.message
    write_vtac(tmp_path)
    (tmp_path / "benchmark_data_split.csv").unlink()
    c = datasets.check("vtac", tmp_path)
    assert (c.status, c.missing) == ("missing", ["benchmark_data_split.csv"])
    c = datasets.check("ptbxl", tmp_path, sampling_rate=100)
    assert c.status == "missing"
    assert c.missing == ["ptbxl_database.csv", "scp_statements.csv",
                         "records100/*/*.hea", "records100/*/*.dat"]


def test_check_names_both_layouts_of_a_two_layout_loader(tmp_path):
    (tmp_path / "REFERENCE.csv").write_text("Recording,First_label\n")
    c = datasets.check("cpsc2018", tmp_path)
    assert c.status == "missing"
    assert c.missing == ["original: **/A*.mat", "CinC: **/*.hea"]


def test_check_reports_an_unreadable_record_with_its_file(tmp_path):
    d = write_mimic3(tmp_path)
    dat = d / "3544749_0001.dat"
    dat.write_bytes(dat.read_bytes()[:-100])
    c = datasets.check("mimic3_wave", tmp_path)
    assert c.status == "unreadable" and c.record == "p000020/3544749_0001"
    assert "3544749_0001.dat: truncated signal file" in c.message


def test_check_reports_wrong_rates_channels_options_and_no_record(tmp_path):
    write_cinc(tmp_path / "g1", "JS00001", "426783006", fs=250)
    c = datasets.check("chapman", tmp_path)
    assert c.status == "wrong" and "I at 250 Hz (expected 500 Hz)" in c.message
    c = datasets.check("chapman", tmp_path, min_count=3)
    assert c.status == "wrong" and "unexpected keyword argument 'min_count'" in c.message
    mimic = tmp_path / "mimic"
    write_mimic3(mimic)
    c = datasets.check("mimic3_wave", mimic, min_duration_s=3600)
    assert c.status == "wrong" and c.records == 0 and "finds no record" in c.message


def test_check_of_a_record_without_a_declared_channel_is_wrong(tmp_path):
    write_vtac(tmp_path)
    (tmp_path / "waveforms" / "r1" / "e1.hea").write_text(
        (tmp_path / "waveforms" / "r1" / "e1.hea").read_text().replace(" V\n", " AVR\n"))
    c = datasets.check("vtac", tmp_path)
    assert c.status == "wrong" and c.missing == ["ecg_v"] and c.record == "e1"


def test_check_of_a_large_layout_reads_subject_folders_until_one_has_a_record(tmp_path):
    write_mimic3(tmp_path)
    (tmp_path / "p00" / "p000001").mkdir()                  # no master at all: skipped
    d = tmp_path / "p00" / "p000002"                         # one segment, without PLETH: no record
    d.mkdir()
    write_segment(d, "1000001_0001", ["II", "V"], 500)
    (d / "p000002-2150-01-01-00-00.hea").write_text(
        "p000002-2150-01-01-00-00/1 2 125 500\n1000001_0001 500\n")
    c = datasets.check("mimic3_wave", tmp_path)
    assert c.ok and c.indexed == tmp_path / "p00" / "p000020" and c.record == "p000020/3544749_0001"
    assert any("1000001_0001.hea lacks ['ppg']" in w for w in c.warnings)
