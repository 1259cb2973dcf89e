"""Params schema of the SyneCo study (``params/<profile>/syneco.yaml``), built from :mod:`physiofm.sections`.

    shared      seed, runtime, probe seeds, the shared channel encoder, and the runs of the comparison:
                run id -> registry method and its settings (SyneCo 2mod is ``syneco`` on the two ECG leads,
                SimCLR / BYOL are trained once per downstream modality, ...)
    data        where segments come from (built-in synthetic cohorts or MIMIC-III / MIMIC-IV / VitalDB and
                the benchmarks), SyneCo's preprocessing (section 2.4), splits, stores, the structure proofs
    pretrain    seeds and the run loop's settings (App. C.2): AdamW, cosine, batch, steps, validation,
                early stopping, cycle-based sampling
    probe       frozen-embedding probes (section 3, App. C.3): FC / LR / RF, pooling
    ablations   Stack vs fusion, 3 vs 2 channels (section 4.4)
    synergy     every method on redundant / unique / synergistic labels (ours: the paper never runs it)

The ``paper`` profile carries exactly the paper's settings (tests/test_syneco_params.py checks them);
``ci`` and ``demo`` shrink the cohort, encoders and budget.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from physiofm.config import PaperParams, Section
from physiofm.sections import (
    CohortSection,
    EncoderSection,
    Fractions,
    HoldoutProbeSection,
    MethodChoice,
    RegistrySource,
    SharedSection,
    StoreSection,
    TrainSection,
    check_fractions,
)

# The runs of the paper's comparison (Tables 1-3 name their rows after these).
RunName = Literal[
    "syneco", "syneco_2mod", "stack", "sleepfm_pair", "sleepfm_loo", "sleepfm_2mod",
    "simclr_ecg", "simclr_ppg", "byol_ecg", "byol_ppg",
]
ProbeName = Literal["fc", "lr", "rf"]


class Shared(SharedSection):
    probe_seeds: list[int] = Field(min_length=1)  # App. C.3: 0, 42, 1234
    encoder: EncoderSection  # every channel encoder of every run (App. C.1)
    methods: dict[RunName, MethodChoice] = Field(min_length=1)


# ----------------------------------------------------------------------------------------------- data
class PretrainSource(RegistrySource):
    """A pretraining database (paper profile) and its subject split."""

    split: Fractions  # subjects: pretrain / validation / held-out test (App. B)


class DownstreamSource(RegistrySource):
    """A downstream benchmark dataset (paper profile): how its records become 10-s segments."""

    window_s: float = Field(gt=0)  # window cut from the record before zero-padding to 10 s
    pad_short: bool  # zero-pad records / windows shorter than 10 s (DaLiA 8 s, PPG-BP ~2.1 s)


class PreprocessSection(Section):
    """:class:`physiofm.preprocess.SyneCoPreprocess` (section 2.4)."""

    window_s: float = Field(gt=0)
    min_duration_s: float = Field(ge=0)
    max_gap_s: float = Field(ge=0)
    max_invalid: float = Field(ge=0, le=1)
    max_flatline: float = Field(ge=0, le=1)
    ecg_fs: float = Field(gt=0)
    ppg_fs: float = Field(gt=0)
    ecg_band: tuple[float, float]
    ecg_order: int = Field(gt=0)
    ppg_band: tuple[float, float]
    ppg_order: int = Field(gt=0)
    ppg_rs: float = Field(gt=0)
    record_cap: dict[str, int] = {}
    subject_cap: dict[str, int] = {}


class ProofsSection(Section):
    """The data notebook's proof that the synthetic cohort's information structure is real."""

    records: int = Field(ge=0)  # records checked (R peaks, PTT, hand-made-feature classifiers); 0 = skip


class DataStep(Section):
    source: Literal["synthetic", "real"]
    pretrain_cohort: CohortSection | None = None
    downstream_cohort: CohortSection  # built in every profile: the synergy step's cohort
    synthetic_split: Fractions | None = None
    pretrain_sources: list[PretrainSource] = []
    downstream_sources: list[DownstreamSource] = []
    preprocess: PreprocessSection
    # Segments per record of the VitalDB test cases (App. D: "up to 50 segments") and of the built-in
    # downstream cohort; the benchmark datasets keep every window.
    downstream_max_segments: int = Field(gt=0)
    store: StoreSection
    proofs: ProofsSection
    example_segments: int = Field(ge=1)

    @model_validator(mode="after")
    def _source_complete(self) -> DataStep:
        if self.source == "synthetic":
            missing = [k for k in ("pretrain_cohort", "synthetic_split") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"source 'synthetic' needs {missing}")
        elif not self.pretrain_sources:
            raise ValueError("source 'real' needs at least one entry in pretrain_sources")
        check_fractions("synthetic_split", self.synthetic_split)
        for s in self.pretrain_sources:
            check_fractions(s.dataset, s.split)
        return self


class PretrainStep(Section):
    """App. C.2: one run per method and seed, the same budget for all."""

    seeds: list[int] = Field(min_length=1)  # App. C.3: "all experiments" with 0, 42, 1234
    train: TrainSection


class ProbeStep(HoldoutProbeSection):
    """Section 3 / App. C.3."""

    random_init_reference: bool  # also probe an untrained SyneCo model (ours)


class AblationsStep(Section):
    fusion: tuple[RunName, RunName]  # (fusion, concatenation): syneco vs stack
    channels: list[tuple[RunName, RunName]]  # (three-channel, two-channel) pairs


class SynergyStep(Section):
    labels: dict[str, list[str]] = Field(min_length=1)  # information kind -> labels
    probe: ProbeName
    levels: list[Literal["segment", "subject"]] = Field(min_length=1)
    per_channel: list[str]  # methods whose channel embeddings are probed one by one (first level only)
    test_fraction: float = Field(gt=0, lt=1)
    max_segments_per_subject: int = Field(gt=0)  # "subject" level: segments mean-pooled
    segment_rows_per_subject: int | None = Field(gt=0)  # "segment" level: at most this many per subject


class Steps(Section):
    data: DataStep
    pretrain: PretrainStep
    probe: ProbeStep
    ablations: AblationsStep
    synergy: SynergyStep


class SynecoParams(PaperParams):
    shared: Shared
    steps: Steps
