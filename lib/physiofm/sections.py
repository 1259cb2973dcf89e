"""Typed params sections every paper composes its schema from (``params/<profile>/<paper>.yaml``).

A paper's schema (``physiofm.<paper>.params``) is a :class:`physiofm.config.PaperParams` whose ``shared`` and
``steps`` sections are built from these, adding only what is its own:

==========================  ===========================================================================
section                     what it configures
==========================  ===========================================================================
:class:`RuntimeSection`     threads and device of every notebook kernel (``shared.runtime``)
:class:`EncoderSection`     one channel encoder: a backbone of the :mod:`physiofm.models` registry
                            (``kind``: net1d, vit1d, resnet1d, multimae,
                            ecg_conv_transformer, scratch_text, t5_text) and an
                            optional linear embedding head
:class:`MethodChoice`       one pretraining run: a method of :mod:`physiofm.methods` and its config
:class:`TrainSection`       the run loop (:func:`physiofm.training.pretrain`): optimiser, schedule,
                            batches, validation, checkpoints
:class:`StoreSection`       how segment stores are built (:func:`physiofm.store.build_store`)
:class:`CohortSection`      a built-in synthetic ICU cohort (:func:`physiofm.synthetic.icu_cohort`)
:class:`Ecg12CohortSection` a built-in synthetic 12-lead cohort in a loader's label layout
:class:`PsgCohortSection`   the built-in overnight PSG cohort (:func:`physiofm.synthetic.psg_cohort`)
:data:`Source`              a data source: a synthetic cohort, a registry dataset, or one that cannot be
                            loaded here (:mod:`physiofm.sources`)
:class:`TaskSection`        one probing task (:class:`physiofm.evaluation.tasks.Task`)
:class:`HoldoutProbeSection`  frozen-embedding probes on held-out subjects (FC / LR / RF, seeds)
:class:`NestedCVSection`    nested cross-validated linear probes (grids, folds)
==========================  ===========================================================================

Fields without a default must be written in every profile; defaults are the values every profile shares.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from physiofm import datasets, methods
from physiofm.config import Section
from physiofm.evaluation.tasks import Task
from physiofm.synthetic.ecg12 import Ecg12Effects
from physiofm.synthetic.icu import IcuEffects
from physiofm.synthetic.psg import PsgEffects

Name = Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
PositiveFloat = Annotated[float, Field(gt=0)]
Fractions = tuple[float, float, float]  # train, validation, held-out test shares of a source's subjects


def check_fractions(what: str, fractions: Fractions | None) -> None:
    if fractions is not None and (abs(sum(fractions) - 1) > 1e-6 or min(fractions) < 0):
        raise ValueError(f"{what}: split fractions {fractions} must be >= 0 and sum to 1")


# ---------------------------------------------------------------------------------------------- runtime
class RuntimeSection(Section):
    """Threads and device of a notebook kernel (:mod:`physiofm.runtime`)."""

    torch_threads: int | None = Field(default=None, ge=1, le=256)  # torch + BLAS threads; None: defaults
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # Worker processes for independent runs, embeddings and probes (physiofm.parallel): the same numbers as
    # one after another, in less time when cores are free. 1: all in the notebook's own process.
    workers: int = Field(default=1, ge=1, le=64)


# ---------------------------------------------------------------------------------------------- encoder
class Net1DSection(Section):
    """A :class:`physiofm.models.Net1D` backbone: ``preset``'s keyword arguments, each field given overriding
    it (``preset`` None: Net1D's own defaults), then, with ``embed_dim``, a linear map to ``embed_dim`` and
    L2 normalisation (SyneCo §2.1); without it the backbone's pooled features are the embedding."""

    kind: Literal["net1d"] = "net1d"
    preset: Literal["ecgfounder", "anyppg"] | None = None
    in_channels: int | None = Field(default=None, ge=1)
    base_filters: int | None = Field(default=None, gt=0)
    filters: list[int] | None = Field(default=None, min_length=1)
    blocks: list[int] | None = Field(default=None, min_length=1)
    kernel_size: int | None = Field(default=None, gt=0)
    stride: int | None = Field(default=None, ge=1)
    groups_width: int | None = Field(default=None, gt=0)
    stem_stride: int | None = Field(default=None, ge=1)
    stem_kernel: int | None = Field(default=None, gt=0)
    use_bn: bool | None = None
    dropout: float | None = Field(default=None, ge=0.0, lt=1.0)
    embed_dim: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _stages_agree(self) -> Net1DSection:
        if self.filters is not None and self.blocks is not None and len(self.filters) != len(self.blocks):
            raise ValueError(f"filters {self.filters} and blocks {self.blocks} need one entry per stage")
        if self.filters is not None and self.groups_width is not None:
            bad = [f for f in self.filters if f % self.groups_width]
            if bad:
                raise ValueError(f"stage widths {bad} are not multiples of groups_width={self.groups_width}")
        return self

    def spec(self) -> dict[str, Any]:
        """The dict :func:`physiofm.models.build_encoder` takes (fields left unset are not passed)."""
        return {k: v for k, v in self.model_dump().items() if v is not None or k == "embed_dim"}


class ECGConvTransformerSection(Section):
    """D-BETA's ECG encoder (:class:`physiofm.models.ECGEncoderConfig`; unset fields keep the paper's sizes),
    read at its CLS state; with ``embed_dim``, a linear map and L2 normalisation on top."""

    kind: Literal["ecg_conv_transformer"]
    leads: int | None = Field(default=None, ge=1)
    conv_channels: int | None = Field(default=None, gt=0)
    conv_layers: int | None = Field(default=None, ge=1)
    width: int | None = Field(default=None, gt=0)
    layers: int | None = Field(default=None, ge=1)
    heads: int | None = Field(default=None, ge=1)
    ffn: int | None = Field(default=None, gt=0)
    pos_kernel: int | None = Field(default=None, ge=2)
    pos_groups: int | None = Field(default=None, ge=1)
    dropout: float | None = Field(default=None, ge=0.0, lt=1.0)
    dropout_input: float | None = Field(default=None, ge=0.0, lt=1.0)
    embed_dim: int | None = Field(default=None, gt=0)

    def spec(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v is not None or k == "embed_dim"}


class ScratchTextSection(Section):
    """A text tower trained from scratch (:class:`physiofm.models.ScratchTextEncoder`) on a fitted WordPiece
    tokenizer; ``tokenizer_file`` may name a data-step asset (``asset:tokenizer.json``)."""

    kind: Literal["scratch_text"]
    tokenizer_file: str
    width: int = Field(default=256, gt=0)
    layers: int = Field(default=4, ge=1)
    heads: int = Field(default=4, ge=1)
    ffn: int = Field(default=1024, gt=0)
    max_length: int = Field(default=256, ge=2)
    dropout: float = Field(default=0.1, ge=0.0, lt=1.0)
    embed_dim: int | None = Field(default=None, gt=0)

    def spec(self) -> dict[str, Any]:
        return self.model_dump()


class ViT1DSection(Section):
    """A :class:`physiofm.models.ViT1D` backbone (hybrid_ecg §3.2): patch ``patch_size`` samples, ``depth``
    pre-LN blocks of ``width`` (heads = width / 64 unless given), positions for ``signal_length`` samples;
    the representation is the mean of the tokens, or, with ``embed_dim``, a linear map of it + L2 norm."""

    kind: Literal["vit1d"]
    in_channels: int = Field(default=12, ge=1)
    patch_size: int = Field(gt=0)
    depth: int = Field(gt=0)
    width: int = Field(gt=0)
    signal_length: int = Field(default=2500, gt=0)
    heads: int | None = Field(default=None, gt=0)
    mlp_ratio: float = Field(default=4.0, gt=0)
    embed_dim: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _fits(self) -> ViT1DSection:
        if self.patch_size > self.signal_length:
            raise ValueError(f"patch_size {self.patch_size} exceeds signal_length {self.signal_length}")
        heads = self.heads or max(1, self.width // 64)
        if self.width % heads or self.width % 2:
            raise ValueError(f"width {self.width} must be even and divisible by its {heads} heads")
        return self

    def spec(self) -> dict[str, Any]:
        return self.model_dump()


class T5TextSection(Section):
    """A (Flan-)T5 encoder from a local checkpoint directory (``model_dir``, maybe ``asset:<name>``)."""

    kind: Literal["t5_text"]
    model_dir: str
    max_length: int = Field(default=256, ge=2)
    embed_dim: int | None = Field(default=None, gt=0)

    def spec(self) -> dict[str, Any]:
        return self.model_dump()


class ResNet1DSection(Section):
    """A :class:`physiofm.models.ResNet1D` backbone (hybrid_ecg's 1-D ResNet-50: blocks 3 / 4 / 6 / 3, base
    width 64); features are the time-mean of the last stage (32 x base_width)."""

    kind: Literal["resnet1d"]
    in_channels: int = Field(default=12, ge=1)
    blocks: list[int] = Field(default=[3, 4, 6, 3], min_length=4, max_length=4)  # blocks of the 4 stages
    base_width: int = Field(default=64, gt=0)
    embed_dim: int | None = Field(default=None, gt=0)

    def spec(self) -> dict[str, Any]:
        return self.model_dump()


class MultiMAEEncoderSection(Section):
    """MultiMAE's tokeniser + transformer on one channel (:class:`physiofm.models.multimae.TokenEncoder`):
    30-s windows as ``tokens`` chunks of ``samples_per_token`` samples, each chunk a token (Conv1d -> max ->
    Linear -> LayerNorm), sin-cos time embedding, ``depth`` pre-LN layers, LayerNorm, mean over tokens.
    Defaults are the paper's (Fang et al. §3.2). A multimodal ``multimae`` method reads the same fields as its
    architecture; the late-fusion contrastive baselines build one such encoder per modality (App F)."""

    kind: Literal["multimae"]
    tokens: int = Field(default=30, ge=1)
    samples_per_token: int = Field(default=100, ge=1)
    width: int = Field(default=512, ge=2)
    depth: int = Field(default=8, ge=1)
    heads: int = Field(default=8, ge=1)
    mlp_ratio: float = Field(default=4.0, gt=0)
    dropout: float = Field(default=0.1, ge=0.0, lt=1.0)
    attn_dropout: float = Field(default=0.1, ge=0.0, lt=1.0)
    conv_channels: int = Field(default=64, ge=1)
    conv_kernel: int = Field(default=21, ge=1)
    embed_dim: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _shapes(self) -> MultiMAEEncoderSection:
        if self.width % 2 or self.width % self.heads:
            raise ValueError(f"width {self.width} must be even and divisible by heads {self.heads}")
        if self.conv_kernel % 2 == 0:
            raise ValueError(f"conv_kernel must be odd (same-length padding), got {self.conv_kernel}")
        return self

    def spec(self) -> dict[str, Any]:
        """The dict :func:`physiofm.models.build_encoder` takes."""
        return self.model_dump()

    def architecture(self) -> dict[str, Any]:
        """The :class:`physiofm.models.MultiMAEConfig` fields (everything but ``kind`` and ``embed_dim``)."""
        return {k: v for k, v in self.model_dump().items() if k not in ("kind", "embed_dim")}


def _encoder_kind(value: Any) -> str:
    if isinstance(value, dict):
        return value.get("kind", "net1d")
    return getattr(value, "kind", "net1d")


# One channel encoder: a backbone kind of :mod:`physiofm.models.backbones` and its settings. A new kind adds
# its section here, with its own ``kind`` literal, and registers its builder with
# :func:`physiofm.models.register_backbone`. A section without ``kind`` is a Net1D.
EncoderSection = Annotated[
    Annotated[Net1DSection, Tag("net1d")]
    | Annotated[ECGConvTransformerSection, Tag("ecg_conv_transformer")]
    | Annotated[ScratchTextSection, Tag("scratch_text")]
    | Annotated[T5TextSection, Tag("t5_text")]
    | Annotated[ViT1DSection, Tag("vit1d")]
    | Annotated[ResNet1DSection, Tag("resnet1d")]
    | Annotated[MultiMAEEncoderSection, Tag("multimae")],
    Discriminator(_encoder_kind),
]


# ---------------------------------------------------------------------------------------------- methods
ASSET = "asset:"  # a config string naming a file the data step wrote (MethodChoice.resolved)


class MethodChoice(Section):
    """One pretraining run of a paper: the registry method and the settings that differ from its defaults
    (the shared ``encoder`` section is added as the config's ``encoder``). A setting may name a data-step
    asset as ``"asset:<file>"`` (:meth:`resolved`)."""

    method: str
    config: dict[str, Any] = {}

    @model_validator(mode="after")
    def _known(self) -> MethodChoice:
        if self.method not in methods.names():
            raise ValueError(f"unknown method {self.method!r}; registered: {methods.names()}")
        cls = methods.config_class(self.method)
        known = set(getattr(cls, "__dataclass_fields__", {}))
        unknown = sorted(set(self.config) - known)
        if unknown:
            raise ValueError(f"{self.method}: unknown setting(s) {unknown}; known: {sorted(known)}")
        return self

    def build_config(self, encoder: Any = None) -> dict[str, Any]:
        """The dict ``physiofm.methods.build(self.method, ...)`` takes (``encoder``: an encoder section)."""
        return {**({"encoder": encoder.spec()} if encoder is not None else {}), **self.config}

    def resolved(self, assets: Mapping[str, Path]) -> MethodChoice:
        """This choice with every string ``"asset:<name>"`` of its config (at any depth) replaced by the path
        of the data step's asset ``<name>`` (:attr:`physiofm.training.RunData.assets`): a tokenizer fitted on
        the training reports, the N3S report bank, a local text model. An unknown asset is a KeyError."""

        def sub(value: Any) -> Any:
            if isinstance(value, str) and value.startswith(ASSET):
                name = value[len(ASSET):]
                if name not in assets:
                    raise KeyError(f"{self.method}: the config names asset {name!r}, which the data step did "
                                   f"not write (assets: {sorted(assets)})")
                return str(assets[name])
            if isinstance(value, Mapping):
                return {k: sub(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return type(value)(sub(v) for v in value)
            return value

        return self.model_copy(update={"config": sub(self.config)})


# ------------------------------------------------------------------------------------------------ train
class TrainSection(Section):
    """One pretraining run (:class:`physiofm.training.TrainConfig`): the same for every method of a paper.

    ``sampler``: "shuffle" (a seeded permutation per epoch, sharded over processes) or "cycle" (SyneCo's
    cycle-based sampler: ``cycle_fraction`` of each source drawn afresh per cycle). Validation reads a fixed
    subset: ``val_segments`` random rows of the validation split (all when None), in batches of
    ``batch_size`` (a last incomplete batch dropped), at most ``val_max_batches`` of them.
    """

    batch_size: int = Field(gt=1)  # per process
    gpus: int = Field(default=1, ge=1)  # processes under torchrun; the global batch is gpus x batch_size
    max_steps: int = Field(gt=0)
    optimizer: Literal["adamw", "adam"] = "adamw"
    lr: PositiveFloat
    weight_decay: float = Field(ge=0)
    decay: Literal["all", "matrices"] = "all"  # matrices: no weight decay on biases, norms, scales
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = Field(default=1e-8, gt=0)  # Adam's epsilon (D-BETA: 1e-6)
    schedule: Literal["cosine", "constant", "tristage"] = "cosine"
    warmup_steps: int = Field(default=0, ge=0)
    grad_clip: float | None = Field(default=None, gt=0)
    val_every: int | None = Field(default=None, gt=0)
    patience: int | None = Field(default=None, gt=0)
    ckpt_every: int | None = Field(default=None, gt=0)
    log_every: int = Field(default=10, gt=0)
    num_workers: int = Field(default=0, ge=0)
    sampler: Literal["shuffle", "cycle"] = "shuffle"
    cycle_fraction: float | None = Field(default=None, gt=0, le=1)
    val_segments: int | None = Field(default=None, gt=1)
    val_max_batches: int | None = Field(default=None, ge=1)
    amp: Literal["auto", "bf16", "off"] = "auto"

    @model_validator(mode="after")
    def _consistent(self) -> TrainSection:
        if self.warmup_steps > self.max_steps:
            raise ValueError(f"warmup_steps {self.warmup_steps} exceeds max_steps {self.max_steps}")
        if (self.sampler == "cycle") != (self.cycle_fraction is not None):
            raise ValueError("cycle_fraction is set exactly when sampler is 'cycle'")
        return self


# ------------------------------------------------------------------------------------------------- data
class StoreSection(Section):
    subjects_per_shard: int = Field(gt=0)
    workers: int = Field(ge=1)


def check_effects(cls: type, values: dict[str, float]) -> dict[str, float]:
    """``values`` validated as knobs of the effects class ``cls`` (:mod:`physiofm.synthetic.effects`)."""
    cls.from_mapping(values)
    return values


class _KnobbedCohortSection(Section):
    """A synthetic cohort's arguments whose ``effects`` are the knobs of the effects class ``knobs``."""

    knobs: ClassVar[type]

    @model_validator(mode="after")
    def _effects(self) -> _KnobbedCohortSection:
        check_effects(self.knobs, self.effects)
        return self


class CohortSection(_KnobbedCohortSection):
    """Arguments of :func:`physiofm.synthetic.icu_cohort` (artefact rates scaled by ``artefact_scale``).

    ``effects``: difficulty knobs, label -> effect size (:class:`physiofm.synthetic.icu.IcuEffects`; a label
    not given keeps 1.0, the original cohort)."""

    n_subjects: int = Field(ge=2)
    seed: int = Field(ge=0)
    duration_s: PositiveFloat
    v_lead: Literal["V1", "V2", "V3", "V4", "V5", "V6"] = "V1"
    alarms_per_hour: float = Field(ge=0)
    artefact_scale: float = Field(ge=0)
    mains_hz: Literal[50.0, 60.0] = 60.0
    effects: dict[str, float] = {}
    knobs: ClassVar[type] = IcuEffects


class PsgCohortSection(_KnobbedCohortSection):
    """Arguments of :func:`physiofm.synthetic.psg_cohort`; ``effects``: its difficulty knobs
    (:class:`physiofm.synthetic.psg.PsgEffects`)."""

    n_subjects: int = Field(ge=2)
    seed: int = Field(ge=0)
    hours: float = Field(gt=0, le=12)
    arousal_fraction: float = Field(default=0.03, ge=0, lt=0.5)
    effects: dict[str, float] = {}
    knobs: ClassVar[type] = PsgEffects


class Ecg12CohortSection(_KnobbedCohortSection):
    """Arguments of :func:`physiofm.synthetic.ecg12_cohort` (PTB-XL-like 10-s 12-lead records at 500 Hz with
    SCP statements and machine reports; patients with several records, ``records_per_subject`` on average),
    and the loader layout its labels are given in (:mod:`physiofm.synthetic.ecg12_layouts`: ``ptbxl`` or
    ``cpsc2018``). ``noise_scale`` multiplies the amplitudes of baseline wander, mains interference and white
    noise (another recording site). ``effects``: difficulty knobs, diagnostic superclass -> effect size
    (:class:`physiofm.synthetic.ecg12.Ecg12Effects`: ``mi``, ``sttc``, ``cd``, ``hyp``; 1.0 the original
    cohort)."""

    n_subjects: int = Field(ge=2)
    seed: int = Field(ge=0)
    records_per_subject: float = Field(default=1.15, ge=1)
    noise_scale: float = Field(default=1.0, ge=0)
    layout: Literal["ptbxl", "cpsc2018"] = "ptbxl"
    effects: dict[str, float] = {}
    knobs: ClassVar[type] = Ecg12Effects


class CohortStoresSection(Section):
    """A built-in cohort as a leaderboard reads it (:func:`physiofm.cohort_stores.build`): two cohorts of one
    kind drawn with different seeds (``pretrain``, ``probe``), the pretraining cohort's subject ``split``
    (train / validation / unused), ``derived`` label columns (name -> pandas expression over the store index)
    and the store layout. Subclasses fix the kind."""

    split: Fractions
    derived: dict[str, str] = {}
    store: StoreSection

    @model_validator(mode="after")
    def _split(self) -> CohortStoresSection:
        check_fractions("split", self.split)
        return self


class IcuStores(CohortStoresSection):
    pretrain: CohortSection
    probe: CohortSection


class Ecg12Stores(CohortStoresSection):
    pretrain: Ecg12CohortSection
    probe: Ecg12CohortSection


class PsgStores(CohortStoresSection):
    pretrain: PsgCohortSection
    probe: PsgCohortSection


class SyntheticSource(CohortSection):
    """A synthetic ICU cohort used as one named source."""

    kind: Literal["synthetic_icu"]
    name: Name
    note: str = ""


class SyntheticEcg12Source(Ecg12CohortSection):
    """A synthetic 12-lead cohort used as one named source."""

    kind: Literal["synthetic_ecg12"]
    name: Name
    note: str = ""


class SyntheticPsgSource(PsgCohortSection):
    """A synthetic PSG cohort used as one named source."""

    kind: Literal["synthetic_psg"]
    name: Name
    note: str = ""


class RegistrySource(Section):
    """A dataset read by ``physiofm.datasets.load(dataset, data_root / subdir, **options)``; ``name``
    defaults to the dataset's."""

    kind: Literal["registry"] = "registry"
    name: Name
    dataset: str
    subdir: str
    options: dict[str, Any] = {}
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, values: Any) -> Any:
        if isinstance(values, dict) and "name" not in values and "dataset" in values:
            values = {**values, "name": values["dataset"]}
        return values

    @model_validator(mode="after")
    def _registered(self) -> RegistrySource:
        if self.dataset not in datasets.names():
            raise ValueError(f"{self.dataset!r} is not a physiofm.datasets registry name "
                             f"({', '.join(datasets.names())})")
        return self


class UnavailableSource(Section):
    """A source of a paper that cannot be loaded here: listed in the book, never read."""

    kind: Literal["unavailable"]
    name: Name
    paper_name: str
    reason: str


Source = Annotated[SyntheticSource | SyntheticEcg12Source | SyntheticPsgSource | RegistrySource
                   | UnavailableSource, Field(discriminator="kind")]


# ------------------------------------------------------------------------------------------------ probe
class TaskSection(Section):
    """One probing task as params (:meth:`task` gives the :class:`physiofm.evaluation.tasks.Task`).

    ``target``: the label column (or columns); ``positive`` turns a categorical column into a binary label
    (1 when the value is listed); ``rows``: what one probe sample is (every segment, one segment per subject,
    or the mean of a subject's segment embeddings); ``inputs``: the named channel set the probe reads.
    """

    name: Name
    target: str | list[str]
    kind: Literal["regression", "binary", "multiclass", "multilabel"]
    rows: Literal["segment", "one", "subject"] = "segment"
    inputs: str = "all"
    where: str | None = None
    unit: str | None = None
    positive: list[str] | None = None
    note: str = ""

    @model_validator(mode="after")
    def _positive(self) -> TaskSection:
        if self.positive is not None and self.kind != "binary":
            raise ValueError(f"task {self.name}: 'positive' only makes sense for kind 'binary'")
        return self

    def task(self, store: str) -> Task:
        columns = (self.target,) if isinstance(self.target, str) else tuple(self.target)
        return Task(self.name, self.kind, columns, store=store, inputs=self.inputs, rows=self.rows,
                    where=self.where, positive=None if self.positive is None else tuple(self.positive),
                    unit=self.unit, description=self.note)


class LinearHeadSection(Section):
    """A linear head trained by gradient descent on frozen embeddings, stopped early on validation rows
    (:class:`physiofm.evaluation.probes.LinearHeadProbe`): epochs, patience (epochs without improvement),
    learning rate, batch size and weight decay."""

    max_epochs: int = Field(gt=0)
    patience: int = Field(gt=0)
    lr: float = Field(gt=0)
    batch_size: int = Field(gt=0)
    weight_decay: float = Field(default=0.0, ge=0)

    def fc_options(self) -> dict[str, Any]:
        """The :class:`~physiofm.evaluation.probes.LinearHeadProbe` options these settings give."""
        return self.model_dump(include={"max_epochs", "patience", "lr", "batch_size", "weight_decay"})


class ProbeSection(Section):
    """What every probing step shares: which checkpoint is read, and the embedding batch size."""

    checkpoint: Literal["best", "last"] = "best"
    embed_batch_size: int = Field(gt=0)


class HoldoutProbeSection(ProbeSection):
    """FC / LR / RF probes on standardised frozen embeddings, a held-out subject split per seed
    (:func:`physiofm.evaluation.protocol.holdout_probe`)."""

    probes: list[Literal["fc", "lr", "rf"]] = Field(min_length=1)
    test_fraction: float = Field(gt=0, lt=1)  # subject share held out per seed (datasets without a split)
    max_segments_per_subject: int = Field(gt=0)  # "subject" rows: segments mean-pooled, first by time
    segment_rows_per_subject: int | None = Field(gt=0)  # "segment" rows: at most this many per subject
    rf_n_estimators: int = Field(gt=0)  # scikit-learn default: 100
    rf_regression_max_features: Literal["sqrt"] | float  # scikit-learn default 1.0 (all features)
    fc_max_epochs: int = Field(gt=0)
    fc_patience: int = Field(gt=0)

    def probe_options(self) -> dict[str, dict]:
        """Constructor options per probe kind (LR: scikit-learn defaults); ``rf_regression`` for
        regression."""
        return {"rf": {"n_estimators": self.rf_n_estimators},
                "rf_regression": {"n_estimators": self.rf_n_estimators,
                                  "max_features": self.rf_regression_max_features},
                "fc": {"max_epochs": self.fc_max_epochs, "patience": self.fc_patience}}


class NestedCVSection(ProbeSection):
    """Nested cross-validated linear probes (:func:`physiofm.evaluation.protocol.nested_cv_probe`):
    logistic regression over ``logreg_*`` for classification, ridge over ``ridge_*`` for regression."""

    outer_folds: int = Field(ge=2)
    inner_folds: int = Field(ge=2)
    group_by_subject: bool
    logreg_C: list[PositiveFloat] = Field(min_length=1)  # noqa: N815 - scikit-learn's name
    logreg_solvers: list[Literal["lbfgs", "saga"]] = Field(min_length=1)
    ridge_alpha: list[PositiveFloat] = Field(min_length=1)
    ridge_solvers: list[Literal["auto", "cholesky", "sparse_cg"]] = Field(min_length=1)
    max_iter: int = Field(ge=1)
    n_jobs: int = Field(default=1, ge=1)

    def grid(self, kind: str) -> dict[str, list]:
        """The inner-loop grid of a task kind (scikit-learn pipeline names)."""
        if kind == "regression":
            return {"model__alpha": list(self.ridge_alpha), "model__solver": list(self.ridge_solvers)}
        return {"model__C": list(self.logreg_C), "model__solver": list(self.logreg_solvers)}


# ----------------------------------------------------------------------------------------------- shared
class SharedSection(Section):
    """The ``shared`` section's common part: the study seed and the runtime."""

    seed: int = Field(ge=0)
    runtime: RuntimeSection = RuntimeSection()


# ------------------------------------------------------------------------------------------- leaderboard
class MethodEntry(Section):
    """One row of a leaderboard (:mod:`physiofm.evaluation.leaderboard`): a registry method and the settings
    that differ from its defaults. ``shared_encoder``: the leaderboard's encoder goes into the config's
    ``encoder`` (and per-channel ``encoders``) fields when the method has them. ``reason``: the method is
    listed as unable to run on this cohort, with this reason, and never tried (a method that is tried and
    fails to build or lacks inputs is listed with the error instead)."""

    method: str
    config: dict[str, Any] = {}
    shared_encoder: bool = True
    reason: str | None = None

    @model_validator(mode="after")
    def _known(self) -> MethodEntry:
        MethodChoice(method=self.method, config=self.config)
        return self


class LeaderboardTask(TaskSection):
    """A probing task of a leaderboard; ``info``: the kind of information it needs (redundant, unique to a
    channel, synergistic, ...), the columns of the information-structure matrix."""

    info: str = ""


def reference_run(name: str) -> bool:
    """Whether ``name`` is a reference row's run (``random_init``, ``supervised``, ``supervised_<task or
    group>``): names kept from the methods of a leaderboard."""
    return name in ("random_init", "supervised") or name.startswith("supervised_")


class ReferenceGroup(Section):
    """Tasks whose supervised reference is one network (``mode: groups``), with its own budget (default: the
    reference's ``train``)."""

    tasks: list[Name] = Field(min_length=1)
    train: TrainSection | None = None


class ReferenceSection(Section):
    """The network of both reference rows: a registry method's architecture (``method`` + ``config``, with
    the leaderboard's encoder), untrained (``random_init``, score 0) and trained supervised on the tasks'
    labels (score 1): ``joint``: one network on every task at once (a multi-task head); ``per_task``: one
    network per task; ``groups``: one network per named group of tasks (run ``supervised_<group>``), each
    board task in exactly one group (a group's tasks that the board does not probe are left out, so one
    reference serves a board with a subset of the tasks, as a calibration board). ``train``: the supervised
    reference's own budget (default: the methods' budget); a longer one makes score 1 what this network
    reaches when told the labels, not what it reaches in the methods' short budget."""

    method: str
    config: dict[str, Any] = {}
    shared_encoder: bool = True  # as in MethodEntry
    mode: Literal["joint", "per_task", "groups"] = "joint"
    train: TrainSection | None = None
    groups: dict[Name, ReferenceGroup] = {}

    @model_validator(mode="after")
    def _known(self) -> ReferenceSection:
        MethodChoice(method=self.method, config=self.config)
        if (self.mode == "groups") != bool(self.groups):
            raise ValueError("reference: give 'groups' exactly when mode is 'groups'")
        return self

    def group_tasks(self, tasks: list[str]) -> dict[str, list[str]]:
        """Supervised run name -> the tasks (of ``tasks``, the board's, in their order) it is trained and
        scored on; groups with none of them are left out."""
        if self.mode == "joint":
            return {"supervised": list(tasks)}
        if self.mode == "per_task":
            return {f"supervised_{t}": [t] for t in tasks}
        out = {name: [t for t in tasks if t in group.tasks] for name, group in self._group_runs().items()}
        return {name: ts for name, ts in out.items() if ts}

    def budget(self, run_name: str) -> TrainSection | None:
        """The budget of a supervised run: its group's, else the reference's own (None: the methods')."""
        group = self._group_runs().get(run_name)
        return group.train if group is not None and group.train is not None else self.train

    def _group_runs(self) -> dict[str, ReferenceGroup]:
        """Run name -> group (empty unless mode is 'groups')."""
        return {f"supervised_{g}": group for g, group in self.groups.items()}


class LeaderboardProbeSection(ProbeSection):
    """The one probe of every leaderboard cell: a frozen-embedding probe on held-out probe-cohort subjects,
    one split per probe seed; ``bootstrap``: paired resamples of the test subjects for the intervals against
    the best method."""

    probe: Literal["lr", "rf", "fc"] = "lr"
    test_fraction: float = Field(gt=0, lt=1)
    max_segments_per_subject: int = Field(gt=0)
    segment_rows_per_subject: int | None = Field(default=None, gt=0)
    bootstrap: int = Field(ge=50)


class LeaderboardSection(Section):
    """A leaderboard: the same encoder, budget, data, seeds, probe and tasks for every method.

    ``encoder``: a backbone spec (``kind`` + options + ``embed_dim``, :func:`physiofm.models.build_encoder`),
    validated when the methods are built, so an encoder kind registered later needs no schema change (until
    then the methods using it are listed as unable to run, with the error); ``channel_encoders``: per-channel
    keys replacing the encoder's (e.g. the stem stride of a channel at another sampling rate); ``channels``:
    the batch keys of the cohort the probe representation reads (the ``all`` input set).
    """

    encoder: dict[str, Any]
    channel_encoders: dict[str, dict[str, Any]] = {}
    channels: list[str] = Field(min_length=1)
    seeds: list[int] = Field(min_length=1)
    train: TrainSection
    methods: dict[Name, MethodEntry] = {}
    reference: ReferenceSection | None = None  # None: no reference rows (no normalised scores)
    tasks: list[LeaderboardTask] = Field(min_length=1)
    probe: LeaderboardProbeSection

    @model_validator(mode="after")
    def _names(self) -> LeaderboardSection:
        if not self.methods and self.reference is None:
            raise ValueError("a leaderboard needs methods, a reference, or both")
        clash = sorted(n for n in self.methods if reference_run(n))
        if clash:
            raise ValueError(f"run names {clash} are kept for the reference rows")
        names = [t.name for t in self.tasks]
        if len(set(names)) != len(names):
            raise ValueError(f"task names repeat: {names}")
        if self.reference is not None and self.reference.mode == "groups":
            count = {n: sum(n in g.tasks for g in self.reference.groups.values()) for n in names}
            wrong = {n: c for n, c in count.items() if c != 1}
            if wrong:
                raise ValueError(f"reference groups: every task must be in exactly one group; "
                                 f"{', '.join(f'{n} is in {c}' for n, c in wrong.items())}")
        return self
