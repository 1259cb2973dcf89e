"""Signal processing on arrays shaped ``(..., T)``: the sampling rate in Hz is always an argument.

Filters (zero-phase): :func:`butter_bandpass`, :func:`cheby_bandpass`, :func:`notch`, :func:`fir_bandpass`.
Rates: :func:`resample` (polyphase), :func:`fir_decimate`, :func:`pad_or_crop`.
Amplitude: :func:`zscore`, :func:`to_millivolts`.
Gaps: :func:`interpolate_gaps`, :func:`runs`, :func:`valid_intervals`.
Quality: :func:`flatline_fraction`, :func:`ecg_inverted`, :func:`correct_polarity`, :func:`ecg_sqi`.
"""

from physiofm.signals.filters import butter_bandpass, cheby_bandpass, fir_bandpass, notch
from physiofm.signals.gaps import interpolate_gaps, runs, valid_intervals
from physiofm.signals.quality import SQI_LEVELS, correct_polarity, ecg_inverted, ecg_sqi, flatline_fraction
from physiofm.signals.resampling import fir_decimate, pad_or_crop, rate_ratio, resample
from physiofm.signals.transforms import millivolt_factor, to_millivolts, zscore

__all__ = [
    "SQI_LEVELS", "butter_bandpass", "cheby_bandpass", "correct_polarity", "ecg_inverted", "ecg_sqi",
    "fir_bandpass", "fir_decimate", "flatline_fraction", "interpolate_gaps", "millivolt_factor", "notch",
    "pad_or_crop", "rate_ratio", "resample", "runs", "to_millivolts", "valid_intervals", "zscore",
]
