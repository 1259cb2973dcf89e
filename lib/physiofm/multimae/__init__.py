"""MultiMAE (Fang et al., "Promoting cross-modal representations to improve multimodal foundation models for
physiological signals"), on the engine.

The models are registry methods (:mod:`physiofm.methods`): ``multimae`` and ``multimae_drop`` (the unimodal
MAE baselines are ``multimae`` on one modality), ``simclr`` on adjacent windows and ``sleepfm_pair`` /
``sleepfm_loo`` with one MultiMAE encoder per modality (the ``multimae`` encoder kind), a fixed temperature
and projectors. This package holds the study's own parts: params (:mod:`.params`), the task mapping
(:mod:`.tasks`), the data step (:mod:`.data`), which runs are probed and fine-tuned (:mod:`.evaluate`), the
tables (:mod:`.tables`), the analyses of §4.4 (:mod:`.analysis`), figures (:mod:`.figures`) and the claims
(:mod:`.claims`).
"""
