"""Params schema of the study's own chapter on the built-in cohorts (``notebooks/cohorts``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from physiofm.config import PaperParams, Section
from physiofm.sections import Ecg12Stores, IcuStores, LeaderboardSection, PsgStores


class CohortsShared(Section):
    seed: int = Field(ge=0, description="seed of every generator")


class StructureStep(Section):
    icu_subjects: int = Field(ge=10, description="ICU cohort size for the information-structure table")
    icu_duration_s: float = Field(ge=60, description="seconds per ICU recording")
    hr_records: int = Field(ge=1, description="ICU records checked by R-peak and PTT detection")
    ecg12_subjects: int = Field(ge=10)
    psg_subjects: int = Field(ge=2)
    psg_hours: float = Field(gt=0, le=12)


class Calibration(Section):
    """One cohort's calibration curves (:func:`physiofm.evaluation.calibration.calibrate`): its stores, a
    reference-only leaderboard, each task's knob, the grid of effect sizes, and ``chosen``: the benchmark's
    setting of each knob (marked on the curves). tests/test_benchmark.py checks that ``chosen`` equals the
    benchmark's knobs and that the board is the benchmark's (encoder, training budgets, reference, probe) in
    the same profile: the curves are measured on the networks the benchmark normalises by."""

    data: IcuStores | PsgStores | Ecg12Stores
    board: LeaderboardSection
    knobs: dict[str, str] = Field(min_length=1)  # task -> knob
    levels: list[float] = Field(min_length=2)
    chosen: dict[str, float] = {}

    @model_validator(mode="after")
    def _consistent(self) -> Calibration:
        tasks = {t.name for t in self.board.tasks}
        if set(self.knobs) != tasks:
            raise ValueError(f"knobs name tasks {sorted(self.knobs)}, the board has {sorted(tasks)}")
        if min(self.levels) <= 0:
            raise ValueError("effect sizes of the grid must be > 0 (a log axis)")
        return self


class CalibrationStep(Section):
    probe_seeds: list[int] = Field(min_length=1)
    icu: Calibration
    ecg12: Calibration
    psg: Calibration


class CohortsSteps(Section):
    structure: StructureStep
    calibration: CalibrationStep


class CohortsParams(PaperParams):
    shared: CohortsShared
    steps: CohortsSteps
