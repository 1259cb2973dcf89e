"""The real samples assembled as a ``--data-root`` (:mod:`realdata`): links to the samples plus layout
metadata only; every stand-in loads through :func:`physiofm.datasets.load` with the channels, rates and
labels its sample headers state; and the paper-profile preflight reports ok for the stand-ins, ``wrong``
where the paper's options leave no sample record, and the missing folder for every other source."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest
import wfdb

from physiofm import datasets
from physiofm.datasets import DatasetWarning
from physiofm.preflight import preflight

LONGEST_SAMPLE_S = 330.0  # a103l; every ICU sample is shorter than SyneCo's 10-min minimum


def _rates(hea: Path) -> dict[str, float]:
    """Channel -> rate (Hz) straight from a sample header: frame rate x samples per frame."""
    h = wfdb.rdheader(str(hea.with_suffix("")))
    spf = h.samps_per_frame or [1] * h.n_sig
    return {name: float(h.fs) * k for name, k in zip(h.sig_name, spf)}


def test_the_root_holds_links_to_the_samples_and_only_layout_metadata(real_data_root, real_samples):
    samples = real_samples.resolve()
    files = [p for p in real_data_root.root.rglob("*") if p.is_file()]
    generated = set(real_data_root.generated)
    assert {p.name for p in generated} == {
        "p000103-0000-00-00-00-00.hea", "p000102-0000-00-00-00-00.hea", "p000001-0000-00-00-00-00.hea",
        "event_labels.csv", "benchmark_data_split.csv"}
    for p in files:
        if p in generated:
            assert not p.is_symlink() and p.stat().st_size < 200
        else:
            assert p.is_symlink() and p.resolve().is_relative_to(samples), p
            renamed = p.name != p.resolve().name
            assert not renamed or p.name == "p000041-1994-10-26-08-26.hea", p
    master = (real_data_root.folder("mimic3_wave") / "p00/p000103/p000103-0000-00-00-00-00.hea").read_text()
    assert master == "p000103-0000-00-00-00-00/1 3 250 82500\na103l 82500\n"


@pytest.mark.filterwarnings("ignore:.*NaN samples:physiofm.datasets.DatasetWarning")
def test_mimic3_stand_in_reads_every_sample_with_its_own_rates(real_data_root, real_samples):
    folder = real_data_root.folder("mimic3_wave")
    with pytest.warns(DatasetWarning, match=r"041s01.hea lacks \['ecg_ii'\]"):
        s = datasets.load("mimic3_wave", folder)
    assert s.records["record_id"].tolist() == ["p000001/mixedsignals", "p000102/v102s", "p000103/a103l"]
    for rec, hea in zip(s, ("icu-multirate/mixedsignals.hea", "challenge2015/v102s.hea",
                            "challenge2015/a103l.hea")):
        rates = _rates(real_samples / hea)
        assert rec.channels == ["ecg_ii", "ecg_v", "ppg"]
        src = rec.meta["channel_source"]
        assert {c: rec.fs[c] for c in rec.channels} == {c: rates[src[c]] for c in rec.channels}
        assert rec.units["ecg_ii"] == rec.units["ecg_v"] == "mV" and rec.units["ppg"] == "NU"
        assert rec.duration("ecg_ii") == pytest.approx(wfdb.rdheader(str(real_samples / hea)[:-4]).sig_len
                                                       / wfdb.rdheader(str(real_samples / hea)[:-4]).fs)
    multi = datasets.load("mimic3_wave", folder, require=["ecg_v", "ppg"])
    seg = multi.records.set_index("record_id")
    assert seg.loc["p000041/041s02", "start_time"] == 8.0  # 1,000 frames at 125 Hz after 041s01
    with pytest.warns(DatasetWarning, match="no channel for"):
        rec = multi[multi.records["record_id"].tolist().index("p000041/041s01")]
    assert rec.fs == {"ecg_v": 500.0, "ppg": 125.0}  # 212x4: four ECG samples per 125-Hz frame


def test_mimic4_stand_in_is_the_multirate_record(real_data_root, real_samples):
    s = datasets.load("mimic4_wave", real_data_root.folder("mimic4_wave"))
    assert s.records["record_id"].tolist() == ["p10000001/mixedsignals"]
    with pytest.warns(DatasetWarning, match="1024 NaN samples"):
        rec = s[0]
    rates = _rates(real_samples / "icu-multirate/mixedsignals.hea")
    assert rec.fs == {"ecg_ii": rates["II"], "ecg_v": rates["V"], "ppg": rates["Pleth"]}
    assert rec.fs["ecg_ii"] == pytest.approx(249.89) and rec.fs["ppg"] == pytest.approx(124.945)


@pytest.mark.parametrize("name, first, n", [("georgia", "E07500", 20), ("chapman", "JS20000", 20),
                                             ("csn", "JS20000", 20)])
def test_cinc_stand_ins_read_twelve_leads_in_millivolts(real_data_root, real_samples, name, first, n):
    with pytest.warns(DatasetWarning, match="no single rhythm") if name == "chapman" else nullcontext():
        s = datasets.load(name, real_data_root.folder(name))
    assert len(s) == n and s.records["record_id"].iloc[0] == first
    rec = s[0]
    h = wfdb.rdheader(str(real_samples / "cinc2021" / first))
    assert rec.channels == h.sig_name and set(rec.fs.values()) == {500.0}
    assert set(rec.units.values()) == {"mV"} and len(rec.signals["II"]) == h.sig_len
    raw = wfdb.rdrecord(str(real_samples / "cinc2021" / first))
    np.testing.assert_allclose(rec.signals["II"], raw.p_signal[:, raw.sig_name.index("II")])
    sex = next(c for c in h.comments if c.startswith("Sex:")).split(":")[1].strip()
    assert rec.labels["sex"] == sex[0]
    if name == "chapman":  # the SNOMED rhythm is a real label of the sample
        assert s.records["rhythm"].notna().sum() >= 10


def test_vtac_stand_in_carries_the_records_own_adjudication(real_data_root):
    s = datasets.load("vtac", real_data_root.folder("vtac"))
    rec = s[0]
    assert (rec.record_id, rec.subject_id, rec.labels["false_alarm"]) == ("v102s", "v102", 1)
    assert rec.labels["alarm"] == "Ventricular_Tachycardia"
    assert rec.channels == ["ecg_ii", "ecg_v", "ppg"] and set(rec.fs.values()) == {250.0}


def test_paper_profile_preflight_on_the_real_root(real_data_root):
    report = preflight("paper", real_data_root.root, progress=False)
    assert report.rows, "the paper profile reads datasets"
    for row in report.rows:
        src, c = row.source, row.check
        if src.unavailable is not None:
            assert row.status == "unavailable"
        elif src.dataset not in real_data_root.datasets:
            assert (c.status, c.missing) == ("missing", [f"{real_data_root.root / src.subdir}/"]), src
        elif src.options.get("min_duration_s", 0) > LONGEST_SAMPLE_S:
            assert (c.status, c.records) == ("wrong", 0), src
            assert "shorter than min_duration_s" in c.message
        else:
            assert c.status == "ok", (src, c)
    covered = {r.source.dataset for r in report.rows if r.status == "ok"}
    assert {"mimic3_wave", "chapman", "georgia", "vtac"} <= covered


@pytest.mark.parametrize("name", ["mimic3_wave", "mimic4_wave", "georgia", "chapman", "csn", "vtac"])
def test_every_stand_in_passes_its_check_with_default_options(real_data_root, name):
    c = datasets.check(name, real_data_root.folder(name))
    assert c.ok, c
