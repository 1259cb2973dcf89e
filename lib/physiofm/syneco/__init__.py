"""SyneCo (Chen & Kim): synergy-aware contrastive pretraining of ECG-II, ECG-V and PPG, reproduced on the
engine.

The methods (``syneco``, ``stack``, ``sleepfm_pair``, ``sleepfm_loo``, ``simclr``, ``byol``) live in the
registry :mod:`physiofm.methods`; this package holds the study's own parts: its params schema
(:mod:`.params`), its data step (:mod:`.data`: SyneCo's preprocessing and zero-padding of short benchmark
records), its task mapping (:mod:`.tasks`), its probe step's choices (:mod:`.probing`), the synergy test
(:mod:`.synergy`), and its tables and figures (:mod:`.tables`, :mod:`.figures`).
"""
