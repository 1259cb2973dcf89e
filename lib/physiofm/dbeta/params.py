"""Params schema of the D-BETA study (``params/<profile>/dbeta.yaml``), built from :mod:`physiofm.sections`.

    shared       seed, runtime, and the runs: run id -> registry method and settings (D-BETA is ``dbeta``; its
                 Table 6 / Table 8 ablations are ``dbeta`` with switches; the ECG-text CLIP ablation is
                 ``clip`` with an ECG and a text tower). Settings may name data-step assets (``asset:...``).
    data         the pretraining ECG-report corpus (MIMIC-IV-ECG, or the built-in 12-lead cohort), the ECG
                 preprocessing (12 leads, 10 s, no filter, no normalisation), the report tokenizer and the
                 N3S report bank, the downstream sets with their tasks and splits
    pretrain     the run loop: AdamW (lr 5e-5, betas 0.9 / 0.98, eps 1e-6, wd 0.01), tri-stage schedule,
                 300,000 steps of 128 (§4.1.1)
    linear_probe Table 2: a linear head on the frozen ECG embedding, 1 / 10 / 100 % of the training labels
                 (Table 10: 200 epochs, batch 128, lr 1e-3)
    zero_shot    Table 3 (class descriptions) and Table 4 (distribution shift, Table 11's category matching)
    ablations    Table 6 (N3S, ETS), Table 8 (ECG encoder depth), the CLIP ablation, claims C1-C8
    tsne         Fig. 3: t-SNE of test embeddings

The ``paper`` profile carries exactly the paper's settings (tests/test_dbeta_params.py checks them); ``ci``
and ``demo`` shrink the model, the data and the budget (their chapter says how).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from physiofm.config import PaperParams, Section
from physiofm.dbeta.tasks import TABLE_4_COLUMNS
from physiofm.sections import (
    EncoderSection,
    Fractions,
    MethodChoice,
    Name,
    PositiveFloat,
    ProbeSection,
    RegistrySource,
    SharedSection,
    StoreSection,
    SyntheticEcg12Source,
    TrainSection,
    UnavailableSource,
    check_fractions,
)

RANDOM_INIT = "random_init"  # the D-BETA model untrained: a reference every evaluation may add


class Shared(SharedSection):
    encoder: EncoderSection | None = None  # unused: each run's config holds its own encoders
    methods: dict[Name, MethodChoice] = Field(min_length=1)

    @model_validator(mode="after")
    def _dbeta_run(self) -> Shared:
        if "dbeta" not in self.methods or self.methods["dbeta"].method != "dbeta":
            raise ValueError("methods must hold the run 'dbeta' (the registry method 'dbeta')")
        return self


# ------------------------------------------------------------------------------------------------- data
class PreprocessSpec(Section):
    """:class:`physiofm.preprocess.ECG12Preprocess`: 12 leads at ``fs`` for ``duration_s`` (zero-padded or
    cropped), in mV; D-BETA applies no filter and no normalisation (authors' config): no switch for them."""

    fs: PositiveFloat
    duration_s: PositiveFloat


class TokenizerSpec(Section):
    """The WordPiece tokenizer fitted on the training reports (the scratch text encoder's vocabulary)."""

    vocab_size: int = Field(ge=16)
    min_frequency: int = Field(default=1, ge=1)


class BankSpec(Section):
    """N3S's frozen report embedder: ``t5_mean`` (the paper: Flan-T5-small, mean of the last hidden state,
    from ``<data_root>/<model_subdir>``) or ``tfidf_svd`` (the demo: TF-IDF + truncated SVD of ``dim``)."""

    embedder: Literal["t5_mean", "tfidf_svd"]
    model_subdir: str | None = None
    dim: int | None = Field(default=None, ge=2)
    max_length: int = Field(default=256, ge=2)

    @model_validator(mode="after")
    def _complete(self) -> BankSpec:
        if self.embedder == "t5_mean" and not self.model_subdir:
            raise ValueError("bank: the t5_mean embedder needs model_subdir (a local Flan-T5-small folder)")
        if self.embedder == "tfidf_svd" and self.dim is None:
            raise ValueError("bank: the tfidf_svd embedder needs dim")
        return self


class TextModelSpec(Section):
    """A local text model directory under ``data_root`` that the data step links into its assets as
    ``name`` (the paper's Flan-T5-base: runs name it ``asset:<name>``)."""

    name: Name
    subdir: str


class DownstreamTask(Section):
    """One downstream task: ``key`` is the paper's task (params/published/dbeta.yaml), ``task`` the
    loader's task of the set (``info["tasks"]``: superdiagnostic, subdiagnostic, form, rhythm, diagnosis)."""

    key: Literal["ptbxl_super", "ptbxl_sub", "ptbxl_form", "ptbxl_rhythm", "cpsc2018", "csn"]
    task: str
    note: str = ""


class _Downstream(Section):
    tasks: list[DownstreamTask] = Field(min_length=1)
    # train / val / test shares of subjects for a set without its own split (CPSC2018, CSN: MERL's 70/10/20
    # files are not distributed); None: the set's ``split`` column (PTB-XL's strat_fold 1-8 / 9 / 10).
    split_fractions: Fractions | None = None

    @model_validator(mode="after")
    def _fractions(self) -> _Downstream:
        check_fractions(f"downstream set {self.name}", self.split_fractions)
        return self


class SyntheticDownstream(SyntheticEcg12Source, _Downstream):
    pass


class RegistryDownstream(RegistrySource, _Downstream):
    pass


Downstream = Annotated[SyntheticDownstream | RegistryDownstream | UnavailableSource,
                       Field(discriminator="kind")]
Pretrain = Annotated[SyntheticEcg12Source | RegistrySource, Field(discriminator="kind")]


class DataParams(Section):
    pretrain: Pretrain  # the ECG-report corpus (paper: mimic4_ecg)
    text_column: str  # its report column (mimic4_ecg: "text", merged and cleaned; the cohort: "report")
    pretrain_split: Fractions  # subjects: train / validation / test [D]; the paper trains on all 779,891
    preprocess: PreprocessSpec
    tokenizer: TokenizerSpec | None  # None: the text encoder brings its own (Flan-T5)
    bank: BankSpec
    text_models: list[TextModelSpec] = []
    downstream: list[Downstream] = Field(min_length=1)
    store: StoreSection
    example_records: int = Field(ge=1, le=12)

    @model_validator(mode="after")
    def _valid(self) -> DataParams:
        check_fractions("pretrain_split", self.pretrain_split)
        names = [d.name for d in self.downstream]
        if len(set(names)) != len(names):
            raise ValueError(f"downstream: duplicate set names {names}")
        keys = [t.key for d in self.downstream if d.kind != "unavailable" for t in d.tasks]
        if len(set(keys)) != len(keys):
            raise ValueError(f"downstream: a paper task is given twice ({keys})")
        return self


# ---------------------------------------------------------------------------------------------- pretrain
class PretrainParams(Section):
    methods: list[Name] = Field(min_length=1)  # the runs this step trains
    seeds: list[int] = Field(min_length=1)
    train: TrainSection


# ------------------------------------------------------------------------------------------- evaluation
class LinearHeadSpec(Section):
    """The linear probe's head (Table 10): Adam, ``epochs``, ``batch_size``, ``lr``; the epoch with the
    best validation macro AUROC is kept [D], checked every ``eval_every`` epochs."""

    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: PositiveFloat
    eval_every: int = Field(default=1, ge=1)
    # Standardise each feature on the training rows first [D]. A linear head can represent the same functions
    # either way; only the optimiser's conditioning changes, which matters when a representation varies by a
    # small fraction of its size between records. The paper (and MERL) do not standardise.
    standardise: bool = False

    def probe_kwargs(self) -> dict:
        return {"max_epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                "eval_every": self.eval_every, "patience": None, "select": "auroc",
                "standardise": self.standardise}


class LinearProbeParams(ProbeSection):
    methods: list[Name] = Field(min_length=1)  # runs (and random_init) probed
    label_fractions: list[Annotated[float, Field(gt=0, le=1)]] = Field(min_length=1)
    seeds: list[int] = Field(min_length=1)  # the head's initialisation and batch order
    subsample_seed: int = 42  # MERL: train_test_split(train_size=r/100, random_state=42)
    head: LinearHeadSpec


class ShiftSpec(Section):
    """One column of Table 4: a linear probe trained on the ``source`` task (100 %) and the zero-shot model
    scored on the ``target`` task's test rows, on the categories Table 11 matches."""

    column: Literal[TABLE_4_COLUMNS]
    note: str = ""


class ZeroShotParams(ProbeSection):
    methods: list[Name] = Field(min_length=1)  # runs with a text tower
    texts: Literal["description", "name"]  # Table 3: descriptions (the paper: GPT-4o's)
    shift: list[ShiftSpec] = []
    shift_methods: list[Name] = []  # linear-probe rows of Table 4 (runs and random_init)


class AblationParams(ProbeSection):
    """Table 6 and Table 8 read as the paper does: linear probing at ``label_fraction`` (1 %), averaged over
    the downstream tasks; zero-shot with raw category names (``texts``), averaged over the tasks."""

    table_6: dict[Literal["dbeta", "no_n3s", "no_ets_no_n3s", "baseline_bert"], Name | None]
    table_8: dict[Literal["layers_8", "layers_4", "layers_1"], Name | None]
    extra: list[Name] = []  # further runs shown beside them (the ECG-text CLIP ablation)
    label_fraction: float = Field(gt=0, le=1)
    texts: Literal["description", "name"]


class TsneParams(ProbeSection):
    methods: list[Name] = Field(min_length=1)
    task: Literal["ptbxl_super", "ptbxl_sub", "ptbxl_form", "ptbxl_rhythm", "cpsc2018", "csn"]
    min_per_class: int = Field(ge=1)  # Fig. 3: classes with at least 50 test samples
    perplexity: float = Field(gt=1)
    seed: int = 0


class Steps(Section):
    data: DataParams
    pretrain: PretrainParams
    linear_probe: LinearProbeParams
    zero_shot: ZeroShotParams
    ablations: AblationParams
    tsne: TsneParams

    @model_validator(mode="after")
    def _tsne_task_known(self) -> Steps:
        known = {t.key for d in self.data.downstream if d.kind != "unavailable" for t in d.tasks}
        if self.tsne.task not in known:
            raise ValueError(f"tsne.task {self.tsne.task!r} is not a task of a loadable downstream set")
        return self


class DBetaParams(PaperParams):
    shared: Shared
    steps: Steps
    run_fields: ClassVar[tuple[str, ...]] = (
        "pretrain.methods", "linear_probe.methods", "zero_shot.methods", "zero_shot.shift_methods",
        "ablations.extra", "tsne.methods", "ablations.table_6", "ablations.table_8")
    extra_runs: ClassVar[tuple[str, ...]] = (RANDOM_INIT,)
