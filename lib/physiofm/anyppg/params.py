"""The AnyPPG study's params schema: ``params/<profile>/anyppg.yaml`` -> :class:`AnyPPGParams`.

One section per notebook step (``data``, ``pretrain``, ``retrieval``, ``probing``) plus ``shared`` (the
seed, the model and the torch thread count every step needs). The ``paper`` profile carries the paper's
settings (Methods, "Data preprocessing", "Model architecture and pretraining details", "Linear probing");
ci and demo shrink sizes and budgets but run the same code on the built-in synthetic ICU cohort.

Data sources come in three kinds:

* ``synthetic_icu``: :func:`physiofm.synthetic.icu_cohort` with its own seed, size and artefact rates
  (ci/demo: several such cohorts stand in for the paper's several pretraining sources);
* ``registry``: a :func:`physiofm.datasets.load` dataset read from ``<data_root>/<subdir>`` (paper profile);
* ``unavailable``: a source the paper uses that this project cannot load (no loader); listed so the book
  and the tables can say so, never read.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from physiofm.config import PaperParams, Section

Name = Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
PositiveFloat = Annotated[float, Field(gt=0)]


# ------------------------------------------------------------------------------------------------ shared
class EncoderSpec(Section):
    """Keyword arguments of :meth:`physiofm.models.Net1D.anyppg` (the paper: Tables 5 and 6)."""

    base_filters: int = Field(ge=1)
    filters: list[Annotated[int, Field(ge=1)]] = Field(min_length=1)
    blocks: list[Annotated[int, Field(ge=1)]] = Field(min_length=1)
    kernel_size: int = Field(ge=1)
    stride: int = Field(ge=1)
    groups_width: int = Field(ge=1)
    stem_stride: int = Field(ge=1)
    dropout: float = Field(ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _shapes(self) -> EncoderSpec:
        if len(self.filters) != len(self.blocks):
            raise ValueError(f"filters {self.filters} and blocks {self.blocks} must have the same length")
        bad = [f for f in self.filters if f % self.groups_width]
        if bad:
            raise ValueError(f"stage widths {bad} are not multiples of groups_width={self.groups_width}")
        return self


class ModelSpec(Section):
    """Two encoders + projectors 1024 -> 512 -> 256 and the learnable temperature (paper: init 0.07)."""

    encoder: EncoderSpec
    proj_hidden: int = Field(ge=1)
    embed_dim: int = Field(ge=1)
    init_temperature: float = Field(gt=0.0)
    max_logit_scale: float = Field(ge=1.0)


class Shared(Section):
    seed: int = Field(ge=0)
    threads: int = Field(ge=1, le=256)  # torch and BLAS threads per notebook kernel (see anyppg.runtime)
    model: ModelSpec


# -------------------------------------------------------------------------------------------------- data
class SyntheticSource(Section):
    """A synthetic ICU cohort used as one source (:func:`physiofm.synthetic.icu_cohort`)."""

    kind: Literal["synthetic_icu"]
    name: Name
    n_subjects: int = Field(ge=2)
    seed: int = Field(ge=0)
    duration_s: PositiveFloat
    artefact_scale: float = Field(ge=0.0)
    mains_hz: Literal[50.0, 60.0]
    alarms_per_hour: float = Field(ge=0.0)
    note: str = ""


class RegistrySource(Section):
    """A dataset read by :func:`physiofm.datasets.load` from ``<data_root>/<subdir>``."""

    kind: Literal["registry"]
    name: Name
    dataset: str
    subdir: str
    options: dict[str, Any] = Field(default_factory=dict)
    note: str = ""

    @field_validator("dataset")
    @classmethod
    def _known(cls, v: str) -> str:
        from physiofm.datasets import names

        if v not in names():
            raise ValueError(f"{v!r} is not a physiofm.datasets registry name ({', '.join(names())})")
        return v


class UnavailableSource(Section):
    """A source of the paper that cannot be loaded here; recorded, never read."""

    kind: Literal["unavailable"]
    name: Name
    paper_name: str
    reason: str


Source = Annotated[SyntheticSource | RegistrySource | UnavailableSource, Field(discriminator="kind")]


class PreprocessSpec(Section):
    """:class:`physiofm.preprocess.AnyPPGPreprocess` (paper: Methods, "Data preprocessing")."""

    ppg_channels: list[str] = Field(min_length=1)
    ecg_channels: list[str] = Field(min_length=1)
    window_s: PositiveFloat
    max_invalid: float = Field(ge=0.0, le=1.0)
    max_flatline: float = Field(ge=0.0, le=1.0)
    max_gap_s: float = Field(ge=0.0)
    fs: PositiveFloat
    ppg_band: tuple[PositiveFloat, PositiveFloat]
    ecg_band: tuple[PositiveFloat, PositiveFloat]
    notch_freq: float = Field(ge=0.0)
    polarity: bool
    sqi: bool
    sqi_reject: list[str]
    record_cap: int | None = Field(default=None, ge=1)
    subject_cap: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _bands(self) -> PreprocessSpec:
        for name in ("ppg_band", "ecg_band"):
            lo, hi = getattr(self, name)
            if not lo < hi < self.fs / 2:
                raise ValueError(f"{name} {lo}-{hi} Hz must satisfy low < high < fs/2 = {self.fs / 2} Hz")
        return self


class ProbeTaskSpec(Section):
    """One probing target: a column of the probe set's segment index.

    ``positive`` turns a categorical column into a binary label (1 when the value is listed);
    ``analogue_of`` names the paper's task ids (``physiofm.anyppg.tasks``) this one stands for.
    """

    name: Name
    target: str
    kind: Literal["regression", "binary", "multiclass"]
    unit: str | None = None
    positive: list[str] | None = None
    analogue_of: list[str] = Field(default_factory=list)
    note: str = ""

    @field_validator("analogue_of")
    @classmethod
    def _paper_tasks(cls, v: list[str]) -> list[str]:
        from physiofm.anyppg.tasks import PROBE_TASKS

        known = {t.id for t in PROBE_TASKS}
        bad = [x for x in v if x not in known]
        if bad:
            raise ValueError(f"unknown paper task id(s) {bad}; known: {sorted(known)}")
        return v

    @model_validator(mode="after")
    def _positive(self) -> ProbeTaskSpec:
        if self.positive is not None and self.kind != "binary":
            raise ValueError(f"task {self.name}: 'positive' only makes sense for kind 'binary'")
        return self


class SyntheticProbeSet(SyntheticSource):
    tasks: list[ProbeTaskSpec] = Field(min_length=1)
    max_segments_per_subject: int | None = Field(default=None, ge=1)


class RegistryProbeSet(RegistrySource):
    tasks: list[ProbeTaskSpec] = Field(min_length=1)
    max_segments_per_subject: int | None = Field(default=None, ge=1)


ProbeSet = Annotated[SyntheticProbeSet | RegistryProbeSet | UnavailableSource, Field(discriminator="kind")]


class ProofSpec(Section):
    """Checks that the built-in cohort carries what it claims (:mod:`physiofm.synthetic.proofs`), run on a
    small cohort drawn like the first synthetic probe set: heart rate and pulse-transit time measured from
    ``records`` records; the information-structure AUROC table on ``structure_subjects`` subjects
    (0 skips it)."""

    records: int = Field(ge=1)
    structure_subjects: int = Field(ge=0)
    structure_labels: list[str]


class DataParams(Section):
    proof: ProofSpec | None
    sources: list[Source] = Field(min_length=1)
    probe_sets: list[ProbeSet] = Field(min_length=1)
    preprocess: PreprocessSpec
    split_fractions: tuple[float, float, float]
    subjects_per_shard: int = Field(ge=1)
    workers: int = Field(ge=1)
    example_segments: int = Field(ge=1, le=12)

    @field_validator("split_fractions")
    @classmethod
    def _fractions(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        if min(v) < 0 or abs(sum(v) - 1.0) > 1e-9:
            raise ValueError(f"split fractions {v} must be >= 0 and sum to 1")
        return v

    @model_validator(mode="after")
    def _unique(self) -> DataParams:
        for what, items in (("sources", self.sources), ("probe_sets", self.probe_sets)):
            names = [s.name for s in items]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"{what}: duplicate name(s) {dup}")
        if not any(s.kind != "unavailable" for s in self.sources):
            raise ValueError("sources: at least one source must be loadable (not 'unavailable')")
        return self


# ---------------------------------------------------------------------------------------------- pretrain
class PretrainParams(Section):
    """Training of AnyPPG and the PPG-only baselines on the same data and budget (one Trainer run each)."""

    methods: list[Literal["anyppg", "simclr", "byol"]] = Field(min_length=1)
    gpus: int = Field(ge=1)
    batch_size_per_gpu: int = Field(ge=2)
    optimizer: Literal["adamw", "adam"]
    lr: PositiveFloat
    weight_decay: float = Field(ge=0.0)
    decay_groups: Literal["all", "matrices"]
    betas: tuple[float, float]
    schedule: Literal["cosine", "constant"]
    warmup_steps: int = Field(ge=0)
    max_steps: int = Field(ge=1)
    grad_clip: float | None = Field(gt=0.0)
    val_every: int = Field(ge=1)
    val_max_batches: int | None = Field(default=None, ge=1)
    ckpt_every: int | None = Field(default=None, ge=1)
    log_every: int = Field(ge=1)
    select: Literal["best_val_loss"]
    num_workers: int = Field(ge=0)
    simclr_temperature: PositiveFloat
    byol_base_momentum: float = Field(gt=0.0, lt=1.0)
    max_mask_fraction: float = Field(ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _warmup(self) -> PretrainParams:
        if self.warmup_steps > self.max_steps:
            raise ValueError(f"warmup_steps {self.warmup_steps} exceeds max_steps {self.max_steps}")
        return self


# --------------------------------------------------------------------------------------------- retrieval
class RetrievalParams(Section):
    """PPG-to-ECG retrieval on the held-out test sets (paper: batches of 2,560 pairs, Table 2)."""

    batch_pairs: int = Field(ge=2)
    ks: list[Annotated[int, Field(ge=1)]] = Field(min_length=1)
    split: Literal["test", "val"]
    checkpoint: Literal["best", "last"]
    embed_batch_size: int = Field(ge=1)


# ----------------------------------------------------------------------------------------------- probing
class ProbingParams(Section):
    """Nested cross-validation of linear probes on frozen PPG-encoder features (paper: 5 x 5)."""

    methods: list[Literal["anyppg", "simclr", "byol", "random_init"]] = Field(min_length=1)
    checkpoint: Literal["best", "last"]
    outer_folds: int = Field(ge=2)
    inner_folds: int = Field(ge=2)
    group_by_subject: bool
    logreg_C: list[PositiveFloat] = Field(min_length=1)
    logreg_solvers: list[Literal["lbfgs", "saga"]] = Field(min_length=1)
    ridge_alpha: list[PositiveFloat] = Field(min_length=1)
    ridge_solvers: list[Literal["auto", "cholesky", "sparse_cg"]] = Field(min_length=1)
    max_iter: int = Field(ge=1)
    embed_batch_size: int = Field(ge=1)
    n_jobs: int = Field(ge=1)


class Steps(Section):
    data: DataParams
    pretrain: PretrainParams
    retrieval: RetrievalParams
    probing: ProbingParams


class AnyPPGParams(PaperParams):
    shared: Shared
    steps: Steps
