"""The D-BETA study (Pham, Saeed & Ma, ICML 2025): params, tasks, data step, evaluation, claims and report.

The method itself is the registry's ``dbeta`` (:mod:`physiofm.methods.dbeta`); this package only maps the
paper onto the engine (:mod:`physiofm.training.run`, :mod:`physiofm.evaluation`, :mod:`physiofm.embeddings`).
"""
