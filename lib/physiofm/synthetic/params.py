"""Params schema of the study's own chapter on the built-in cohorts (``notebooks/cohorts``)."""

from __future__ import annotations

from pydantic import Field

from physiofm.config import PaperParams, Section


class CohortsShared(Section):
    seed: int = Field(ge=0, description="seed of every generator")


class StructureStep(Section):
    icu_subjects: int = Field(ge=10, description="ICU cohort size for the information-structure table")
    icu_duration_s: float = Field(ge=60, description="seconds per ICU recording")
    hr_records: int = Field(ge=1, description="ICU records checked by R-peak and PTT detection")
    ecg12_subjects: int = Field(ge=10)
    psg_subjects: int = Field(ge=2)
    psg_hours: float = Field(gt=0, le=12)


class CohortsSteps(Section):
    structure: StructureStep


class CohortsParams(PaperParams):
    shared: CohortsShared
    steps: CohortsSteps
