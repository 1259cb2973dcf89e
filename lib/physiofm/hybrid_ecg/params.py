"""Params schema of the hybrid_ecg study (``params/<profile>/hybrid_ecg.yaml``), from physiofm.sections.

    shared      seed, runtime, evaluation seeds, the four tasks, the base ViT-1D every grid configuration
                varies, and the three objectives: cl / gl / hl -> registry method (``hybrid`` without
                reconstruction, ``mae`` with the L1 loss, ``hybrid`` 1 : 1 : 1)
    data        pretraining sources (MIMIC-IV-ECG, CODE-15; UK Biobank, IKEM, SaMi-Trop listed as unavailable)
                and the downstream set (PTB-XL), the paper's preprocessing (250 Hz, 10 s, mV, no filter),
                strat_fold splits with a stratified validation share of the pool
    pretrain    the grid (patch x depth x width x objective) and the one run loop's settings
    grid        linear probes of every grid run, the box plots and the selection rule
    probe       Table 1: linear probes of the selected models and random-init encoders over the seeds
    finetune    Table 3: fine-tuning of the selected models, supervised ViTs and the 1-D ResNet-50
    scarcity    Table 4 (low incidence) and Table 5 (label fractions)
    risk        Table 2: risk decomposition of the linear probes

The ``paper`` profile carries exactly the paper's settings (tests/test_hybrid_ecg_params.py checks them) and
the defaults of ``../shared/specs/hybrid_ecg.md`` where the paper is silent; ``ci`` and ``demo`` shrink the
cohorts, the widths and the budgets.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from physiofm.config import PaperParams, Section
from physiofm.sections import (
    LinearHeadSection,
    MethodChoice,
    ResNet1DSection,
    SharedSection,
    Source,
    StoreSection,
    TaskSection,
    TrainSection,
    ViT1DSection,
    check_fractions,
)

Objective = Literal["cl", "gl", "hl"]
OBJECTIVES: tuple[Objective, ...] = ("cl", "gl", "hl")


class Shared(SharedSection):
    seeds: list[int] = Field(min_length=1)  # evaluation seeds (mean ± sd over them)
    tasks: list[TaskSection] = Field(min_length=1)  # MI, STTC, CD, HYP: binary, one-vs-rest
    # The ViT-1D every configuration starts from (leads, samples); the grid sets patch, depth and width.
    encoder: ViT1DSection
    methods: dict[Objective, MethodChoice]

    @model_validator(mode="after")
    def _complete(self) -> Shared:
        missing = [m for m in OBJECTIVES if m not in self.methods]
        if missing:
            raise ValueError(f"methods: every objective needs a run, missing {missing}")
        for name, choice in self.methods.items():
            if choice.method not in ("mae", "hybrid"):
                raise ValueError(f"methods.{name}: {choice.method!r} is not a ViT-1D objective (mae, hybrid)")
        return self


# ------------------------------------------------------------------------------------------------- data
class PreprocessSection(Section):
    """:class:`physiofm.preprocess.ECG12Preprocess` (§3.1): 12 leads resampled to ``fs``, ``duration_s``
    long, in mV; no filter, no normalisation."""

    fs: float = Field(gt=0)
    duration_s: float = Field(gt=0)
    zscore: bool


class DownstreamSplit(Section):
    """PTB-XL's ``strat_fold``: ``test_folds`` are the test set, the others the pool, of which a stratified
    ``val_fraction`` of the patients is the validation share (early stopping)."""

    fold_column: str
    test_folds: list[int] = Field(min_length=1)
    val_fraction: float = Field(gt=0, lt=1)


class DataStep(Section):
    pretrain_sources: list[Source] = Field(min_length=1)
    downstream: Source
    preprocess: PreprocessSection
    pretrain_split: tuple[float, float, float]  # patients: pretraining / validation loss / unused
    downstream_split: DownstreamSplit
    store: StoreSection
    example_records: int = Field(ge=1, le=8)

    @model_validator(mode="after")
    def _valid(self) -> DataStep:
        check_fractions("pretrain_split", self.pretrain_split)
        if not any(s.kind != "unavailable" for s in self.pretrain_sources):
            raise ValueError("pretrain_sources: at least one source must be loadable")
        if self.downstream.kind == "unavailable":
            raise ValueError("downstream: the probing data must be loadable")
        return self


# --------------------------------------------------------------------------------------------- pretrain
class GridSection(Section):
    """The architecture grid (§3.3 RQ1): every ``patch_sizes`` x ``depths`` x ``widths`` configuration, a
    Latin square of them (each value of each axis in three configurations), or, for quick checks, the
    diagonal (each value once), for each objective."""

    patch_sizes: list[int] = Field(min_length=3, max_length=3)
    depths: list[int] = Field(min_length=3, max_length=3)
    widths: list[int] = Field(min_length=3, max_length=3)
    design: Literal["full", "latin_square", "diagonal"]
    # App. C, Tables 8-11: configurations that ran out of memory in the paper (case = 9 iP + 3 iD + iW)
    paper_oom: dict[Objective, list[int]]
    skip_paper_oom: bool  # leave them out, as the paper's grid does


class PretrainStep(Section):
    grid: GridSection
    train: TrainSection


# ------------------------------------------------------------------------------------------------ probe
class LinearProbeSection(LinearHeadSection):
    """The linear probe (§3.2): a linear head on frozen embeddings, early stopping on the validation share."""

    embed_batch_size: int = Field(gt=0)
    checkpoint: Literal["best", "last"] = "best"

    def probe_kwargs(self) -> dict[str, dict]:
        return {"fc": {**self.fc_options(), "standardise": True}}


class GridStep(LinearProbeSection):
    seeds: list[int] = Field(min_length=1)  # probe seeds of the grid (the paper: one run per configuration)
    reading: Literal["pooled", "per_task"]  # how the selection rule reads the box plots (see grid.py)


class ProbeStep(LinearProbeSection):
    random_init: bool  # Table 1's random-init encoders of the selected architectures


# --------------------------------------------------------------------------------------------- finetune
class FinetuneSection(Section):
    """Fine-tuning (§3.2): encoder + linear head, binary cross-entropy per task, early stopping."""

    batch_size: int = Field(gt=1)
    max_steps: int = Field(gt=0)
    lr: float = Field(gt=0)  # the encoder's (and the head's unless head_lr is given)
    head_lr: float | None = Field(default=None, gt=0)
    weight_decay: float = Field(ge=0)
    betas: tuple[float, float]
    warmup_steps: int = Field(ge=0)
    val_every: int = Field(gt=0)
    patience: int = Field(gt=0)


class FinetuneStep(FinetuneSection):
    resnet: ResNet1DSection  # the supervised 1-D ResNet-50 baseline


class ScarcityStep(FinetuneSection):
    seeds: list[int] | None = None  # None: shared.seeds
    case_ratios: list[float] = Field(min_length=1)  # Table 4
    case_ratio_tasks: list[str] | None = None  # Table 4's diseases by task name (None: all four)
    n_total: int = Field(gt=0)  # training records per disease (7,000)
    label_fractions: list[float] = Field(min_length=1)  # Table 5

    @model_validator(mode="after")
    def _ratios(self) -> ScarcityStep:
        if not all(0 < r < 1 for r in [*self.case_ratios, *self.label_fractions]):
            raise ValueError("case_ratios and label_fractions must lie in (0, 1)")
        return self


class RiskStep(Section):
    probe: Literal["lr", "fc"]  # the probe of the decomposition (reference: Optuna-tuned; here fixed)
    max_iter: int = Field(gt=0)  # lbfgs iterations of the "lr" probe (scikit-learn's 100 stop short here)
    embed_batch_size: int = Field(gt=0)


class Steps(Section):
    data: DataStep
    pretrain: PretrainStep
    grid: GridStep
    probe: ProbeStep
    finetune: FinetuneStep
    scarcity: ScarcityStep
    risk: RiskStep


class HybridEcgParams(PaperParams):
    shared: Shared
    steps: Steps
