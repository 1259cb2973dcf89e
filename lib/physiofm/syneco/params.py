"""Params schema of the SyneCo study (``params/<profile>/syneco.yaml``), one section per notebook step.

    shared      seed, probe seeds, threads/device, the methods compared, the model (encoders, fusion, losses)
    data        where segments come from (built-in synthetic cohorts or MIMIC-III / MIMIC-IV / VitalDB),
                SyneCo's preprocessing (section 2.4), splits, store layout, the structure proofs
    pretrain    the optimisation of every method (App. C.2): AdamW, cosine, batch, steps, validation,
                early stopping, cycle-based sampling
    probe       frozen-embedding probes (section 3, App. C.3): FC / LR / RF, seeds, pooling
    ablations   Stack vs fusion, 3 vs 2 channels (section 4.4)
    synergy     every method on redundant / unique / synergistic labels (ours: the paper never runs it)

The ``paper`` profile carries exactly the paper's settings (tests/test_syneco_params.py checks them);
``ci`` and ``demo`` shrink the cohort, encoders and budget. Every field is explicit in every YAML except
those whose default is the same in all three profiles (the paper's fixed loss and fusion constants).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from physiofm.config import PaperParams, Section

MethodName = Literal[
    "syneco", "syneco_2mod", "stack", "sleepfm_pair", "sleepfm_loo", "sleepfm_2mod",
    "simclr_ecg", "simclr_ppg", "byol_ecg", "byol_ppg",
]
ProbeName = Literal["fc", "lr", "rf"]
Fractions = tuple[float, float, float]  # pretrain, validation, held-out test shares of a source's subjects


# --------------------------------------------------------------------------------------------- shared
class Net1DSection(Section):
    """Keyword arguments of :class:`physiofm.models.Net1D` for every channel encoder (App. C.1)."""

    in_channels: Literal[1] = 1
    base_filters: int = Field(gt=0)
    filters: list[int] = Field(min_length=1)
    blocks: list[int] = Field(min_length=1)
    kernel_size: int = Field(gt=0)
    stride: int = Field(ge=1)
    groups_width: int = Field(gt=0)
    stem_stride: int = Field(ge=1)
    stem_kernel: int | None = Field(default=None, gt=0)
    use_bn: bool = True
    dropout: float = Field(ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _stages_agree(self) -> Net1DSection:
        if len(self.filters) != len(self.blocks):
            raise ValueError(f"filters {self.filters} and blocks {self.blocks} need one entry per stage")
        bad = [f for f in self.filters if f % self.groups_width]
        if bad:
            raise ValueError(f"stage widths {bad} are not multiples of groups_width={self.groups_width}")
        return self


class ModelSection(Section):
    """The method settings shared by all methods (:class:`physiofm.syneco.SyneCoConfig`)."""

    encoder: Net1DSection
    embed_dim: int = Field(default=512, gt=0)  # section 2.1
    temperature: float = Field(gt=0)  # not in the paper
    alpha: float = Field(default=0.5, ge=0)  # eq. (2)
    channel_dropout_p: float = Field(default=0.4, ge=0, le=1)  # section 2.2
    channel_pair_p: float = Field(default=0.3, ge=0, le=1)  # section 2.2
    noise_sigma: float = Field(default=0.05, ge=0)  # section 2.3
    amplitude_scale: float = Field(default=0.9, gt=0)  # section 2.3
    fusion_heads: int = Field(default=4, gt=0)  # section 2.1
    fusion_ff_mult: int = Field(default=4, gt=0)  # section 2.1
    fusion_dropout: float = Field(ge=0, lt=1)  # not in the paper
    sleepfm_init_log_scale: float = 0.0  # SleepFM code
    byol_hidden: int = Field(gt=0)  # BYOL paper: 4096
    byol_dim: int = Field(gt=0)  # BYOL paper: 256
    byol_tau: float = Field(default=0.996, gt=0, lt=1)  # BYOL paper

    def method_config(self) -> dict[str, Any]:
        """The dict :func:`physiofm.syneco.build_method` takes."""
        d = self.model_dump()
        d["net1d"] = d.pop("encoder")
        return d


class Shared(Section):
    seed: int = Field(ge=0)  # pretraining seed (one run per method)
    probe_seeds: list[int] = Field(min_length=1)  # App. C.3: 0, 42, 1234
    torch_threads: int | None = Field(gt=0)  # None: torch's default
    device: Literal["auto", "cpu", "cuda"]
    methods: list[MethodName] = Field(min_length=1)
    model: ModelSection

    @model_validator(mode="after")
    def _unique_methods(self) -> Shared:
        if len(set(self.methods)) != len(self.methods):
            raise ValueError(f"methods must be unique, got {self.methods}")
        return self


# ----------------------------------------------------------------------------------------------- data
class CohortSection(Section):
    """Arguments of :func:`physiofm.synthetic.icu_cohort`."""

    n_subjects: int = Field(gt=0)
    seed: int = Field(ge=0)
    duration_s: float = Field(gt=0)
    v_lead: Literal["V1", "V2", "V3", "V4", "V5", "V6"] = "V1"
    alarms_per_hour: float = Field(ge=0)
    artefact_scale: float = Field(ge=0)  # multiplies every episodic artefact rate


class RealSource(Section):
    """A pretraining database read by ``physiofm.datasets.load(dataset, data_root / subdir, **options)``."""

    dataset: Literal["mimic3_wave", "mimic4_wave", "vitaldb"]
    subdir: str
    options: dict[str, Any] = {}
    split: Fractions  # subjects: pretrain / validation / held-out test (App. B)


class DownstreamSource(Section):
    """A downstream benchmark dataset (paper profile): its loader and how its records become segments."""

    dataset: Literal["ptbxl", "chapman", "georgia", "dalia", "ppgbp", "vtac"]
    subdir: str
    options: dict[str, Any] = {}
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


class StoreSection(Section):
    subjects_per_shard: int = Field(gt=0)
    workers: int = Field(ge=1)


class ProofsSection(Section):
    """The data notebook's proof that the synthetic cohort's information structure is real."""

    records: int = Field(ge=0)  # records checked (R peaks, PTT, hand-made-feature classifiers); 0 = skip


class DataStep(Section):
    source: Literal["synthetic", "real"]
    pretrain_cohort: CohortSection | None = None
    downstream_cohort: CohortSection | None = None  # built in every profile: the synergy step's cohort
    synthetic_split: Fractions | None = None
    pretrain_sources: list[RealSource] = []
    downstream_sources: list[DownstreamSource] = []
    preprocess: PreprocessSection
    downstream_max_segments: int = Field(gt=0)  # per record, first ones kept (VitalDB tasks: up to 50)
    store: StoreSection
    proofs: ProofsSection
    example_segments: int = Field(ge=1)

    @model_validator(mode="after")
    def _source_complete(self) -> DataStep:
        if self.source == "synthetic":
            missing = [k for k in ("pretrain_cohort", "downstream_cohort", "synthetic_split")
                       if getattr(self, k) is None]
            if missing:
                raise ValueError(f"source 'synthetic' needs {missing}")
        elif not self.pretrain_sources:
            raise ValueError("source 'real' needs at least one entry in pretrain_sources")
        if self.downstream_cohort is None:  # the synergy step probes every profile's encoders on it
            raise ValueError("downstream_cohort is required (the synergy step's labelled cohort)")
        for name, fr in [("synthetic_split", self.synthetic_split)] + [
                (s.dataset, s.split) for s in self.pretrain_sources]:
            if fr is not None and (abs(sum(fr) - 1) > 1e-6 or min(fr) < 0):
                raise ValueError(f"{name}: split fractions {fr} must be >= 0 and sum to 1")
        return self


# ------------------------------------------------------------------------------------------- pretrain
class PretrainStep(Section):
    """App. C.2; one run per method, the same budget for all."""

    batch_size: int = Field(gt=1)
    max_steps: int = Field(gt=0)
    optimizer: Literal["adamw"] = "adamw"
    lr: float = Field(gt=0)
    weight_decay: float = Field(ge=0)
    schedule: Literal["cosine"] = "cosine"
    warmup_steps: int = Field(ge=0)
    grad_clip: float | None = Field(gt=0)
    val_every: int = Field(gt=0)
    patience: int | None = Field(gt=0)
    val_segments: int = Field(gt=1)  # the fixed validation subset
    cycle_fraction: float = Field(gt=0, le=1)  # share of each source drawn per cycle
    ckpt_every: int = Field(gt=0)
    log_every: int = Field(gt=0)
    num_workers: int = Field(ge=0)


# ---------------------------------------------------------------------------------------------- probe
class ProbeStep(Section):
    """Section 3 / App. C.3."""

    probes: list[ProbeName] = Field(min_length=1)
    test_fraction: float = Field(gt=0, lt=1)  # subject share held out per seed (built-in cohort)
    max_segments_per_subject: int = Field(gt=0)  # segments mean-pooled per subject (VitalDB: 50)
    segment_rows_per_subject: int | None = Field(gt=0)  # "segment" tasks: at most this many per subject
    embed_batch_size: int = Field(gt=0)
    rf_n_estimators: int = Field(gt=0)  # scikit-learn default: 100
    # Features tried per split by the regression forest: scikit-learn's default 1.0 (all); "sqrt" is the
    # classifier's default and ~20x cheaper on 512-d embeddings.
    rf_regression_max_features: Literal["sqrt"] | float
    fc_max_epochs: int = Field(gt=0)  # App. C.3: up to 100
    fc_patience: int = Field(gt=0)
    random_init_reference: bool  # also probe an untrained SyneCo encoder (ours)


class AblationsStep(Section):
    fusion: tuple[MethodName, MethodName]  # (fusion, concatenation): syneco vs stack
    channels: list[tuple[MethodName, MethodName]]  # (three-channel, two-channel) pairs


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
