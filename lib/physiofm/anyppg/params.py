"""The AnyPPG study's params schema: ``params/<profile>/anyppg.yaml`` -> :class:`AnyPPGParams`.

One section per notebook step (``data``, ``pretrain``, ``retrieval``, ``probing``) plus ``shared`` (the
seed, the runtime, the encoder and the runs: AnyPPG is the registry's ``clip`` method on PPG and ECG, the
baselines ``simclr`` and ``byol`` on two views of the PPG). Sections come from :mod:`physiofm.sections`.
The ``paper`` profile carries the paper's settings (Methods, "Data preprocessing", "Model architecture and
pretraining details", "Linear probing"); ci and demo shrink sizes and budgets but run the same code on the
built-in synthetic ICU cohort.

Data sources come in three kinds:

* ``synthetic_icu``: :func:`physiofm.synthetic.icu_cohort` with its own seed, size and artefact rates
  (ci/demo: several such cohorts stand in for the paper's several pretraining sources);
* ``registry``: a :func:`physiofm.datasets.load` dataset read from ``<data_root>/<subdir>`` (paper profile);
* ``unavailable``: a source the paper uses that this project cannot load (no loader); listed so the book
  and the tables can say so, never read.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from physiofm.anyppg.tasks import PROBE_TASKS
from physiofm.config import PaperParams, Section
from physiofm.sections import (
    EncoderSection,
    MethodChoice,
    NestedCVSection,
    PositiveFloat,
    RegistrySource,
    SharedSection,
    Source,
    StoreSection,
    SyntheticSource,
    TaskSection,
    TrainSection,
    UnavailableSource,
    check_fractions,
)

RunName = Literal["anyppg", "simclr", "byol"]


# ------------------------------------------------------------------------------------------------ shared
class Shared(SharedSection):
    encoder: EncoderSection  # both encoders of AnyPPG and the baselines' encoder (Tables 5 and 6)
    methods: dict[RunName, MethodChoice] = Field(min_length=1)  # run name -> registry method and settings


# -------------------------------------------------------------------------------------------------- data
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


class ProbeTaskSpec(TaskSection):
    """One probing task; ``analogue_of`` names the paper's task ids (``physiofm.anyppg.tasks``) it stands
    for."""

    analogue_of: list[str] = Field(default_factory=list)

    @field_validator("analogue_of")
    @classmethod
    def _paper_tasks(cls, v: list[str]) -> list[str]:
        known = {t.id for t in PROBE_TASKS}
        bad = [x for x in v if x not in known]
        if bad:
            raise ValueError(f"unknown paper task id(s) {bad}; known: {sorted(known)}")
        return v


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
    store: StoreSection
    example_segments: int = Field(ge=1, le=12)

    @model_validator(mode="after")
    def _valid(self) -> DataParams:
        check_fractions("split_fractions", self.split_fractions)
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
    """AnyPPG and the PPG-only baselines on the same data and budget (one run-loop run each); the run keeps
    the checkpoint of the best validation loss of its own objective."""

    methods: list[RunName] = Field(min_length=1)
    train: TrainSection


# --------------------------------------------------------------------------------------------- retrieval
class RetrievalParams(Section):
    """PPG-to-ECG retrieval on the held-out test sets (paper: batches of 2,560 pairs, Table 2)."""

    batch_pairs: int = Field(ge=2)
    ks: list[Annotated[int, Field(ge=1)]] = Field(min_length=1)
    split: Literal["test", "val"]
    checkpoint: Literal["best", "last"]
    embed_batch_size: int = Field(ge=1)


# ----------------------------------------------------------------------------------------------- probing
class ProbingParams(NestedCVSection):
    """Nested cross-validation of linear probes on frozen PPG-encoder features (paper: 5 x 5)."""

    methods: list[Literal["anyppg", "simclr", "byol", "random_init"]] = Field(min_length=1)


class Steps(Section):
    data: DataParams
    pretrain: PretrainParams
    retrieval: RetrievalParams
    probing: ProbingParams


class AnyPPGParams(PaperParams):
    shared: Shared
    steps: Steps
