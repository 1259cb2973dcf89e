"""physiofm.signals: filter responses at named frequencies, zero phase, resampling, z-score, gaps, QC."""

from __future__ import annotations

import numpy as np
import pytest

from physiofm import signals
from physiofm.signals import (
    butter_bandpass,
    cheby_bandpass,
    fir_bandpass,
    fir_decimate,
    flatline_fraction,
    interpolate_gaps,
    notch,
    resample,
    zscore,
)


def zero_phase_response(filt, fs: float, duration_s: float = 60.0):
    """Gain of a zero-phase filter: the spectrum of its response to a centred unit impulse."""
    n = int(duration_s * fs)
    x = np.zeros(n)
    x[n // 2] = 1.0
    y = filt(x)
    freqs, gain = np.fft.rfftfreq(n, 1 / fs), np.abs(np.fft.rfft(y))
    return lambda f: float(np.interp(f, freqs, gain)), y


# (filter, fs, {pass-band Hz: (min gain, max gain)}, {stop-band Hz: max gain})
SPECS = {
    # SyneCo ECG: 5th-order Butterworth 0.67-40 Hz; filtfilt squares the gain: -6 dB (0.5) at the edges.
    "butter_syneco_ecg": (lambda x: butter_bandpass(x, 500, 0.67, 40, 5), 500,
                          {1.0: (0.97, 1.01), 5.0: (0.99, 1.01), 20.0: (0.99, 1.01), 0.67: (0.45, 0.55),
                           40.0: (0.45, 0.55)}, {0.1: 1e-4, 0.3: 2e-3, 80.0: 1e-3, 150.0: 1e-5}),
    # SyneCo/AnyPPG PPG: 4th-order Chebyshev II 0.5-8 Hz, 20 dB single-pass stop band -> 40 dB zero-phase.
    "cheby_syneco_ppg": (lambda x: cheby_bandpass(x, 125, 0.5, 8, 4), 125,
                         {1.0: (0.98, 1.01), 2.0: (0.99, 1.01), 4.0: (0.98, 1.01)},
                         {0.2: 0.011, 0.5: 0.011, 8.0: 0.011, 12.0: 0.011, 30.0: 0.011}),
    # AnyPPG ECG: 0.5-40 Hz Butterworth (order 4) at 250 Hz.
    "butter_anyppg_ecg": (lambda x: butter_bandpass(x, 250, 0.5, 40, 4), 250,
                          {2.0: (0.98, 1.01), 15.0: (0.99, 1.01)}, {0.05: 1e-3, 100.0: 1e-3}),
    # AnyPPG 50 Hz notch, Q = 30.
    "notch_50": (lambda x: notch(x, 500, 50, 30), 500, {10.0: (0.99, 1.01), 40.0: (0.98, 1.01)},
                 {50.0: 1e-3}),
    # MultiMAE EEG/EOG anti-aliasing FIR 0.1-30 Hz at 200 Hz (single linear-phase pass: -6 dB at edges).
    "fir_multimae_eeg": (lambda x: fir_bandpass(x, 200, 0.1, 30), 200,
                         {0.5: (0.99, 1.01), 10.0: (0.99, 1.01), 30.0: (0.45, 0.55)},
                         {35.0: 1e-3, 60.0: 1e-3}),
    "fir_multimae_emg": (lambda x: fir_bandpass(x, 200, 0.1, 70), 200,
                         {1.0: (0.99, 1.01), 50.0: (0.99, 1.01)}, {80.0: 1e-3, 95.0: 1e-3}),
}


@pytest.mark.parametrize("name", list(SPECS))
def test_frequency_response_meets_specification(name):
    filt, fs, passband, stopband = SPECS[name]
    gain, _ = zero_phase_response(filt, fs)
    for f, (lo, hi) in passband.items():
        assert lo <= gain(f) <= hi, f"{name}: gain {gain(f):.4f} at {f} Hz outside [{lo}, {hi}]"
    for f, hi in stopband.items():
        assert gain(f) <= hi, f"{name}: stop-band gain {gain(f):.2e} at {f} Hz above {hi}"


@pytest.mark.parametrize("name", list(SPECS))
def test_filters_are_zero_phase_peak_does_not_move(name):
    filt, fs, _, _ = SPECS[name]
    t = np.arange(int(20 * fs)) / fs
    for t0 in (7.3, 12.05):
        # A QRS-like 15-ms Gaussian spike on a slow baseline wave: the filtered maximum stays put.
        x = np.exp(-0.5 * ((t - t0) / 0.015) ** 2) + 0.3 * np.sin(2 * np.pi * 0.2 * t)
        y = filt(x)
        assert abs(int(np.argmax(y)) - int(round(t0 * fs))) <= 1, name
    _, impulse_response = zero_phase_response(filt, fs, duration_s=20.0)
    mid = len(impulse_response) // 2
    np.testing.assert_allclose(impulse_response[mid - 200:mid], impulse_response[mid + 1:mid + 201][::-1],
                               atol=1e-6 * np.abs(impulse_response).max())


def test_filters_work_on_stacks_and_keep_float32():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((3, 2, 5000)) + 2000.0).astype(np.float32)  # raw ADC-like offset
    y = butter_bandpass(x, 500, 0.67, 40, 5)
    assert y.shape == x.shape and y.dtype == np.float32
    # float32 filtering agrees with float64 to ~1e-3 of the signal's unit spread despite the offset.
    np.testing.assert_allclose(y[1, 0], butter_bandpass(x[1, 0].astype(np.float64), 500, 0.67, 40, 5),
                               rtol=0, atol=2e-3)


def test_filters_reject_nan_and_cutoffs_above_nyquist():
    x = np.ones(1000)
    x[10] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        butter_bandpass(x, 500, 0.67, 40, 5)
    with pytest.raises(ValueError, match="Nyquist"):
        butter_bandpass(np.ones(1000), 62.5, 0.67, 40, 5)
    with pytest.raises(ValueError, match="NaN"):
        resample(x, 500, 250)


@pytest.mark.parametrize(("fs_in", "fs_out"), [(250, 500), (500, 125), (200, 100), (125, 500), (360, 250)])
def test_resampling_keeps_sine_frequency_and_amplitude(fs_in, fs_out):
    f0, amp, dur = 7.0, 1.7, 10.0
    t = np.arange(int(dur * fs_in)) / fs_in
    y = resample(amp * np.sin(2 * np.pi * f0 * t), fs_in, fs_out)
    assert y.shape == (int(dur * fs_out),)
    t_out = np.arange(len(y)) / fs_out
    core = slice(int(1 * fs_out), int(9 * fs_out))  # leave the filter's edge transients out
    # Least-squares fit of sin/cos at f0: amplitude and the residual show frequency and amplitude kept.
    basis = np.stack([np.sin(2 * np.pi * f0 * t_out[core]), np.cos(2 * np.pi * f0 * t_out[core])], 1)
    coef, *_ = np.linalg.lstsq(basis, y[core], rcond=None)
    assert np.hypot(*coef) == pytest.approx(amp, rel=0.01)
    assert np.abs(y[core] - basis @ coef).max() < 0.02 * amp
    spectrum = np.abs(np.fft.rfft(y, n=20 * len(y)))
    assert np.fft.rfftfreq(20 * len(y), 1 / fs_out)[np.argmax(spectrum)] == pytest.approx(f0, abs=0.02)


def test_resample_stacks_equal_rates_and_exact_lengths():
    x = np.random.default_rng(1).standard_normal((4, 1, 2500))
    assert resample(x, 250, 500).shape == (4, 1, 5000)
    assert resample(x, 250, 250) is x
    assert resample(np.ones(2499), 250, 500).shape == (4998,)


def test_fir_decimate_halves_rate_and_keeps_inband_sine():
    fs = 200
    t = np.arange(60 * fs) / fs
    y = fir_decimate(np.sin(2 * np.pi * 5 * t) + np.sin(2 * np.pi * 45 * t), fs, 0.1, 30, factor=2)
    assert y.shape == (6000,)
    t2 = t[::2]
    core = slice(1000, 5000)
    # 5 Hz survives; 45 Hz lies outside the 0.1-30 Hz band and is removed before decimation.
    np.testing.assert_allclose(y[core], np.sin(2 * np.pi * 5 * t2[core]), atol=0.01)


def test_zscore_per_segment_and_lead():
    rng = np.random.default_rng(2)
    x = rng.normal(5, 3, (6, 3, 1000)) * np.arange(1, 4)[None, :, None]
    z = zscore(x)
    np.testing.assert_allclose(z.mean(-1), 0, atol=1e-10)
    np.testing.assert_allclose(z.std(-1), 1, atol=1e-6)
    flat = zscore(np.full((2, 100), 3.0))
    assert np.isfinite(flat).all() and np.abs(flat).max() == 0


def test_flatline_fraction_counts_repeated_samples_per_channel():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 1001))
    x[0, 1, 100:351] = 0.5      # 251 equal samples -> 250 repeats of 1000 pairs
    x[1, 2, :] = 1.0
    f = flatline_fraction(x)
    assert f.shape == (2, 3)
    assert f[0, 1] == pytest.approx(0.25)
    assert f[1, 2] == 1.0
    assert f[0, 0] == 0.0


def test_flatline_fraction_with_a_minimum_run_ignores_quantisation_repeats():
    x = np.arange(1001, dtype=float)
    x[10:13] = 7.0              # 3 identical samples: 2 repeats
    x[500:801] = 3.0            # 301 identical samples: 300 repeats
    x[900:905] = 9.0            # 5 identical samples: 4 repeats
    assert flatline_fraction(x) == pytest.approx(306 / 1000)
    assert flatline_fraction(x, min_run=5) == pytest.approx(304 / 1000)
    assert flatline_fraction(x, min_run=6) == pytest.approx(300 / 1000)
    assert flatline_fraction(x, min_run=301) == pytest.approx(300 / 1000)
    assert flatline_fraction(x, min_run=302) == 0.0
    stacked = np.stack([x, np.full(1001, 2.0), np.arange(1001.0)])
    np.testing.assert_allclose(flatline_fraction(stacked[:, None], min_run=250)[:, 0], [0.3, 1.0, 0.0])


def test_interpolate_gaps_fills_short_keeps_long_and_edges():
    fs = 100.0
    x = np.arange(1000, dtype=float)
    x[[0, 1]] = np.nan              # touches the start: stays
    x[200:205] = np.nan             # 0.05 s: filled linearly
    x[500:700] = np.nan             # 2 s: stays
    y = interpolate_gaps(x, fs, max_gap_s=0.5)
    np.testing.assert_allclose(y[200:205], np.arange(200, 205))
    assert np.isnan(y[500:700]).all() and np.isnan(y[:2]).all()
    assert np.isnan(x[200:205]).all()  # input untouched


def test_to_millivolts_converts_units_and_rejects_unknown():
    assert signals.to_millivolts(np.array([1000.0]), "uV")[0] == pytest.approx(1.0)
    assert signals.to_millivolts(np.array([0.002]), "V")[0] == pytest.approx(2.0)
    assert signals.to_millivolts(np.array([1.5]), "mV")[0] == 1.5
    with pytest.raises(ValueError, match="unknown ECG unit"):
        signals.to_millivolts(np.ones(3), "mmHg")


@pytest.fixture(scope="module")
def clean_ecg():
    nk = pytest.importorskip("neurokit2")
    fs = 250
    segs = np.stack([nk.ecg_simulate(duration=10, sampling_rate=fs, heart_rate=hr, noise=0.01, random_state=i)
                     for i, hr in enumerate((60, 75, 90))])
    return butter_bandpass(segs, fs, 0.5, 40, 4), fs


def test_polarity_detected_and_corrected(clean_ecg):
    ecg, fs = clean_ecg
    stack = np.concatenate([ecg, -ecg])
    corrected, inverted = signals.correct_polarity(stack, fs)
    np.testing.assert_array_equal(inverted, [False] * 3 + [True] * 3)
    np.testing.assert_allclose(corrected[3:], ecg)


def test_ecg_sqi_zhao2018_separates_clean_from_noise(clean_ecg):
    ecg, fs = clean_ecg
    noise = butter_bandpass(np.random.default_rng(4).standard_normal((2, ecg.shape[1])), fs, 0.5, 40, 4)
    quality = signals.ecg_sqi(np.concatenate([ecg, noise]), fs)
    assert set(quality) <= set(signals.SQI_LEVELS)
    assert all(q != "Unacceptable" for q in quality[:3])
    assert all(q == "Unacceptable" for q in quality[3:])
