"""Params schema of the MultiMAE study (``params/<profile>/multimae.yaml``), from :mod:`physiofm.sections`.

    shared      seed, runtime, the architecture of every model (``encoder``: MultiMAE's tokeniser and
                transformer), the pretraining runs (run id -> registry method and settings) and which
                checkpoint each downstream step reads
    data        the source (PhysioNet 2018 or the built-in PSG cohort), MultiMAE's preprocessing (§3.1), the
                patient splits (pretraining / probe training 657, validation 117, test 219) and stores
    pretrain    seeds and the run loop's settings (§3.5, App A); the reconstruction figure (Fig 4)
    probing     frozen linear probes (§3.4): head, class weights, patients (500 / 25), seeds, metrics
    finetune    scratch models (Table 1) and full fine-tuning (Table 4): the supervised run's settings
    sweep       the mask-probability sweep (Fig 3)
    rollout     attention rollout and raw attention (Fig 2A-C, Fig 6)
    rsv         relative source variance (Fig 2D-F)
    tsne        t-SNE of frozen embeddings

The ``paper`` profile carries exactly the paper's settings (tests/test_multimae_params.py checks them) and
marks what the paper leaves open as our choice; ``ci`` and ``demo`` shrink the cohort, models and budget.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from physiofm.config import PaperParams, Section
from physiofm.sections import (
    LinearHeadSection,
    MethodChoice,
    MultiMAEEncoderSection,
    ProbeSection,
    RegistrySource,
    SharedSection,
    StoreSection,
    SyntheticPsgSource,
    TrainSection,
)

# The runs of the paper's comparison, named as params/published/multimae.yaml names its rows.
RunName = Literal["multimae", "multimae_drop", "mae_eeg", "mae_eog", "mae_emg", "mae_ecg", "simclr",
                  "sleepfm_pair", "sleepfm_loo"]
Modality = Literal["eeg", "eog", "emg", "ecg"]
TaskName = Literal["sleep", "age", "arousal"]


class Shared(SharedSection):
    # The architecture of every model (§3.2): the MultiMAE runs read it as theirs, the late-fusion contrastive
    # baselines build one such encoder per modality (App F), the scratch models are the MultiMAE model.
    encoder: MultiMAEEncoderSection
    methods: dict[RunName, MethodChoice] = Field(min_length=1)
    # Which checkpoint a downstream step reads per run (default "best", the lowest validation loss, §3.5;
    # "the most recent checkpoint" for MultiMAE + drop).
    checkpoints: dict[RunName, Literal["best", "last"]] = {}

    def checkpoint_of(self, run: str) -> str:
        return self.checkpoints.get(run, "best")


# ----------------------------------------------------------------------------------------------- data
class PreprocessSection(Section):
    """:class:`physiofm.preprocess.MultiMAEPreprocess` (§3.1)."""

    channels: dict[Modality, list[str]]  # modality -> channel names a record may use (first present)
    bands: dict[Modality, tuple[float, float]]  # zero-phase FIR band-pass per modality (Hz)
    fs_in: float = Field(gt=0)
    factor: int = Field(ge=1)  # decimation: 200 -> 100 Hz
    numtaps: int = Field(ge=3)
    window_s: float = Field(gt=0)
    max_gap_s: float = Field(ge=0)
    zscore: bool  # per recording and channel (ours)

    @model_validator(mode="after")
    def _same_modalities(self) -> PreprocessSection:
        if set(self.channels) != set(self.bands):
            raise ValueError(f"channels {sorted(self.channels)} and bands {sorted(self.bands)} must name the "
                             "same modalities")
        return self


Source = Annotated[SyntheticPsgSource | RegistrySource, Field(discriminator="kind")]


class DataStep(Section):
    source: Source
    preprocess: PreprocessSection
    # Labelled patients: pretraining + probe training / validation / test (§3.1: 657 / 117 / 219), used as
    # proportions of the labelled patients found; every unlabelled patient is pretraining data.
    labelled_split: tuple[int, int, int]
    target_arousal_rate: float = Field(gt=0, lt=1)  # §3.4: "2.7% of data samples"
    # When a window counts as an arousal window (physiofm.datasets.physionet2018): one rule, or "closest": the
    # rule whose positive rate on the labelled windows is nearest ``target_arousal_rate`` (the issue's
    # choice).
    arousal_rule: Literal["any", "min_overlap", "centre", "closest"]
    arousal_min_overlap_s: float = Field(gt=0)  # the min_overlap rule's seconds (AASM minimum arousal: 3 s)
    store: StoreSection
    example_windows: int = Field(ge=1)


# ------------------------------------------------------------------------------------------- pretrain
class PretrainStep(Section):
    methods: list[RunName] = Field(min_length=1)
    seeds: list[int] = Field(min_length=1)  # Table 1 caption: 5 seeds "in each training/finetuning stage"
    train: TrainSection
    reconstruction_windows: int = Field(ge=1)  # Fig 4: random windows shown
    reconstruction_seconds: float = Field(gt=0)  # Fig 4: "truncated at 20 seconds"


# -------------------------------------------------------------------------------------------- probing
class ProbingStep(ProbeSection):
    """§3.4: frozen encoder on unmasked input -> LayerNorm -> mean over tokens -> one linear head per task,
    class-weighted cross-entropy, selected on the validation patients, scored on the test patients."""

    methods: list[RunName] = Field(min_length=1)
    probe: Literal["fc", "lr"]  # fc: a linear head trained by gradient descent; lr: scikit-learn's
    head: LinearHeadSection
    class_weighted: bool
    patients: list[int] = Field(min_length=1)  # probe-training patients (Tables 1, 2: 500; Table 3: 25)
    seeds: list[int] = Field(min_length=1)
    tasks: list[TaskName] = Field(min_length=1)


# ------------------------------------------------------------------------------------------- finetune
class FinetuneStep(Section):
    """Table 1 "Scratch" (the same model trained per task) and Table 4 (full fine-tuning, App E)."""

    scratch: list[Literal["all", "eeg", "eog", "emg", "ecg"]]
    finetune: list[RunName]
    tasks: list[TaskName] = Field(min_length=1)
    patients: int = Field(gt=0)  # training patients (500)
    seeds: list[int] = Field(min_length=1)
    train: TrainSection
    # Peak learning rate of the new linear head; None: ``train.lr``, one rate for encoder and head (§3.5).
    head_lr: float | None = Field(default=None, gt=0)
    class_weighted: bool


# ---------------------------------------------------------------------------------------------- sweep
class SweepStep(Section):
    """Fig 3: the masking probability of MultiMAE (A) and of MultiMAE + drop (B) against the validation
    accuracy of sleep staging."""

    mask_ratios: list[float] = Field(min_length=1)  # MultiMAE only: share of tokens hidden
    drop_probabilities: list[float] = Field(min_length=1)  # + drop: p for the other modalities (App C)
    train: TrainSection  # the pretraining budget of every sweep run
    evaluation: Literal["finetune", "probe"]  # paper: full fine-tuning
    finetune: TrainSection | None = None
    head: LinearHeadSection
    patients: list[int] = Field(min_length=1)  # Fig 3: 500 and 25 training patients
    seeds: list[int] = Field(min_length=1)

    @model_validator(mode="after")
    def _ratios(self) -> SweepStep:
        bad = [r for r in [*self.mask_ratios, *self.drop_probabilities] if not 0 <= r < 1]
        if bad:
            raise ValueError(f"mask ratios and probabilities must be in [0, 1), got {bad}")
        if self.evaluation == "finetune" and self.finetune is None:
            raise ValueError("evaluation 'finetune' needs the 'finetune' run settings")
        return self


# -------------------------------------------------------------------------------------------- analyses
class RolloutStep(Section):
    """§4.4 / Fig 2A-C and App G / Fig 6."""

    models: list[Literal["scratch", "multimae", "multimae_drop"]] = Field(min_length=1)
    windows: int = Field(gt=0)  # test windows averaged
    residual: float = Field(ge=0, le=1)  # A_l = (1 - r) W_l + r I
    cap: float = Field(gt=0)  # colour-scale cap of the rollout maps (Fig 2: 0.03)
    batch_size: int = Field(gt=0)


class RSVStep(Section):
    """Fig 2D-F: relative source variance per layer (Kleinman et al. 2023)."""

    models: list[Literal["scratch", "multimae", "multimae_drop"]] = Field(min_length=1)
    windows: int = Field(gt=1)  # the pool of test windows the draws come from
    contexts: int = Field(gt=0)
    samples: int = Field(gt=1)
    batch_size: int = Field(gt=0)


class TSNEStep(Section):
    methods: list[RunName] = Field(min_length=1)
    windows: int = Field(gt=5)  # test windows embedded
    perplexity: float = Field(gt=0)


class ClaimsStep(Section):
    """How the claims of the spec are judged on our numbers (the thresholds are ours)."""

    uniform_tolerance: float = Field(gt=0)  # claim 7: |SV share - 1/4| below this counts as uniform


class Steps(Section):
    data: DataStep
    pretrain: PretrainStep
    probing: ProbingStep
    finetune: FinetuneStep
    sweep: SweepStep
    rollout: RolloutStep
    rsv: RSVStep
    tsne: TSNEStep
    claims: ClaimsStep

    @model_validator(mode="after")
    def _probed_runs_are_pretrained(self) -> Steps:
        untrained = sorted({*self.probing.methods, *self.finetune.finetune, *self.tsne.methods}
                           - set(self.pretrain.methods))
        if untrained:
            raise ValueError(f"runs {untrained} are probed or fine-tuned but not pretrained "
                             "(pretrain.methods)")
        return self


class MultiMAEParams(PaperParams):
    shared: Shared
    steps: Steps
    run_fields: ClassVar[tuple[str, ...]] = ("pretrain.methods", "probing.methods", "finetune.finetune",
                                             "tsne.methods")
