"""Params schema of the benchmark part, "Across the papers" (``params/<profile>/benchmark.yaml``).

    shared     seed, runtime, probe seeds (every leaderboard probes with the same seeds)
    icu        the ICU cohort's data (pretraining + probe cohorts, split, derived labels) and its leaderboard
    synergy    the 2 x 2 design {pooled, token fusion} x {supervised on hypertensive, SyneCo's objective},
               a leaderboard on the ICU step's data; runs the ICU step finished with the same fingerprint
               (SyneCo and syneco_tokens, first seed) are read from there
    ecg12      the 12-lead cohort's data and leaderboard (one ViT1D)
    psg        the PSG cohort's data and leaderboard (the MultiMAE encoder)

A leaderboard is a :class:`physiofm.sections.LeaderboardSection`: which methods (each a registry name and its
settings, or a reason it cannot run here), the shared encoder, the budget, the seeds, the reference network,
the tasks and the probe. Adding a method that a later branch makes runnable is a params change.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from physiofm.config import PaperParams, Section
from physiofm.sections import Ecg12Stores, IcuStores, LeaderboardSection, PsgStores, SharedSection


class Shared(SharedSection):
    probe_seeds: list[int] = Field(min_length=1)


class IcuStep(Section):
    data: IcuStores
    board: LeaderboardSection


class Ecg12Step(Section):
    data: Ecg12Stores
    board: LeaderboardSection


class PsgStep(Section):
    data: PsgStores
    board: LeaderboardSection


class Design(Section):
    """The run names of the 2 x 2 cells and the targets the issue sets."""

    pooled_supervised: str
    tokens_supervised: str
    pooled_ssl: str
    tokens_ssl: str
    label: str  # the synergistic task of the design (segment level)
    kept: list[str] = Field(min_length=1)  # redundant and unique tasks token fusion must not lose
    target_supervised: float = Field(gt=0.5, le=1)  # token fusion trained supervised, AUROC
    target_ssl: float = Field(gt=0.5, le=1)  # token fusion trained self-supervised, AUROC
    shift_ms: float = Field(default=100.0, gt=0)  # the delay-sensitivity check's shift
    shift_segments: int = Field(default=256, gt=0)  # probe segments it embeds (three times per run)


class SynergyStep(Section):
    board: LeaderboardSection
    design: Design

    @model_validator(mode="after")
    def _cells(self) -> SynergyStep:
        d = self.design
        missing = [n for n in (d.pooled_supervised, d.tokens_supervised, d.pooled_ssl, d.tokens_ssl)
                   if n not in self.board.methods]
        tasks = {t.name for t in self.board.tasks}
        missing += [t for t in (d.label, *d.kept) if t not in tasks]
        if missing:
            raise ValueError(f"design names {missing}, which are not runs / tasks of the synergy board")
        return self


class Steps(Section):
    icu: IcuStep
    synergy: SynergyStep
    ecg12: Ecg12Step
    psg: PsgStep


class BenchmarkParams(PaperParams):
    shared: Shared
    steps: Steps
