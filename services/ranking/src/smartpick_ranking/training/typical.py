"""Who the checks score: the typical applicant of a Step 2 CK band (US MD seniors) or of a specialty's
non-US IMGs, as `calibration` (against NRMP) and `replay` (in the simulated Match) both score them."""

from collections.abc import Mapping
from dataclasses import replace

from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import SpecialtyStats
from smartpick_ranking.domain.unstated import typical_inputs
from smartpick_ranking.training.market import IMG_VISA_NEED
from smartpick_ranking.training.targets import (
    BAND_TAIL_MEAN,
    MEAN_APPLICATIONS,
    BandRate,
    ImgOutcome,
    ImgStep2Half,
    SpecialtyTargets,
)

MIN_BAND_APPLICANTS = 30
TYPICAL_SCHOOL_STATES = ("CA", "NY", "TX", "PA", "IL", "OH", "MI", "FL")
IMG_VISA_MIX = (("none", 1 - IMG_VISA_NEED), ("J1", IMG_VISA_NEED * 2 / 3), ("H1B", IMG_VISA_NEED / 3))
IMG_YEARS_SINCE_GRADUATION = 3
IMG_BAND = "non-US IMG"


def typical_step2(band: BandRate) -> int:
    if band.high is None:
        return band.low + round(BAND_TAIL_MEAN)
    if band.low is None:
        return band.high - 4
    return (band.low + band.high + 1) // 2


def band_name(band: BandRate) -> str:
    if band.low is None:
        return f"<{band.high + 1}"
    return f"{band.low}+" if band.high is None else f"{band.low}-{band.high}"


def typical_us_md(
    specialty: str, band: BandRate, stats: Mapping[str, SpecialtyStats], targets: Mapping[str, SpecialtyTargets]
) -> list[tuple[Applicant, float]]:
    """The check's typical US MD applicant of a band, one weighted variant per TYPICAL_SCHOOL_STATES."""
    figures = stats.get(specialty, SpecialtyStats(specialty))
    typical = Applicant(
        degree="MD",
        step2_ck_score=typical_step2(band),
        research_items=round(targets[specialty].mean_research_items_matched),  # the figure, or the fallback
        visa_need="none",
        specialties=(specialty,),
        application_budget=round(figures.mean_applications_usmd or MEAN_APPLICATIONS),
        **typical_inputs("MD", figures),  # Step 1, honors, home program, away rotations: what unsaid ones take
    )
    return [
        (replace(typical, school_state=state, preferred_states=frozenset({state})), 1.0)
        for state in TYPICAL_SCHOOL_STATES
    ]


def typical_img(
    specialty: str, outcome: ImgOutcome, stats: Mapping[str, SpecialtyStats], step2: float | None = None
) -> list[tuple[Applicant, float]]:
    """The check's typical non-US IMG of a specialty, one variant per visa need and school state, weighted by
    the simulation's mix of visa needs; Step 2 CK at the IMGs' mean, or at `step2`."""
    figures = stats[specialty]
    typical = Applicant(
        degree="IMG",
        step2_ck_score=round(outcome.mean_step2 if step2 is None else step2),
        research_items=round(outcome.mean_research or 0),
        years_since_graduation=IMG_YEARS_SINCE_GRADUATION,
        specialties=(specialty,),
        application_budget=round(figures.mean_applications_usmd or MEAN_APPLICATIONS),
        **typical_inputs("IMG", figures),
    )
    return [
        (replace(typical, visa_need=visa, preferred_states=frozenset({state})), share)
        for visa, share in IMG_VISA_MIX
        for state in TYPICAL_SCHOOL_STATES
    ]


def img_half_name(half: ImgStep2Half) -> str:
    return (
        f"non-US IMG, Step 2 CK {'below ' if half.lower else ''}{half.threshold:.1f}{'' if half.lower else ' and up'}"
    )


def img_checked(outcomes: Mapping[str, ImgOutcome], stats: Mapping[str, SpecialtyStats]) -> list[str]:
    """The specialties with enough non-US IMG applicants, a Step 2 CK mean and public figures to check."""
    return [
        specialty
        for specialty in sorted(outcomes)
        if outcomes[specialty].applicants >= MIN_BAND_APPLICANTS
        and outcomes[specialty].mean_step2 is not None
        and specialty in stats
    ]
