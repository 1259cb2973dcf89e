"""Each paper's preprocessing as a short composition of :mod:`physiofm.signals` and :mod:`physiofm.segments`.

Every paper has a config dataclass whose defaults are the paper's numbers (the study's params files
override them) and a ``<paper>_segments(recordings, cfg)`` function returning :class:`Segments`:
``arrays`` (group -> ``(N, C, T)`` float32), one index row per segment, the output rates and the funnel.
The array part of SyneCo's and AnyPPG's paths is a separate ``*_transform`` on stacked windows, the
vectorised fast path the preprocessing benchmark measures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from physiofm.recording import Recording
from physiofm.segments import Funnel, Segments, resolve_channels, segment_recordings
from physiofm.signals import (
    butter_bandpass,
    cheby_bandpass,
    correct_polarity,
    ecg_sqi,
    fir_decimate,
    millivolt_factor,
    notch,
    pad_or_crop,
    resample,
    zscore,
)

LEADS_12 = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


def _aliases(lead: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((lead, lead.upper(), lead.lower())))


# --------------------------------------------------------------------------------------------- SyneCo
@dataclass
class SyneCoPreprocess:
    """SyneCo (paper 000, section 3 and appendix B). Groups are named as the model's batch keys.

    ``max_gap_s`` is ours (the paper does not say how isolated invalid samples are treated). The caps
    key on :attr:`Recording.source` ("*" = any other source); the PPG filter is PaPaGei's Chebyshev
    type II with 20 dB stop-band attenuation (see :func:`~physiofm.signals.cheby_bandpass`).
    """

    ecg: dict[str, tuple[str, ...]] = field(default_factory=lambda: {
        "ecg_ii": ("ecg_ii", "II", "ECG_II", "ECG II"),
        "ecg_v": ("ecg_v", "V", "V5", "ECG_V5", "ECG_V", "ECG V")})
    ppg: dict[str, tuple[str, ...]] = field(default_factory=lambda: {"ppg": ("ppg", "PLETH", "Pleth", "PPG")})
    window_s: float = 10.0
    min_duration_s: float = 600.0     # minimum continuous recording
    max_gap_s: float = 0.1            # ours: shorter NaN runs do not break a span's continuity ...
    max_invalid: float = 0.0          # ... but a window touching one is dropped ("simultaneously valid")
    max_flatline: float = 0.25
    flat_min_s: float = 1.0           # ours: a value held >= 1 s is flat (PaPaGei's flat segments have a
                                      # minimum duration); shorter repeats are quantisation, not flatline
    ecg_fs: float = 500.0
    ppg_fs: float = 125.0
    ecg_band: tuple[float, float] = (0.67, 40.0)
    ecg_order: int = 5                # Butterworth
    ppg_band: tuple[float, float] = (0.5, 8.0)
    ppg_order: int = 4                # Chebyshev II
    ppg_rs: float = 20.0              # dB, PaPaGei / pyPPG
    record_cap: dict[str, int] = field(default_factory=lambda: {"mimic3_wave": 50, "mimic4_wave": 1000})
    subject_cap: dict[str, int] = field(default_factory=lambda: {"vitaldb": 500})
    seed: int = 0


def syneco_transform(arrays: Mapping[str, np.ndarray], fs: Mapping[str, float],
                     cfg: SyneCoPreprocess | None = None) -> dict[str, np.ndarray]:
    """Raw stacked windows -> model inputs: resample -> band-pass -> per-segment, per-lead z-score.

    Args:
        arrays: group -> ``(N, C, T_in)`` raw windows (groups named in ``cfg.ecg`` / ``cfg.ppg``).
        fs: group -> input rate in Hz.

    Returns:
        group -> ``(N, C, window_s * rate)`` float32: ECG ``(N, 1, 5000)`` at 500 Hz, PPG ``(N, 1, 1250)``
        at 125 Hz with the defaults.
    """
    cfg = cfg or SyneCoPreprocess()
    out = {}
    for g, x in arrays.items():
        x = np.asarray(x, dtype=np.float32)
        if g in cfg.ecg:
            x = butter_bandpass(resample(x, fs[g], cfg.ecg_fs), cfg.ecg_fs, *cfg.ecg_band, cfg.ecg_order)
        elif g in cfg.ppg:
            x = cheby_bandpass(resample(x, fs[g], cfg.ppg_fs), cfg.ppg_fs, *cfg.ppg_band, cfg.ppg_order,
                               cfg.ppg_rs)
        else:
            raise ValueError(f"syneco_transform: group {g!r} is neither ECG {list(cfg.ecg)} "
                             f"nor PPG {list(cfg.ppg)}")
        out[g] = zscore(x).astype(np.float32, copy=False)
    return out


def syneco_segments(recordings: Iterable[Recording], cfg: SyneCoPreprocess | None = None,
                    progress: bool = False) -> Segments:
    """SyneCo: >= 10 min valid spans -> 10-s windows -> flatline QC -> caps -> filter/resample/z-score."""
    cfg = cfg or SyneCoPreprocess()
    parts = segment_recordings(recordings, {**cfg.ecg, **cfg.ppg}, cfg.window_s,
                               min_duration_s=cfg.min_duration_s, max_gap_s=cfg.max_gap_s,
                               max_invalid=cfg.max_invalid, max_flatline=cfg.max_flatline,
                               flat_min_s=cfg.flat_min_s, record_cap=cfg.record_cap,
                               subject_cap=cfg.subject_cap, seed=cfg.seed, progress=progress)
    rates = {g: cfg.ecg_fs for g in cfg.ecg} | {g: cfg.ppg_fs for g in cfg.ppg}
    done = [Segments(syneco_transform(p.arrays, p.fs, cfg), p.index, rates, p.funnel)
            for p in parts if len(p)]
    return Segments.concat(done, funnel=parts[0].funnel if parts else Funnel())


# --------------------------------------------------------------------------------------------- AnyPPG
@dataclass
class AnyPPGPreprocess:
    """AnyPPG (paper 002, Methods "Data preprocessing"): PPG-ECG pairs, everything at 125 Hz.

    Windows are 10 s, tiled over every stretch where both channels are present; a window is dropped
    when more than 25 % of its samples were invalid (NaN) or flat. Then PPG 0.5-8 Hz (4th-order
    Chebyshev II, as Liang/Elgendi's optimal short-PPG filter and PaPaGei), ECG 0.5-40 Hz (4th-order
    Butterworth: the paper names no type or order) plus a 50 Hz notch (Q = 30, skipped when 50 Hz is not
    below the input's Nyquist frequency), ECG polarity correction, Zhao (2018) ECG quality screening
    (windows rated "Unacceptable" are dropped; PPG is deliberately not screened), resampling to 125 Hz
    and a z-score over time. We rate ECG quality at 125 Hz, after resampling, so every source is judged
    at the same rate. The SQI costs one neurokit2 call per window (about 10 ms); set ``sqi=False`` to skip.
    """

    ppg: tuple[str, ...] = ("ppg", "PLETH", "Pleth", "PPG")
    ecg: tuple[str, ...] = ("ecg_ii", "II", "ECG_II", "ECG II", "ECG")
    window_s: float = 10.0
    min_duration_s: float = 0.0
    max_gap_s: float = 2.5            # gaps up to 25 % of a window are filled, then counted as invalid
    max_invalid: float = 0.25
    max_flatline: float = 0.25
    flat_min_s: float = 1.0           # ours, as SyneCo: "motionless" = a value held >= 1 s
    fs: float = 125.0
    ppg_band: tuple[float, float] = (0.5, 8.0)
    ppg_order: int = 4
    ppg_rs: float = 20.0
    ecg_band: tuple[float, float] = (0.5, 40.0)
    ecg_order: int = 4
    notch_freq: float = 50.0
    notch_quality: float = 30.0
    polarity: bool = True
    sqi: bool = True
    sqi_approach: str = "simple"
    sqi_reject: tuple[str, ...] = ("Unacceptable",)
    record_cap: int | dict[str, int] | None = None
    subject_cap: int | dict[str, int] | None = None
    seed: int = 0


def anyppg_transform(arrays: Mapping[str, np.ndarray], fs: Mapping[str, float],
                     cfg: AnyPPGPreprocess | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Raw ``{"ppg", "ecg"}`` windows -> (z-scored 125 Hz arrays, ``(N,)`` ECG quality class strings)."""
    cfg = cfg or AnyPPGPreprocess()
    ppg = cheby_bandpass(np.asarray(arrays["ppg"], np.float32), fs["ppg"], *cfg.ppg_band, cfg.ppg_order,
                         cfg.ppg_rs)
    ecg = butter_bandpass(np.asarray(arrays["ecg"], np.float32), fs["ecg"], *cfg.ecg_band, cfg.ecg_order)
    if cfg.notch_freq and cfg.notch_freq < fs["ecg"] / 2:
        ecg = notch(ecg, fs["ecg"], cfg.notch_freq, cfg.notch_quality)
    if cfg.polarity:
        ecg, _ = correct_polarity(ecg, fs["ecg"])
    ppg, ecg = resample(ppg, fs["ppg"], cfg.fs), resample(ecg, fs["ecg"], cfg.fs)
    quality = ecg_sqi(ecg[:, 0], cfg.fs, cfg.sqi_approach) if cfg.sqi else np.full(len(ecg), "", object)
    return {"ppg": zscore(ppg).astype(np.float32), "ecg": zscore(ecg).astype(np.float32)}, quality


def anyppg_segments(recordings: Iterable[Recording], cfg: AnyPPGPreprocess | None = None,
                    progress: bool = False) -> Segments:
    """AnyPPG: 10-s windows -> invalid/flat QC -> filter, notch, polarity -> ECG SQI -> 125 Hz -> z-score."""
    cfg = cfg or AnyPPGPreprocess()
    parts = segment_recordings(recordings, {"ppg": cfg.ppg, "ecg": cfg.ecg}, cfg.window_s,
                               min_duration_s=cfg.min_duration_s, max_gap_s=cfg.max_gap_s,
                               max_flatline=cfg.max_flatline, flat_min_s=cfg.flat_min_s,
                               max_invalid=cfg.max_invalid, record_cap=cfg.record_cap,
                               subject_cap=cfg.subject_cap, seed=cfg.seed, progress=progress)
    funnel = parts[0].funnel if parts else Funnel()
    done = []
    for p in (p for p in parts if len(p)):
        arrays, quality = anyppg_transform(p.arrays, p.fs, cfg)
        keep = ~np.isin(quality, cfg.sqi_reject)
        funnel.drop("after_qc", "ecg_sqi", int((~keep).sum()))
        funnel.add("after_qc", -int((~keep).sum()))
        funnel.add("after_caps", -int((~keep).sum()))
        index = p.index.assign(ecg_sqi=quality)
        done.append(Segments(arrays, index, {"ppg": cfg.fs, "ecg": cfg.fs}, funnel).select(keep))
    return Segments.concat(done, funnel=funnel)


# ------------------------------------------------------------------------------- 12-lead ECG papers
@dataclass
class ECG12Preprocess:
    """One fixed-length 12-lead segment per record, in millivolts.

    hybrid_ecg (paper 001): 250 Hz, 10 s (2,500 samples per lead), "MV-Unit 1.0", i.e. physical mV.
    D-BETA (paper 004): 500 Hz, 10 s; records holding NaN are removed, shorter records (CODE-test's
    7 s) are zero-padded and longer ones cropped to the first 10 s. Neither paper filters or z-scores;
    ``zscore=True`` adds a per-lead z-score. Missing units are taken as mV (the :class:`Recording`
    convention for ECG); a record with a lead in a non-voltage unit is dropped (funnel ``ecg_unit``),
    one holding NaN too (``nan``). ``group`` names the store group (the batch key a method reads: hybrid_ecg
    ``ecg``, D-BETA ``ecg12``).
    """

    leads: tuple[str, ...] = LEADS_12
    fs: float = 250.0
    duration_s: float = 10.0
    zscore: bool = False
    group: str = "ecg"


def hybrid_ecg_config(**overrides) -> ECG12Preprocess:
    return ECG12Preprocess(**({"fs": 250.0} | overrides))


def dbeta_config(**overrides) -> ECG12Preprocess:
    return ECG12Preprocess(**({"fs": 500.0, "group": "ecg12"} | overrides))


def ecg12_segments(recordings: Iterable[Recording], cfg: ECG12Preprocess, progress: bool = False) -> Segments:
    """12-lead records -> ``{cfg.group: (N, 12, fs * duration_s)}`` float32 in mV, one row per record."""
    funnel, arrays, rows = Funnel(), [], []
    n_out = int(round(cfg.fs * cfg.duration_s))
    for rec in tqdm(recordings, desc="ecg12", disable=not progress):
        funnel.add("records")
        names = resolve_channels(rec, {lead: _aliases(lead) for lead in cfg.leads})
        if names is None:
            funnel.drop("valid_spans", "missing_channel")
            continue
        try:  # a lead in a unit that is not a voltage cannot be brought to mV: the record is unusable
            factors = {ch: millivolt_factor(rec.units.get(ch, "mV")) for ch in names.values()}
        except ValueError:
            funnel.drop("valid_spans", "ecg_unit")
            continue
        funnel.add("valid_spans")
        funnel.add("windows")
        leads = []
        for ch in names.values():
            x = np.asarray(rec.signals[ch], dtype=np.float64) * factors[ch]
            leads.append(resample(x, rec.fs[ch], cfg.fs) if not np.isnan(x).any() else None)
        if any(x is None for x in leads):
            funnel.drop("after_qc", "nan")
            continue
        x = np.stack([pad_or_crop(x, n_out) for x in leads])
        arrays.append(zscore(x) if cfg.zscore else x)
        rows.append({"subject_id": str(rec.subject_id), "record_id": str(rec.record_id),
                     "source": str(rec.source), "offset_s": 0.0, "start_time": float(rec.start_time),
                     **{k: v for k, v in rec.labels.items() if np.isscalar(v) or v is None}})
    funnel.add("after_qc", len(rows))
    funnel.add("after_caps", len(rows))
    stacked = (np.stack(arrays).astype(np.float32) if arrays
               else np.zeros((0, len(cfg.leads), n_out), np.float32))
    return Segments({cfg.group: stacked}, pd.DataFrame(rows), {cfg.group: cfg.fs}, funnel)


def hybrid_ecg_segments(recordings: Iterable[Recording], cfg: ECG12Preprocess | None = None,
                        progress: bool = False) -> Segments:
    """hybrid_ecg: 12 leads, 250 Hz, 10 s, mV -> ``{"ecg": (N, 12, 2500)}``."""
    return ecg12_segments(recordings, cfg or hybrid_ecg_config(), progress)


def dbeta_segments(recordings: Iterable[Recording], cfg: ECG12Preprocess | None = None,
                   progress: bool = False) -> Segments:
    """D-BETA: 12 leads, 500 Hz, 10 s, mV -> ``{"ecg12": (N, 12, 5000)}`` (the ``dbeta`` method's key)."""
    return ecg12_segments(recordings, cfg or dbeta_config(), progress)


# ------------------------------------------------------------------------------------------- MultiMAE
@dataclass
class MultiMAEPreprocess:
    """MultiMAE (paper 003): PhysioNet 2018 F3-M2 EEG, E1-M2 EOG, Chin1-Chin2 EMG and ECG; zero-phase
    FIR band-pass (EEG/EOG 0.1-30 Hz, EMG/ECG 0.1-70 Hz) over the whole night, decimation 200 -> 100 Hz,
    then a z-score per recording and channel over the whole night (NaN-aware: long gaps are left out of the
    mean and standard deviation; the paper does not say how it scales the signals, so this is our choice),
    then 30-s windows labelled with the sleep-stage annotation covering their centre. Windows holding
    any gap longer than ``max_gap_s`` are not formed; shorter gaps are interpolated."""

    channels: dict[str, tuple[str, ...]] = field(default_factory=lambda: {
        "eeg": ("F3-M2",), "eog": ("E1-M2",), "emg": ("Chin1-Chin2", "CHIN1-CHIN2"), "ecg": ("ECG",)})
    bands: dict[str, tuple[float, float]] = field(default_factory=lambda: {
        "eeg": (0.1, 30.0), "eog": (0.1, 30.0), "emg": (0.1, 70.0), "ecg": (0.1, 70.0)})
    fs_in: float = 200.0
    factor: int = 2
    numtaps: int = 2001
    window_s: float = 30.0
    max_gap_s: float = 1.0
    max_flatline: float = 1.0         # the paper applies no flatline rule
    zscore: bool = True               # ours: per recording and channel, over the valid samples of the night


def _nan_zscore(x: np.ndarray, what: str) -> np.ndarray:
    """(x - mean) / sd over the finite samples (NaN stays NaN); a channel with no valid sample or no
    variance is an error naming it."""
    valid = np.isfinite(x)
    if not valid.any():
        raise ValueError(f"{what}: no valid sample to z-score")
    sd = float(np.std(x[valid]))
    if not sd > 0:
        raise ValueError(f"{what}: constant signal (standard deviation 0), cannot z-score")
    return (x - float(np.mean(x[valid]))) / sd


def multimae_record(rec: Recording, cfg: MultiMAEPreprocess | None = None) -> Recording:
    """Filter and decimate each used channel over the whole record (NaN gaps filled first)."""
    cfg = cfg or MultiMAEPreprocess()
    from physiofm.signals import interpolate_gaps

    names = resolve_channels(rec, cfg.channels)
    if names is None:
        return rec
    signals, fs = {}, {}
    for g, ch in names.items():
        if abs(rec.fs[ch] - cfg.fs_in) > 1e-6:
            raise ValueError(f"multimae: record {rec.record_id} channel {ch} is at {rec.fs[ch]} Hz, "
                             f"expected {cfg.fs_in} Hz")
        x = interpolate_gaps(np.asarray(rec.signals[ch], dtype=np.float64), cfg.fs_in, cfg.max_gap_s)
        nan = np.isnan(x)
        y = fir_decimate(np.where(nan, 0.0, x), cfg.fs_in, *cfg.bands[g], cfg.factor, cfg.numtaps)
        y[nan[::cfg.factor]] = np.nan  # long gaps stay invalid after filtering
        if cfg.zscore:
            y = _nan_zscore(y, f"multimae: record {rec.record_id} channel {ch}")
        signals[g], fs[g] = y, cfg.fs_in / cfg.factor
    units = {g: rec.units.get(ch, "") for g, ch in names.items()}
    return Recording(rec.record_id, rec.subject_id, rec.source, signals, fs, units, rec.start_time,
                     rec.labels, rec.annotations, rec.meta)


def multimae_segments(recordings: Iterable[Recording], cfg: MultiMAEPreprocess | None = None,
                      progress: bool = False) -> Segments:
    """MultiMAE: filter + decimate per record -> 30-s windows -> one ``(N, 1, 3000)`` group per modality."""
    cfg = cfg or MultiMAEPreprocess()
    parts = segment_recordings((multimae_record(r, cfg) for r in recordings),
                               {g: (g,) for g in cfg.channels}, cfg.window_s, max_gap_s=0.0,
                               max_flatline=cfg.max_flatline, progress=progress)
    return Segments.concat(parts)
