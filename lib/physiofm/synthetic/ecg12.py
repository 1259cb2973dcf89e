"""PTB-XL-like 12-lead diagnostic cohort (hybrid_ecg, D-BETA): 10-s records at 500 Hz.

Each record gets SCP-style statements in PTB-XL's layout (``scp_codes`` as ``{code: likelihood}``)
that map, through :data:`STATEMENTS` (the analogue of ``scp_statements.csv``), to the five
diagnostic superclasses NORM/MI/STTC/CD/HYP and to subclasses, plus form and rhythm statements.
Every statement is drawn first and then *written into the waveform* by the dipole model
(e.g. inferior MI: an initial superior force — Q waves in II, III, aVF — and inferior T inversion;
CRBBB: wide QRS and a terminal anterior R' in V1; LVH: large QRS voltage with strain), so a
classifier can learn each label from the signal. Patients (``patient_id``) may have several records;
``strat_fold`` (1-10) is assigned per patient, stratified by label combination, as PTB-XL does.

Each record also carries a MIMIC-IV-ECG-style machine report (``report``): lower-case statements
("sinus rhythm", "atrial fibrillation with rapid ventricular response", "left bundle branch block",
"st-t changes", "abnormal ecg", ...) with synonyms, varying order, occasional repeated or missing
statements, and the heavy duplication of real report corpora (most reports are one of a few hundred
texts).

Difficulty knobs (:class:`Ecg12Effects`, :mod:`physiofm.synthetic.effects`): one effect size per diagnostic
superclass, 1.0 by default (the waveform changes listed in :func:`_apply_codes`), 0 leaves the statement in
the labels and the report but removes its trace from the waveform. ``NORM`` (no diagnostic statement) has no
knob of its own: what tells it apart is the union of the four others.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd

from physiofm.recording import Recording, RecordingSet
from physiofm.synthetic import artefacts as art
from physiofm.synthetic import dipole, ecg
from physiofm.synthetic.cohort import Cohort, LazyLoader, check_positive, rng_for
from physiofm.synthetic.effects import Effects, lerp

SOURCE = "synthetic_ecg12"
FS = 500.0
DURATION_S = 10.0
SUPERCLASSES = ("NORM", "MI", "STTC", "CD", "HYP")

# code: (description, kind, superclass, subclass)
STATEMENTS = pd.DataFrame.from_records(
    [
        ("NORM", "normal ECG", "diagnostic", "NORM", "NORM"),
        ("IMI", "inferior myocardial infarction", "diagnostic", "MI", "IMI"),
        ("AMI", "anterior myocardial infarction", "diagnostic", "MI", "AMI"),
        ("LMI", "lateral myocardial infarction", "diagnostic", "MI", "LMI"),
        ("NDT", "non-diagnostic T abnormalities", "diagnostic", "STTC", "STTC"),
        ("ISCAL", "ischemic in anterolateral leads", "diagnostic", "STTC", "ISCA"),
        ("ISC_", "non-specific ischemic", "diagnostic", "STTC", "ISC_"),
        ("CLBBB", "complete left bundle branch block", "diagnostic", "CD", "CLBBB"),
        ("CRBBB", "complete right bundle branch block", "diagnostic", "CD", "CRBBB"),
        ("IRBBB", "incomplete right bundle branch block", "diagnostic", "CD", "IRBBB"),
        ("LAFB", "left anterior fascicular block", "diagnostic", "CD", "LAFB/LPFB"),
        ("1AVB", "first degree AV block", "diagnostic", "CD", "_AVB"),
        ("IVCD", "non-specific intraventricular conduction disturbance", "diagnostic", "CD", "IVCD"),
        ("LVH", "left ventricular hypertrophy", "diagnostic", "HYP", "LVH"),
        ("RVH", "right ventricular hypertrophy", "diagnostic", "HYP", "RHV"),
        ("LAO/LAE", "left atrial overload/enlargement", "diagnostic", "HYP", "LAO/LAE"),
        ("PVC", "ventricular premature complex", "form", None, None),
        ("QWAVE", "Q waves present", "form", None, None),
        ("INVT", "inverted T-waves", "form", None, None),
        ("STD_", "non-specific ST depression", "form", None, None),
        ("LVOLT", "low QRS voltages in the frontal and horizontal leads", "form", None, None),
        ("HVOLT", "high QRS voltage", "form", None, None),
        ("LPR", "prolonged PR interval", "form", None, None),
        ("ABQRS", "abnormal QRS", "form", None, None),
        ("SR", "sinus rhythm", "rhythm", None, None),
        ("STACH", "sinus tachycardia", "rhythm", None, None),
        ("SBRAD", "sinus bradycardia", "rhythm", None, None),
        ("SARRH", "sinus arrhythmia", "rhythm", None, None),
        ("AFIB", "atrial fibrillation", "rhythm", None, None),
        ("AFLT", "atrial flutter", "rhythm", None, None),
    ],
    columns=["code", "description", "kind", "diagnostic_class", "diagnostic_subclass"],
).set_index("code")

_DIAGNOSES = {  # superclass: (prevalence, codes, code probabilities)
    "MI": (0.25, ("IMI", "AMI", "LMI"), (0.5, 0.35, 0.15)),
    "STTC": (0.24, ("NDT", "ISCAL", "ISC_"), (0.4, 0.3, 0.3)),
    "CD": (0.22, ("CLBBB", "CRBBB", "IRBBB", "LAFB", "1AVB", "IVCD"), (0.2, 0.25, 0.15, 0.2, 0.15, 0.05)),
    "HYP": (0.12, ("LVH", "RVH", "LAO/LAE"), (0.7, 0.1, 0.2)),
}

_PHRASES = {
    "SR": ["sinus rhythm", "normal sinus rhythm"],
    "STACH": ["sinus tachycardia"],
    "SBRAD": ["sinus bradycardia"],
    "SARRH": ["sinus arrhythmia", "sinus rhythm with sinus arrhythmia"],
    "AFIB": ["atrial fibrillation", "atrial fibrillation with controlled ventricular response"],
    "AFIB_RVR": [
        "atrial fibrillation with rapid ventricular response",
        "afib with rapid ventricular response",
    ],
    "AFIB_SVR": ["atrial fibrillation with slow ventricular response"],
    "AFLT": ["atrial flutter", "atrial flutter with variable a-v block"],
    "IMI": [
        "inferior infarct - age undetermined",
        "possible inferior infarct - age undetermined",
        "inferior infarct, old",
    ],
    "AMI": [
        "anterior infarct - age undetermined",
        "possible anterior infarct - age undetermined",
        "anteroseptal infarct - age undetermined",
    ],
    "LMI": ["lateral infarct - age undetermined", "possible lateral infarct"],
    "NDT": ["nonspecific t wave abnormality", "t wave changes are nonspecific"],
    "ISCAL": [
        "st-t changes",
        "anterolateral st-t changes suggest ischemia",
        "st depression, consider ischemia",
    ],
    "ISC_": ["st-t changes", "nonspecific st-t abnormality", "st-t wave abnormality"],
    "CLBBB": ["left bundle branch block", "lbbb"],
    "CRBBB": ["right bundle branch block", "rbbb"],
    "IRBBB": ["incomplete right bundle branch block", "irbbb"],
    "LAFB": ["left anterior fascicular block", "left axis deviation"],
    "1AVB": ["1st degree a-v block", "first degree av block", "prolonged pr interval"],
    "IVCD": ["intraventricular conduction delay", "nonspecific intraventricular conduction delay"],
    "LVH": [
        "left ventricular hypertrophy",
        "lvh with secondary repolarization abnormality",
        "voltage criteria for left ventricular hypertrophy",
    ],
    "RVH": ["right ventricular hypertrophy"],
    "LAO/LAE": ["left atrial enlargement", "left atrial abnormality"],
    "PVC": ["with premature ventricular complexes", "ventricular premature complex", "pvc(s)"],
    "LVOLT": ["low qrs voltages in limb leads", "low voltage qrs"],
    "NORMAL": ["normal ecg", "normal ecg", "within normal limits"],
    "ABNORMAL": ["abnormal ecg", "abnormal ecg", "abnormal electrocardiogram"],
    "BORDERLINE": ["borderline ecg"],
}


@dataclass(frozen=True)
class Ecg12Effects(Effects):
    """Effect size of each diagnostic superclass of the 12-lead cohort (1.0: the original cohort; 0: the
    statement leaves no trace in the waveform). Each scales the difference its codes make to the heart's
    morphology (a value v becomes old + s (v - old); an added wave's vector is multiplied by s); the random
    draws and the labels do not change.

    Attributes:
        mi: the infarct's initial Q force and its T-wave force (IMI, AMI, LMI).
        sttc: T flattening (NDT), ST depression and T inversion (ISCAL, ISC_).
        cd: QRS widening, the LBBB terminal force and T inversion, the RBBB R' and terminal force (CLBBB,
            CRBBB, IRBBB, IVCD), the fascicular force and minimum QRS width (LAFB), the long PR (1AVB).
        hyp: the LVH voltage (R x (1 + 0.9 s)) and strain ST, the RVH force, the LAE P-wave width and force.
    """

    mi: float = 1.0
    sttc: float = 1.0
    cd: float = 1.0
    hyp: float = 1.0


@dataclass
class Ecg12Plan:
    record_id: str
    subject_id: str
    index: int
    seed: int
    morph: ecg.Morphology
    r: np.ndarray
    pvc: np.ndarray  # (K,) bool
    atrial: str  # "sinus" | "af" | "flutter"
    flutter_hz: float
    labels: dict
    rates: art.ArtefactRates


# Superclasses a patient keeps in every record (an old infarct, a conduction disturbance, hypertrophy);
# ST-T changes come and go record by record.
CHRONIC = ("MI", "CD", "HYP")


def _draw_codes(rng: np.random.Generator, age: float, superclasses=tuple(_DIAGNOSES)) -> list[str]:
    codes = []
    for sup in superclasses:
        prev, options, probs = _DIAGNOSES[sup]
        if rng.random() < prev * (0.6 + 0.8 * (age - 18) / 77):
            codes.append(str(rng.choice(options, p=probs)))
    if "CLBBB" in codes and "CRBBB" in codes:
        codes.remove("CRBBB")
    if "CRBBB" in codes and "IRBBB" in codes:
        codes.remove("IRBBB")
    return codes


@dataclass
class Ecg12Patient:
    """What persists across a patient's records: its chronic diagnoses and its heart."""

    chronic: list[str]  # diagnostic codes of the CHRONIC superclasses
    morph: ecg.Morphology  # base morphology with the chronic codes written in
    low_voltage: bool


def _patient(pat: int, age: float, male: bool, seed: int, fx: Ecg12Effects) -> Ecg12Patient:
    rng = rng_for(seed, "ecg12", pat, "subjects")
    chronic = _draw_codes(rng, age, CHRONIC)
    m = _apply_codes(_base_morphology(male, rng), chronic, rng, fx)
    return Ecg12Patient(chronic, m, bool(rng.random() < 0.04))


def _record_morphology(p: Ecg12Patient, acute: list[str], rng: np.random.Generator,
                       fx: Ecg12Effects) -> ecg.Morphology:
    """The patient's heart as one record shows it: small per-record changes of amplitude, intervals and
    electrode placement, then the record's own (acute) codes."""
    m = copy.deepcopy(p.morph)
    m.r_mv *= float(rng.lognormal(0.0, 0.06))
    m.t_mv *= float(rng.lognormal(0.0, 0.08))
    m.qrs_ms += float(rng.normal(0.0, 2.0))
    m.pr_s += float(rng.normal(0.0, 0.005))
    m.qtc_s += float(rng.normal(0.0, 0.005))
    m.rotation = ecg.random_rotation(rng, 4) @ m.rotation  # electrodes never sit twice in one place
    return _apply_codes(m, acute, rng, fx)


def _base_morphology(male: bool, rng: np.random.Generator) -> ecg.Morphology:
    return ecg.Morphology(
        r_mv=float(rng.lognormal(np.log(1.25 if male else 1.1), 0.18)),
        qrs_ms=float(rng.uniform(80, 100)),
        pr_s=float(rng.uniform(0.13, 0.19)),
        qtc_s=float(rng.normal(0.405 if male else 0.42, 0.01)),
        t_mv=float(rng.uniform(0.28, 0.42)),
        rotation=ecg.random_rotation(rng, 15),
    )


def _apply_codes(m: ecg.Morphology, codes: list[str], rng: np.random.Generator,
                 fx: Ecg12Effects) -> ecg.Morphology:
    """Write each diagnostic code into the morphology ``m`` (in place) and return it; ``fx`` scales what each
    superclass's codes change (the draws are the same for every ``fx``)."""
    extra = m.extra
    mi, sttc, cd, hyp = fx.mi, fx.sttc, fx.cd, fx.hyp

    def wave(offset: float, sigma: float, vector: list[float], s: float) -> None:
        extra.append((offset, sigma, np.array(vector) * s))  # x * 1.0 == x: the default cohort is unchanged

    for c in codes:
        if c == "IMI":  # initial superior force: Q in II, III, aVF; inferior T inversion
            wave(-0.02, 0.012, [0.0, -0.45, 0.0], mi)
            wave(0.30, 0.06, [0.0, -0.3, 0.0], mi)
        elif c == "AMI":  # initial posterior force: QS in V1-V3; anterior T inversion
            wave(-0.02, 0.012, [0.0, 0.0, 0.6], mi)
            wave(0.30, 0.06, [0.0, 0.0, 0.35], mi)
        elif c == "LMI":  # initial rightward force: Q in I, aVL, V5-V6
            wave(-0.02, 0.012, [-0.5, 0.0, 0.0], mi)
            wave(0.30, 0.06, [-0.3, 0.0, 0.0], mi)
        elif c == "NDT":
            m.t_mv = lerp(m.t_mv, m.t_mv * 0.25, sttc)
        elif c == "ISCAL":
            m.st_mv, m.t_mv = lerp(m.st_mv, 0.15, sttc), lerp(m.t_mv, -0.5 * m.t_mv, sttc)
        elif c == "ISC_":
            m.st_mv, m.t_mv = lerp(m.st_mv, 0.1, sttc), lerp(m.t_mv, 0.3 * m.t_mv, sttc)
        elif c == "CLBBB":
            qrs = float(rng.uniform(140, 170))
            m.qrs_ms, m.lbbb = lerp(m.qrs_ms, qrs, cd), lerp(m.lbbb, 0.7, cd)
            m.t_mv = lerp(m.t_mv, -0.5 * m.t_mv, cd)
            # the septal Q fades with the block instead of vanishing with any LBBB force (at cd = 1 it is 0,
            # as the full block's force makes it)
            m.septal_q = max(0.0, 1.0 - cd)
        elif c == "CRBBB":
            qrs = float(rng.uniform(125, 150))
            m.qrs_ms, m.v_rprime_mv = lerp(m.qrs_ms, qrs, cd), lerp(m.v_rprime_mv, 0.6, cd)
            wave(0.05, 0.02, [-0.4, 0.0, -0.3], cd)
        elif c == "IRBBB":
            qrs = float(rng.uniform(100, 118))
            m.qrs_ms, m.v_rprime_mv = lerp(m.qrs_ms, qrs, cd), lerp(m.v_rprime_mv, 0.3, cd)
        elif c == "LAFB":  # superior-leftward mid-QRS force: left axis deviation
            m.qrs_ms = lerp(m.qrs_ms, max(m.qrs_ms, 100.0), cd)
            wave(0.01, 0.014, [0.4, -0.9, 0.0], cd)
        elif c == "1AVB":
            m.pr_s = lerp(m.pr_s, float(rng.uniform(0.23, 0.30)), cd)
        elif c == "IVCD":
            m.qrs_ms = lerp(m.qrs_ms, float(rng.uniform(115, 130)), cd)
        elif c == "LVH":
            m.r_mv = lerp(m.r_mv, m.r_mv * 1.9, hyp)
            m.st_mv = lerp(m.st_mv, max(m.st_mv, 0.08), hyp)
        elif c == "RVH":
            wave(0.01, 0.014, [-0.6, 0.3, -0.7], hyp)
        elif c == "LAO/LAE":
            m.p_sigma_s = lerp(m.p_sigma_s, 0.03, hyp)
            wave(-m.pr_s + 0.045, 0.02, [0.1, 0.05, 0.12], hyp)
    return m


def _record(i: int, patient: int, age: float, male: bool, seed: int, rates: art.ArtefactRates,
            heart: Ecg12Patient, fx: Ecg12Effects) -> Ecg12Plan:
    rng = rng_for(seed, "ecg12", i, "plan")
    acute = _draw_codes(rng, age, tuple(s for s in _DIAGNOSES if s not in CHRONIC))
    m = _record_morphology(heart, acute, rng, fx)
    order = {c: k for k, c in enumerate(STATEMENTS.index)}
    codes = sorted(heart.chronic + acute, key=order.get) or ["NORM"]
    u = rng.random()
    atrial = "af" if u < 0.07 else ("flutter" if u < 0.085 else "sinus")
    sarrh = atrial == "sinus" and rng.random() < 0.05
    hr0 = float(np.clip(rng.normal(72 + 8 * (atrial == "af"), 15), 40, 150))
    grid = np.arange(-2.0, DURATION_S + 1.0, 1 / ecg.GRID_HZ)
    flutter_hz = 0.0
    if atrial == "flutter":  # 300/min atrial rate, 2:1 or 4:1 conduction: regular ventricular rhythm
        flutter_hz = float(rng.uniform(4.6, 5.4))
        hr0 = 60 * flutter_hz / (2 if rng.random() < 0.6 else 4)
        r = ecg.beat_times(grid, np.full(grid.size, hr0), rng, jitter=0.0005)
    else:
        age_n = (age - 18) / 77
        hr = ecg.hr_course(
            grid, np.full(grid.size, hr0), rng, rsa=0.15 if sarrh else 0.05 * (1 - 0.7 * age_n), lf=0.02
        )
        r = ecg.beat_times(grid, hr, rng, irregularity=0.2 if atrial == "af" else 0.0)
    pvc = np.zeros(r.size, bool)
    if rng.random() < 0.06 and r.size > 4:  # one or two premature ventricular beats
        inside = np.flatnonzero((r > 1.5) & (r < DURATION_S - 1.5))
        for k in rng.choice(inside, min(inside.size, int(rng.integers(1, 3))), replace=False):
            r[k] = r[k - 1] + 0.6 * (r[k] - r[k - 1])
            pvc[k] = True
    if heart.low_voltage:  # low voltage: every wave is small (fluid, obesity, emphysema)
        m.r_mv, m.p_mv, m.t_mv, m.st_mv = 0.35 * m.r_mv, 0.35 * m.p_mv, 0.35 * m.t_mv, 0.35 * m.st_mv
    inside = (r >= 0) & (r < DURATION_S)
    rate = 60.0 / np.diff(r[inside]).mean()
    if atrial == "af":
        rhythm = ["AFIB"]
    elif atrial == "flutter":
        rhythm = ["AFLT"]
    elif sarrh:
        rhythm = ["SARRH"]
    else:
        rhythm = ["STACH"] if rate > 100 else (["SBRAD"] if rate < 60 else ["SR"])
    form = []
    if any(c in codes for c in ("IMI", "AMI", "LMI")):
        form.append("QWAVE")
    if m.t_mv < 0:
        form.append("INVT")
    if m.st_mv > 0:
        form.append("STD_")
    if m.r_mv < 0.6:
        form.append("LVOLT")
    if m.r_mv > 2.0:
        form.append("HVOLT")
    if m.pr_s > 0.22 and atrial == "sinus":
        form.append("LPR")
    if m.qrs_ms >= 110:
        form.append("ABQRS")
    if pvc.any():
        form.append("PVC")
    if atrial != "sinus" and "1AVB" in codes:  # no PR interval to prolong without P waves
        codes = [c for c in codes if c != "1AVB"] or ["NORM"]
    scp = {c: float(rng.choice([50.0, 80.0, 100.0])) for c in codes}
    scp.update({c: 0.0 for c in form + rhythm})
    supers = sorted({STATEMENTS.loc[c, "diagnostic_class"] for c in codes}, key=SUPERCLASSES.index)
    labels = {
        "patient_id": patient,
        "age": round(age, 1),
        "sex": "M" if male else "F",
        "male": int(male),
        "scp_codes": scp,
        "superclass": supers,
        "subclass": sorted({STATEMENTS.loc[c, "diagnostic_subclass"] for c in codes}),
        "form": form,
        "rhythm": rhythm,
        "heart_rate": round(rate, 1),
        **{s: int(s in supers) for s in SUPERCLASSES},
    }
    labels["report_statements"] = _report(codes, form, rhythm, rate, rng)
    labels["report"] = ". ".join(labels["report_statements"]) + "."
    return Ecg12Plan(
        f"ecg12-{i:05d}", f"ptbp{patient:05d}", i, seed, m, r, pvc, atrial, flutter_hz, labels, rates
    )


def _report(
    codes: list[str], form: list[str], rhythm: list[str], rate: float, rng: np.random.Generator
) -> list[str]:
    """Machine-report statements: rhythm first, findings in varying order, then a summary line."""

    def say(key: str) -> str:
        options = _PHRASES[key]
        # Machines repeat their stock phrase: the first synonym is the most frequent.
        p = np.array([3.0] + [1.0] * (len(options) - 1))
        return str(rng.choice(options, p=p / p.sum()))

    rk = rhythm[0]
    if rk == "AFIB":
        rk = "AFIB_RVR" if rate > 100 else ("AFIB_SVR" if rate < 60 else "AFIB")
    lines = [say(rk)]
    findings = [say(c) for c in codes if c in _PHRASES]
    findings += [say(c) for c in form if c in _PHRASES]
    if rng.random() < 0.3:
        rng.shuffle(findings)
    if findings and rng.random() < 0.08:  # machines miss a finding now and then
        findings.pop(int(rng.integers(len(findings))))
    if findings and rng.random() < 0.08:  # ... and repeat one
        findings.append(findings[int(rng.integers(len(findings)))])
    lines += findings
    if codes == ["NORM"] and not form and rk in ("SR", "SARRH"):
        lines.append(say("NORMAL"))
    elif codes == ["NORM"] and rk in ("SR", "SARRH", "STACH", "SBRAD") and set(form) <= {"LVOLT"}:
        lines.append(say("BORDERLINE"))
    else:
        lines.append(say("ABNORMAL"))
    return lines


def render(p: Ecg12Plan) -> Recording:
    """The 12 leads (mV) of one planned record."""
    rng = rng_for(p.seed, "ecg12", p.index, "render")
    n = int(DURATION_S * FS)
    rr = np.diff(p.r, prepend=p.r[0] - 0.8)
    sup = ~p.pvc
    gain = 1 + 0.04 * np.sin(2 * np.pi * 0.25 * p.r + p.index)
    waves = ecg.beat_waves(
        p.r[sup], rr[sup], p.morph, rng, p_wave=np.full(sup.sum(), p.atrial == "sinus"), gain=gain[sup]
    )
    if p.pvc.any():
        waves += ecg.ectopic_waves(p.r[p.pvc], rr[p.pvc], dipole.VT_DIRECTIONS[p.index % 3], 1.4, rng)
    vcg = ecg.render(waves, n, FS)
    if p.atrial == "af":
        vcg += dipole.ATRIAL_F_DIRECTION[:, None] * ecg.fibrillatory_waves(n, FS, rng)[None, :]
    elif p.atrial == "flutter":
        vcg += dipole.ATRIAL_F_DIRECTION[:, None] * ecg.flutter_waves(n, FS, p.flutter_hz, rng)[None, :]
    leads = ecg.vcg_to_leads(vcg, dipole.LEADS_12)
    rates = p.rates
    bw, pl = rng.uniform(*rates.baseline_mv) * 0.5, rng.uniform(*rates.powerline_mv) * 0.5
    mains_hz = 50.0  # PTB-XL was recorded in Germany
    t = np.arange(n) / FS
    mains = pl * np.sin(2 * np.pi * mains_hz * t + rng.uniform(0, 6.3))
    signals = {}
    for name, x in leads.items():
        x = x + art.baseline_wander(n, FS, bw, rng) + mains + rates.white_mv * rng.standard_normal(n)
        signals[name] = x.astype(np.float32)
    return Recording(p.record_id, p.subject_id, SOURCE, signals, dict.fromkeys(signals, FS),
                     dict.fromkeys(signals, "mV"), 0.0, dict(p.labels), None,
                     {"r_peaks_s": p.r[(p.r >= 0) & (p.r < DURATION_S)]})


def _stratified_folds(keys: list[str], rng: np.random.Generator, folds: int = 10) -> np.ndarray:
    """Fold (1..folds) per patient: patients sorted by label signature, dealt round-robin."""
    order = rng.permutation(len(keys))
    order = order[np.argsort(np.asarray(keys, dtype=object)[order], kind="stable")]
    fold = np.empty(len(keys), int)
    fold[order] = np.arange(len(keys)) % folds + 1
    return fold


def ecg12_cohort(
    n_subjects: int, seed: int, records_per_subject: float = 1.15, artefacts: art.ArtefactRates | None = None,
    effects: Ecg12Effects | dict[str, float] | None = None,
) -> Cohort:
    """PTB-XL-like 10-s 12-lead ECGs at 500 Hz with SCP statements, folds and machine reports.

    Args:
        n_subjects: number of patients.
        seed: every array is a deterministic function of it.
        records_per_subject: mean records per patient (PTB-XL: 21,837 / 18,885 = 1.16).
        artefacts: baseline wander / mains / noise amplitudes (only the always-present ones apply).
        effects: the effect size of each diagnostic superclass (:class:`Ecg12Effects`, or a dict of some of
            its knobs); the default 1.0 everywhere is the original cohort, bit for bit.

    Returns:
        :class:`Cohort`; ``recordings.records`` and ``labels`` hold one row per record with
        ``patient_id``, ``strat_fold``, ``scp_codes``, ``superclass``, ``subclass``, ``form``, ``rhythm``,
        binary ``NORM``/``MI``/``STTC``/``CD``/``HYP``, ``heart_rate``, ``report``;
        ``info["statements"]`` is the statement table.
    """
    check_positive("ecg12_cohort", n_subjects=n_subjects, records_per_subject=records_per_subject)
    if records_per_subject < 1:
        raise ValueError(
            f"synthetic ecg12_cohort: records_per_subject must be >= 1, got {records_per_subject}"
        )
    rates = art.ArtefactRates() if artefacts is None else artefacts
    fx = Ecg12Effects.from_mapping(effects)
    rng = rng_for(seed, "ecg12", -1, "subjects")
    age = np.clip(rng.normal(60, 17, n_subjects), 18, 95)
    male = rng.random(n_subjects) < 0.52
    n_rec = 1 + rng.poisson(records_per_subject - 1, n_subjects)
    plans, i = {}, 0
    for pat in range(n_subjects):
        heart = _patient(pat, float(age[pat]), bool(male[pat]), seed, fx)
        for _ in range(n_rec[pat]):
            p = _record(i, pat, float(age[pat]), bool(male[pat]), seed, rates, heart, fx)
            plans[p.record_id] = p
            i += 1
    records = pd.DataFrame(
        [
            {"record_id": p.record_id, "subject_id": p.subject_id, "ecg_id": p.index + 1, **p.labels}
            for p in plans.values()
        ]
    )
    keys = records.groupby("patient_id")["superclass"].agg(
        lambda s: "|".join(sorted({c for x in s for c in x}))
    )
    folds = _stratified_folds(list(keys.to_numpy()), rng_for(seed, "ecg12", -1, "split"))
    records["strat_fold"] = records["patient_id"].map(dict(zip(keys.index, folds, strict=True)))
    for p in plans.values():
        p.labels["strat_fold"] = int(records.loc[records["record_id"] == p.record_id, "strat_fold"].iloc[0])
    subjects = (
        records.groupby("subject_id", sort=True)
        .agg(
            patient_id=("patient_id", "first"),
            age=("age", "first"),
            sex=("sex", "first"),
            male=("male", "first"),
            strat_fold=("strat_fold", "first"),
            n_records=("record_id", "size"),
        )
        .reset_index()
    )
    info = {
        "channels": list(dipole.LEADS_12),
        "fs": dict.fromkeys(dipole.LEADS_12, FS),
        "duration_s": DURATION_S,
        "statements": STATEMENTS.copy(),
        "superclasses": SUPERCLASSES,
        "split": {"train": list(range(1, 9)), "val": [9], "test": [10]},
        "effects": fx.as_dict(),
    }
    events = pd.DataFrame(columns=["record_id", "onset", "duration", "kind", "channel"])
    labels = records.assign(onset=0.0, duration=DURATION_S)
    rs = RecordingSet(SOURCE, records, LazyLoader(plans, render), {"fs": info["fs"]})
    return Cohort(SOURCE, rs, subjects, labels, events, info)
