"""hybrid_ecg (Song et al., KDD 2025): contrastive (CL), generative (GL) and hybrid (HL) pretraining of a
1-D ViT on 12-lead ECG, reproduced on the engine.

The objectives are registry methods (:mod:`physiofm.methods`: ``hybrid`` without reconstruction = CL, ``mae``
with the L1 loss = GL, ``hybrid`` 1 : 1 : 1 = HL) on the backbone kind ``vit1d``; the paired-record batches of
the patient-level term come from the engine's batching (:class:`physiofm.sampler.PairedBatches`). This package
holds the study's own parts: its params schema (:mod:`.params`), its data step (:mod:`.data`), the
architecture grid and the selection rule (:mod:`.grid`), which encoders and rows each evaluation reads
(:mod:`.evaluate`), and its tables, claims and figures (:mod:`.tables`, :mod:`.figures`).
"""
