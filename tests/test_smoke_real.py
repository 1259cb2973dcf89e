"""The paper profile on real recordings: ``run --profile paper --smoke --stand-ins`` over the data root that
:mod:`realdata` assembles from ``../shared/real-samples`` (skipped when it is absent).

One runner call executes the steps of every paper in :data:`CASES` with the paper profile's data,
preprocessing, splits and code path, small models and budgets (``params/smoke/<paper>.yaml``). Its output is
then checked against expectations computed from the raw sample files, independently of
:mod:`physiofm.segments` and :mod:`physiofm.store`:

* every store's funnel counts the records and windows the records imply, each drop with its reason,
  including the records a loader leaves out (a required channel missing);
* what reaches the model is finite, z-scored per segment, at the paper's rates, read from ECG in mV;
* every training and validation loss of every run is finite; every embedding is finite;
* probes are fitted on the real labels, which match the sample headers (Chapman rhythm and sex from the
  SNOMED ``# Dx`` and ``# Sex`` comments, Georgia diagnoses); a probe that cannot be fitted says why.

What is proven, per paper (paper-profile sources: ``params/paper/<paper>.yaml``):

* **syneco**, every step (data, pretrain, probe, ablations, synergy). Sources read: MIMIC-III and MIMIC-IV
  waveforms (pretraining: a103l, v102s and the multi-rate FLAC record; 041s is left out by the loader, no
  lead II) and the Chapman, Georgia and VTaC benchmarks (probing: Chapman rhythm and sex, Georgia's 22
  diagnoses; VTaC's alarm truth has one class, both Challenge-2015 records being false alarms, so that probe
  reports "every sample of the task has the same label" instead of a number). One stand-in: SyneCo's
  10-min minimum of continuous recording is lowered to 60 s (every real ICU sample is 230-330 s long).
  Not covered (no sample in their format; left out of the run and listed): VitalDB (pretraining and the
  VitalDB sex / emergency probes), PTB-XL, PPG-DaLiA, PPG-BP. The built-in cohort of the synergy chapter is
  synthetic and cut to 24 subjects.
* **anyppg**, data, pretrain and retrieval. Sources read: MIMIC-III waveforms (a103l, v102s, the multi-rate
  record; PulseDB's MIMIC-III part). One stand-in: retrieval reads the validation split, since three
  subjects split 8:1:1 leave the test split empty. Not covered: VitalDB (PulseDB's other part); probing,
  because all six probe sets (PPG-DaLiA, UCI-BP, BUT PPG, Gyro-Acc-PPG, WESAD, DeepBeat) have no sample
  (all left out) and the paper's own pretraining sources (MC-MED, PulseDB, MESA, HSP, CFS) have no loader.

A paper joins by its overlay and one :class:`Case` line.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb

from physiofm import datasets
from physiofm.config import load_params
from physiofm.evaluation.protocol import ONE_CLASS, ONE_CLASS_IN_TRAINING, TOO_FEW_SUBJECTS
from physiofm.io import read_arrays
from physiofm.runner import run
from physiofm.store import SegmentStore
from realdata import expected_windows, header_comments, icu_exclusions

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.filterwarnings("ignore::physiofm.datasets.DatasetWarning")


@dataclass(frozen=True)
class Case:
    """A paper whose smoke run the real samples can stand in for: the steps they prove (``--only``) and,
    for every other step, why not."""

    paper: str
    only: tuple[str, ...]
    unproven: Mapping[str, str] = field(default_factory=dict)


CASES = (
    Case("syneco", ("syneco",)),
    Case("anyppg", ("anyppg/retrieval",), {
        "anyppg/probing": "every probe set (PPG-DaLiA, UCI-BP, BUT PPG, Gyro-Acc-PPG, WESAD, DeepBeat) lacks "
                          "a real sample"}),
)
IDS = [c.paper for c in CASES]

# Chapman-Shaoxing rhythm acronyms of Zheng et al. (2020) -> SNOMED-CT codes of the CinC headers
CHAPMAN_RHYTHM = {"SB": "426177001", "SR": "426783006", "AFIB": "164889003", "ST": "427084000",
                  "AF": "164890007", "SI": "427393009", "SVT": "426761007", "AT": "713422000",
                  "AVNRT": "233896004", "AVRT": "233897008", "SAAWR": "195101003"}
# Georgia diagnoses with one SNOMED-CT code and no equivalent code in the CinC 2021 scoring
GEORGIA_DX = {"dx_AF": "164889003", "dx_NSR": "426783006", "dx_SB": "426177001", "dx_STach": "427084000"}
MILLIVOLTS = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3}


@dataclass
class Smoke:
    root: Path
    data_root: Path
    outcomes: dict
    seconds: float

    def artifacts(self, paper: str, step: str = "") -> Path:
        return self.root / "build" / "smoke" / "artifacts" / paper / step

    def params(self, paper: str):
        return load_params(self.root / "build" / "smoke" / "params" / f"{paper}.yaml", paper)


@pytest.fixture(scope="module")
def smoke(real_data_root, tmp_path_factory) -> Smoke:
    """One ``run --profile paper --smoke --stand-ins`` of every case, in a study folder of its own (links to
    the repository's notebooks and params) so that it never touches the repository's ``build/``."""
    root = tmp_path_factory.mktemp("smoke-study")
    for name in ("notebooks", "params", "pyproject.toml"):
        (root / name).symlink_to(REPO / name)
    start = time.perf_counter()
    outcomes = run("paper", only=[o for c in CASES for o in c.only], data_root=str(real_data_root.root),
                   root=root, smoke=True, stand_ins=True, jobs=2)
    return Smoke(root, real_data_root.root, {o.key: o for o in outcomes}, time.perf_counter() - start)


def _stores(smoke: Smoke, paper: str) -> dict[str, SegmentStore]:
    return {str(p.parent.relative_to(smoke.artifacts(paper))): SegmentStore(p.parent)
            for p in sorted(smoke.artifacts(paper).rglob("store.json"))}


def _real_sources(store: SegmentStore) -> list[dict]:
    """The registry sources a store was built from (its build config's ``source``), [] for a built-in one."""
    src = store.meta["config"].get("source")
    return [s for s in (src if isinstance(src, list) else [src]) if isinstance(s, dict) and "dataset" in s]


def _preprocess(store: SegmentStore) -> dict:
    config = store.meta["config"]
    return config.get("preprocess", config)


def _channel_groups(cfg: dict) -> dict[str, list[str]]:
    """Group -> channel aliases of a SyneCo (``{"ecg": {group: aliases}, ...}``) or AnyPPG (``{"ecg":
    aliases, ...}``) preprocessing config."""
    out = {}
    for key in ("ecg", "ppg"):
        v = cfg.get(key)
        out.update(v if isinstance(v, dict) else {key: v} if v else {})
    return out


def _records(smoke: Smoke, source: dict):
    return list(datasets.load(source["dataset"], smoke.data_root / source["subdir"],
                              **source.get("options", {})))


# ---------------------------------------------------------------------------------------------------- steps
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_steps_the_samples_can_stand_in_for_ran_and_the_others_are_named(smoke, case: Case) -> None:
    mine = {k: o for k, o in smoke.outcomes.items() if k.startswith(f"{case.paper}/")}
    assert mine and all(o.status == "ran" for o in mine.values()), {k: o.message for k, o in mine.items()}
    steps = {p.stem.split("-", 1)[1] for p in (REPO / "notebooks" / case.paper).glob("*.ipynb")}
    assert {f"{case.paper}/{s}" for s in steps} == set(mine) | set(case.unproven)
    print(f"smoke runs of {', '.join(IDS)}: {smoke.seconds:.0f} s")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_stand_ins_and_left_out_sources_are_written_into_the_params_the_notebooks_read(smoke, case) -> None:
    from physiofm import smoke as smoke_mod
    from physiofm.preflight import needed_sources

    text = (smoke.root / "build/smoke/params" / f"{case.paper}.yaml").read_text()
    for s in smoke_mod.read_overlay(REPO / "params/smoke" / f"{case.paper}.yaml").stand_ins:
        assert f"# stand-in: {s.key} = {s.value!r}" in text
    paper = load_params(REPO / "params/paper" / f"{case.paper}.yaml", case.paper)
    keys = [f"{case.paper}/{s}" for s in type(paper.steps).model_fields]
    absent = {s.dataset for s in needed_sources({case.paper: paper}, keys)
              if s.unavailable is None and not (smoke.data_root / s.subdir).is_dir()}
    left = {line.split()[3] for line in text.splitlines() if line.startswith("# left out:")}
    assert left == absent and absent, "exactly the sources without a sample are left out"


# ---------------------------------------------------------------------------------------------------- data
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_real_store_funnel_counts_what_the_records_imply(smoke, case: Case) -> None:
    checked = 0
    for name, store in _stores(smoke, case.paper).items():
        sources = _real_sources(store)
        if not sources:
            continue
        cfg = _preprocess(store)
        groups = _channel_groups(cfg)
        recs, excluded = [], Counter()
        for s in sources:
            recs += _records(smoke, s)
            if s["dataset"] in ("mimic3_wave", "mimic4_wave"):
                opts = s.get("options", {})
                excluded += icu_exclusions(smoke.data_root / s["subdir"],
                                           opts.get("require", ["ecg_ii", "ecg_v", "ppg"]),
                                           opts.get("min_duration_s", 0.0))
        windows = {}
        for rec in recs:
            chans = [next(a for a in aliases if a in rec.signals) for aliases in groups.values()]
            windows[rec.record_id] = expected_windows(
                rec, chans, cfg["window_s"], cfg["max_gap_s"], cfg["flat_min_s"], cfg["max_flatline"],
                cfg["max_invalid"])
            span = len(windows[rec.record_id]) * cfg["window_s"]
            assert span >= cfg.get("min_duration_s", 0), f"{rec.record_id}: span shorter than the minimum"
        reasons = Counter(why for w in windows.values() for _, why in w)
        table = store.funnel.table().set_index("stage")["count"]
        dropped = store.funnel.dropped
        assert table["records"] == len(recs), name
        assert {r: n for (st, r), n in dropped.items() if st == "records"} == dict(excluded), name
        assert table["windows"] == sum(reasons.values()), name
        sqi = dropped.get(("after_qc", "ecg_sqi"), 0)
        assert {r: n for (st, r), n in dropped.items() if st == "after_qc" and r != "ecg_sqi"} == {
            r: n for r, n in reasons.items() if r != "kept"}, name
        assert table["after_qc"] + sqi == reasons["kept"], name
        # no cap binds on these records (each under its source's cap), so every window kept is stored
        assert table["after_caps"] == table["after_qc"] == len(store), name
        kept = {(rid, round(t, 3)) for rid, w in windows.items() for t, why in w if why == "kept"}
        stored = {(_inner_id(r, s), round(t, 3)) for r, s, t in
                  zip(store.index["record_id"], store.index["source"], store.index["offset_s"])}
        assert stored <= kept and len(kept - stored) == sqi, name
        checked += 1
    assert checked, f"{case.paper}: no store built from a real source"


def _inner_id(record_id: str, source: str) -> str:
    """The loader's record id (a source that renames records prefixes them with its name)."""
    return record_id[len(source) + 1:] if record_id.startswith(f"{source}/") else record_id


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_what_reaches_the_model_is_finite_z_scored_at_the_papers_rates(smoke, case: Case) -> None:
    for name, store in _stores(smoke, case.paper).items():
        cfg = _preprocess(store)
        rates = {g: cfg.get("fs") or (cfg["ppg_fs"] if g == "ppg" else cfg["ecg_fs"]) for g in store.groups}
        arrays = store.read(np.arange(len(store)))
        assert len(store) > 0, name
        for g, a in arrays.items():
            assert store.groups[g]["fs"] == rates[g], (name, g)
            assert a.shape[-1] == round(cfg["window_s"] * rates[g]), (name, g)
            assert np.isfinite(a).all(), f"{name}/{g}: NaN or inf reaches the model"
            np.testing.assert_allclose(a.mean(-1), 0, atol=1e-3, err_msg=f"{name}/{g}")
            np.testing.assert_allclose(a.std(-1), 1, atol=1e-2, err_msg=f"{name}/{g}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_ecg_read_is_in_millivolts_whatever_its_header_declares(smoke, case: Case) -> None:
    """Each real record a smoke store read: its ECG as loaded = the header's physical values times the
    factor of the header's unit (mV 1, uV 1e-3), unit ``mV``; PPG keeps its monitor unit."""
    checked = 0
    for store in _stores(smoke, case.paper).values():
        ecg = [aliases for g, aliases in _channel_groups(_preprocess(store)).items() if g.startswith("ecg")]
        for s in _real_sources(store):
            for rec in _records(smoke, s):
                for c in (next(a for a in aliases if a in rec.signals) for aliases in ecg):
                    assert rec.units[c] == "mV", (rec.record_id, c)
                    path = Path(rec.meta["path"])
                    h = wfdb.rdheader(str(path))
                    i = h.sig_name.index(rec.meta.get("channel_source", {}).get(c, c))
                    raw = wfdb.rdrecord(str(path), channels=[i], smooth_frames=False).e_p_signal[0]
                    mv = raw[:2000] * MILLIVOLTS[h.units[i].lower()]
                    np.testing.assert_allclose(rec.signals[c][:2000], mv, rtol=1e-6, equal_nan=True,
                                               err_msg=f"{rec.record_id} {c}")
                    checked += 1
    assert checked


# ------------------------------------------------------------------------------------------ training, probes
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_loss_of_every_run_is_finite(smoke, case: Case) -> None:
    runs = pd.read_csv(smoke.artifacts(case.paper, "pretrain") / "runs.csv")
    params = smoke.params(case.paper)
    methods = getattr(params.steps.pretrain, "methods", None) or list(params.shared.methods)
    seeds = getattr(params.steps.pretrain, "seeds", None) or [params.shared.seed]
    assert sorted(zip(runs["method"], runs["seed"])) == sorted((m, s) for m in methods for s in seeds)
    for m, s in zip(runs["method"], runs["seed"]):
        curve = pd.read_csv(smoke.artifacts(case.paper, "pretrain") / m / f"seed{s}" / "curve.csv")
        assert len(curve) and np.isfinite(curve["loss"]).all(), (m, s)
        assert curve["val_loss"].notna().any() and np.isfinite(curve["val_loss"].dropna()).all(), (m, s)
    splits = pd.read_parquet(smoke.artifacts(case.paper, "data") / "splits.parquet")
    assert set(splits["source"]) <= {"mimic3_wave", "mimic4_wave"}, "pretrained on the real records only"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_embedding_is_finite(smoke, case: Case) -> None:
    files = sorted(smoke.artifacts(case.paper).rglob("arrays.npz"))
    assert files, f"{case.paper}: no embedding was computed"
    for f in files:
        for name, a in read_arrays(f).items():
            assert a.ndim == 2 and len(a) and np.isfinite(a).all(), (f, name)


def _header_labels(smoke: Smoke, store: str, rid: str) -> dict[str, str]:
    folder = smoke.data_root / _real_sources(SegmentStore(
        smoke.artifacts("syneco", "data") / "stores" / store))[0]["subdir"]
    return header_comments(next(folder.rglob(f"{rid}.hea")))


def test_syneco_probes_read_the_real_labels_of_the_sample_headers(smoke) -> None:
    folder = smoke.artifacts("syneco", "data") / "labels"
    labels = {f.stem: pd.read_parquet(f) for f in folder.glob("*.parquet")}
    assert {"chapman", "georgia", "vtac"} <= set(labels)
    for rid, row in labels["chapman"].set_index("record_id").iterrows():
        h = _header_labels(smoke, "chapman", rid)
        assert row["female"] == (h["Sex"] == "Female")
        found = [name for name, code in CHAPMAN_RHYTHM.items() if code in h["Dx"].split(",")]
        assert (row["rhythm"] == found[0]) if len(found) == 1 else pd.isna(row["rhythm"]), rid
    for rid, row in labels["georgia"].set_index("record_id").iterrows():
        h = _header_labels(smoke, "georgia", rid)
        assert row["female"] == (h["Sex"] == "Female")
        assert {c: int(row[c]) for c in GEORGIA_DX} == {c: int(code in h["Dx"].split(",")) for c, code in
                                                         GEORGIA_DX.items()}, rid
    verdict = wfdb.rdheader(str(next((smoke.data_root / "vtac").rglob("v102s.hea")).with_suffix(""))).comments
    assert set(labels["vtac"]["false_alarm"]) == {int(verdict[-1].strip() == "False alarm")} == {1}


def test_syneco_probes_are_fitted_on_real_labels_and_say_why_when_they_cannot_be(smoke) -> None:
    results = pd.read_parquet(smoke.artifacts("syneco", "probe") / "results.parquet")
    assert set(results["note"]) <= {"", ONE_CLASS, TOO_FEW_SUBJECTS, ONE_CLASS_IN_TRAINING}
    assert (results["value"].isna() == (results["note"] != "")).all(), "a NaN without a reason, or vice versa"
    fitted = results[results["note"] == ""]
    assert {"chapman_rhythm", "chapman_sex", "georgia_dx"} <= set(fitted["task"])
    chapman = pd.read_parquet(smoke.artifacts("syneco", "data") / "labels" / "chapman.parquet")
    rhythm = fitted[fitted["task"] == "chapman_rhythm"]
    assert ((rhythm["n_train"] + rhythm["n_test"]) == chapman["rhythm"].notna().sum()).all()
    # both Challenge-2015 records are false alarms: the alarm-truth probe has one class and says so
    vtac = results[results["task"] == "vtac"]
    assert len(vtac) and (vtac["note"] == ONE_CLASS).all() and vtac["value"].isna().all()
