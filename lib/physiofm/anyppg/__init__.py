"""AnyPPG (Nie et al.): ECG-guided PPG pretraining by CLIP alignment of two Net1D encoders, on the engine.

AnyPPG is the registry's ``clip`` method on PPG and ECG, its PPG-only baselines ``simclr`` and ``byol`` on
two views of the PPG (:mod:`physiofm.methods`). This package holds the study's own parts: its params
(:mod:`.params`), its data step (:mod:`.data`: one store per source, PPG-only probe sets), the paper's
evaluation as data (:mod:`.tasks`), retrieval and probing choices (:mod:`.evaluate`), tables and figures
(:mod:`.report`).
"""
