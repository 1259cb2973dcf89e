"""Synthetic cohorts with a known information structure — the study's built-in data.

Three generators, one per family of papers, each returning a :class:`Cohort` whose ``recordings``
are raw :class:`~physiofm.recording.Recording` objects at the real sampling rates (so the real
preprocessing and segmentation path runs on them), with subject and segment label tables:

- :func:`icu_cohort` — co-recorded ECG II + V (500 Hz) and PPG (125 Hz) (SyneCo, AnyPPG);
- :func:`ecg12_cohort` — PTB-XL-like 10-s 12-lead records with SCP statements, folds and
  MIMIC-IV-ECG-style machine reports (hybrid_ecg, D-BETA);
- :func:`psg_cohort` — overnight PSG: EEG F3-M2, EOG, chin EMG, ECG at 200 Hz in 30-s epochs (MultiMAE).

:mod:`physiofm.synthetic.proofs` checks that the structure is real.
"""

from physiofm.synthetic import proofs
from physiofm.synthetic.artefacts import ArtefactRates
from physiofm.synthetic.cohort import Cohort
from physiofm.synthetic.ecg12 import ecg12_cohort
from physiofm.synthetic.icu import icu_cohort
from physiofm.synthetic.psg import psg_cohort

__all__ = ["ArtefactRates", "Cohort", "ecg12_cohort", "icu_cohort", "proofs", "psg_cohort"]
