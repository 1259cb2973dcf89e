"""A data root assembled from ``../shared/real-samples`` in each dataset's native layout.

Every signal and header file is a symlink to the real sample; nothing is copied or converted. Files are
renamed only where the layout requires a name, and the only written files are metadata a layout needs
and the sample folder cannot supply (MIMIC-III master headers that list one segment, VTaC's two tables).

Stand-ins, each at the folder the paper-profile params read it from (``params/paper/*.yaml``; a dataset
no paper profile reads sits at ``<registry name>/``):

* ``mimic3_wave`` <- ``challenge2015/a103l`` (II, V, PLETH @ 250 Hz, 330 s), ``challenge2015/v102s``
  (II, V, PLETH, RESP @ 250 Hz, 300 s, isolated invalid samples), ``icu-multirate/mixedsignals`` (FLAC,
  multi-frequency: II, III, V @ 249.89 Hz, ABP, Pleth @ 124.945 Hz, 230 s, a 4-s ECG gap at the start)
  and ``icu-multirate/041s`` (MIMIC-I multi-segment record, 2 x 8 s: III, I, V @ 500 Hz, PLETH @ 125 Hz)
  as ``p00/p000103/``, ``p00/p000102/``, ``p00/p000001/``, ``p00/p000041/``. A single-segment sample
  gets a generated master ``p000103-0000-00-00-00-00.hea`` listing it as the one segment (undated, so
  the zeros); 041s's own master is linked under the name the layout requires,
  ``p000041-1994-10-26-08-26.hea``. 041s has no lead II, so the loader excludes it with a warning.
* ``mimic4_wave`` <- ``mixedsignals`` (it is a MIMIC-IV-format record: 62.4725-Hz frames, FLAC format
  516) as ``waves/p100/p10000001/mixedsignals/mixedsignals.hea``: a single-segment record in its own
  folder is its own master.
* ``georgia`` <- ``cinc2021/E07500``-``E07519`` as ``g8/E075xx.hea`` + ``.mat`` (Georgia's g-folders
  hold 1,000 records each; the loader searches recursively).
* ``chapman`` and ``csn`` <- ``cinc2021/JS20000``-``JS20019``. These are Chapman-Shaoxing-Ningbo records
  (the Ningbo part), in the CinC 2021 format the chapman loader reads (its docstring: Ningbo reads the
  same way) and with the same ids the CSN release uses; ``g10/JS200xx`` and
  ``WFDBRecords/20/200/JS200xx`` (folder names are not read by either loader).
* ``vtac`` <- ``challenge2015/v102s`` (a ventricular-tachycardia alarm, as every VTaC event) as
  ``waveforms/v102/v102s.hea`` + ``.dat``, with ``event_labels.csv`` holding the record's own adjudication
  from its header (``#False alarm`` -> ``decision False``) and ``benchmark_data_split.csv`` putting it in
  ``train``: that split is the one value here that no sample file states. a103l is an asystole alarm,
  not a VT one, so it is not a VTaC stand-in.

Paper-profile sources covered, per paper (``params/paper``):

* syneco: chapman, georgia, vtac (ok); mimic3_wave and mimic4_wave are assembled but the paper's
  ``min_duration_s: 600`` leaves no record (every sample is shorter than 10 min), so their check is
  ``wrong``; not coverable: ptbxl (HR06000-HR06009 are PTB-XL records in CinC format, but the ptbxl loader
  needs ``ptbxl_database.csv`` and ``scp_statements.csv`` - PTB-XL's own labels, folds and file list -
  which the samples do not hold), vitaldb (no ``.vital`` case), dalia (no subject pickle), ppgbp (no
  PPG-BP sheet or pulse files).
* anyppg: mimic3_wave (ok: a103l, v102s, mixedsignals); not coverable: vitaldb, dalia, ucibp (MATLAB
  cells of MIMIC-II PPG/ABP/ECG), butppg (smartphone PPG), gyroacc, wesad, deepbeat; MC-MED, PulseDB,
  MESA, HSP and CFS are ``unavailable`` in the params.
* papers still to come, by dataset: csn is covered; mimic4_ecg (needs ``record_list.csv`` and the
  machine reports), cpsc2018 (CPSC 2018 records; the CPSC 2021 Holter excerpts are another database),
  physionet2018 (13-channel PSG nights with arousal files; the PSG snippets are single EEG/EOG channels)
  and ptbxl are not. The PTB DB record, the CPSC 2021 excerpts and the NeuroKit CSV match no registry
  loader.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import wfdb

#: registry dataset -> folder used when no paper profile reads it
DEFAULT_SUBDIRS = {"mimic3_wave": "mimic3_wave", "mimic4_wave": "mimic4_wave", "georgia": "georgia",
                   "chapman": "chapman", "csn": "csn", "vtac": "vtac"}
CINC = {"georgia": [f"E0{7500 + i}" for i in range(20)], "chapman": [f"JS{20000 + i}" for i in range(20)]}
#: MIMIC-III stand-ins: subject folder -> (sample folder, record); the record is one segment of a master
MIMIC3 = {"p000103": ("challenge2015", "a103l"), "p000102": ("challenge2015", "v102s"),
          "p000001": ("icu-multirate", "mixedsignals")}


@dataclass
class RealRoot:
    """An assembled data root: ``root``, and for each stand-in dataset the folders that hold it."""

    root: Path
    datasets: dict[str, list[Path]] = field(default_factory=dict)
    generated: list[Path] = field(default_factory=list)

    def folder(self, dataset: str) -> Path:
        return self.datasets[dataset][0]


def _link(src: Path, dst: Path) -> None:
    if not src.is_file():
        raise FileNotFoundError(f"{src}: real sample missing (see ../shared/real-samples/README.md)")
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(src, dst)


def _record_files(hea: Path) -> list[Path]:
    """A WFDB record's header and the signal files it names."""
    h = wfdb.rdheader(str(hea.with_suffix("")))
    return [hea] + [hea.parent / f for f in dict.fromkeys(h.file_name or [])]


def _link_record(hea: Path, folder: Path) -> None:
    """Link a record's header and the signal files it names into ``folder``, names unchanged."""
    for f in _record_files(hea):
        _link(f, folder / f.name)


def _write(path: Path, text: str, out: RealRoot) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    out.generated.append(path)


def mimic3_wave(samples: Path, root: Path, out: RealRoot) -> None:
    for subject, (folder, record) in MIMIC3.items():
        d = root / "p00" / subject
        _link_record(samples / folder / f"{record}.hea", d)
        h = wfdb.rdheader(str(samples / folder / record))
        master = f"{subject}-0000-00-00-00-00"
        _write(d / f"{master}.hea", f"{master}/1 {h.n_sig} {h.fs:g} {h.sig_len}\n{record} {h.sig_len}\n", out)
    d, multi = root / "p00" / "p000041", samples / "icu-multirate" / "041s"
    _link(multi / "041s.hea", d / "p000041-1994-10-26-08-26.hea")  # the master, named as the layout wants
    for seg in wfdb.rdheader(str(multi / "041s")).seg_name:
        _link_record(multi / f"{seg}.hea", d)


def mimic4_wave(samples: Path, root: Path, out: RealRoot) -> None:
    _link_record(samples / "icu-multirate" / "mixedsignals.hea", root / "waves/p100/p10000001/mixedsignals")


def _cinc(samples: Path, folder: Path, ids: list[str]) -> None:
    for rid in ids:
        _link_record(samples / "cinc2021" / f"{rid}.hea", folder)


def georgia(samples: Path, root: Path, out: RealRoot) -> None:
    _cinc(samples, root / "g8", CINC["georgia"])


def chapman(samples: Path, root: Path, out: RealRoot) -> None:
    _cinc(samples, root / "g10", CINC["chapman"])


def csn(samples: Path, root: Path, out: RealRoot) -> None:
    _cinc(samples, root / "WFDBRecords" / "20" / "200", CINC["chapman"])


def vtac(samples: Path, root: Path, out: RealRoot) -> None:
    hea = samples / "challenge2015" / "v102s.hea"
    _link_record(hea, root / "waveforms" / "v102")
    verdict = [c.strip() for c in wfdb.rdheader(str(hea.with_suffix(""))).comments][-1]
    if verdict not in ("True alarm", "False alarm"):
        raise ValueError(f"{hea}: last comment {verdict!r} is not the alarm adjudication")
    labels = pd.DataFrame({"record": ["v102"], "event": ["v102s"], "decision": [verdict == "True alarm"]})
    split = pd.DataFrame({"record": ["v102"], "event": ["v102s"], "split": ["train"]})
    _write(root / "event_labels.csv", labels.to_csv(index=False), out)
    _write(root / "benchmark_data_split.csv", split.to_csv(index=False), out)


STAND_INS = {"mimic3_wave": mimic3_wave, "mimic4_wave": mimic4_wave, "georgia": georgia,
             "chapman": chapman, "csn": csn, "vtac": vtac}


def paper_subdirs(repo: Path) -> dict[str, list[str]]:
    """Registry dataset -> the folders the paper-profile params read it from (all papers)."""
    from physiofm.config import load_params
    from physiofm.preflight import needed_sources

    out: dict[str, list[str]] = {}
    for path in sorted((repo / "params" / "paper").glob("*.yaml")):
        params = load_params(path, path.stem)
        steps = [f"{path.stem}/{s}" for s in type(params.steps).model_fields]
        for s in needed_sources({path.stem: params}, steps):
            if s.unavailable is None and s.subdir not in out.setdefault(s.dataset, []):
                out[s.dataset].append(s.subdir)
    return out


def assemble(samples: Path, dest: Path, subdirs: dict[str, list[str]] | None = None) -> RealRoot:
    """Lay the stand-ins out under ``dest`` (created), each at its ``subdirs`` (default: its own name)."""
    out = RealRoot(dest)
    for dataset, build in STAND_INS.items():
        for sub in (subdirs or {}).get(dataset) or [DEFAULT_SUBDIRS[dataset]]:
            folder = dest / sub
            folder.mkdir(parents=True, exist_ok=False)
            build(samples, folder, out)
            out.datasets.setdefault(dataset, []).append(folder)
    return out


# ------------------------------------------------------------------------------------------------------------
# Expectations computed from the raw samples alone, independently of physiofm.segments and physiofm.store.

#: sample channel name -> the loaders' canonical name (the ICU samples' ECG and PPG channels)
ICU_CANONICAL = {"II": "ecg_ii", "V": "ecg_v", "PLETH": "ppg", "Pleth": "ppg"}


def expected_windows(rec, channels: list[str], window_s: float, max_gap_s: float, flat_min_s: float,
                     max_flatline: float, max_invalid: float) -> list[tuple[float, str]]:
    """(window start in s, ``kept`` / drop reason) of every window a record implies, from its raw samples.

    Valid in the records used here, whose NaN runs are either at an edge or shorter than ``max_gap_s``: one
    span per record, from the latest first valid sample to the earliest last one over the channels.
    """
    from physiofm.signals import flatline_fraction, runs

    lo, hi = 0.0, np.inf
    for c in channels:
        ok = np.flatnonzero(~np.isnan(rec.signals[c]))
        lo, hi = max(lo, ok[0] / rec.fs[c]), min(hi, (ok[-1] + 1) / rec.fs[c])
        starts, ends = runs(np.isnan(rec.signals[c][ok[0]:ok[-1] + 1]))
        assert (ends - starts).max(initial=0) <= max_gap_s * rec.fs[c], "an interior gap would split the span"
    out = []
    for k in range(int((hi - lo) // window_s)):
        t0, reason = lo + k * window_s, "kept"
        raw = {c: rec.signals[c][int(np.ceil(t0 * rec.fs[c] - 1e-6)):][:int(round(window_s * rec.fs[c]))]
               for c in channels}
        if any(flatline_fraction(x, max(2, int(np.ceil(flat_min_s * rec.fs[c])))) > max_flatline
               for c, x in raw.items()):
            reason = "flatline"
        elif any(np.isnan(x).mean() > max_invalid for x in raw.values()):
            reason = "invalid"
        out.append((t0, reason))
    return out


def icu_exclusions(folder: Path, require: list[str], min_duration_s: float = 0.0) -> dict[str, int]:
    """Reason -> how many segments of a MIMIC-style stand-in a loader must leave out, from the headers: a
    required channel missing (``missing_channel``), else shorter than ``min_duration_s`` (``short_record``).
    Master (multi-segment) headers are not segments."""
    out: Counter = Counter()
    for hea in sorted(Path(folder).rglob("*.hea")):
        h = wfdb.rdheader(str(hea.with_suffix("")))
        if getattr(h, "seg_name", None):
            continue
        have = {ICU_CANONICAL[n] for n in h.sig_name if n in ICU_CANONICAL}
        if not set(require) <= have:
            out["missing_channel"] += 1
        elif h.sig_len / h.fs < min_duration_s:
            out["short_record"] += 1
    return dict(out)


def header_comments(hea: Path) -> dict[str, str]:
    """``# Key: value`` comments of a CinC header (Age, Sex, Dx, ...)."""
    out = {}
    for c in wfdb.rdheader(str(Path(hea).with_suffix(""))).comments:
        key, sep, value = c.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out
