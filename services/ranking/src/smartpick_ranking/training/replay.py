"""The product's own list played in the simulated Match: is the chance shown beside a list the chance that
list has in the world the model learned from?

The internal check scores the lists simulated applicants made for themselves. The product shows another
list, the one its optimizer picks, and a list picked for its high estimates carries their errors with it.
So the typical applicant of each band is given the list and signal plan the product recommends, and that
list is played in the specialty's simulated Match by its own rules (`program_view`, the market's weights
and noise): every listed program scores the applicant with fresh noise and a fresh latent strength,
interviews when the score reaches the lowest it offered in the Match, and would take the applicant when the
score after interviews reaches the lowest it matched. One applicant changing their list does not move the
programs' lines, so the lines stay where the Match drew them. Left out: the cap of MAX_INTERVIEWS an
applicant attends (a typical applicant of a band is rarely offered that many) and the order of interview
waves (the line is the lowest score any wave reached)."""

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from smartpick_ranking.domain.anchoring import NO_ANCHORS, ExternalAnchors
from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import SpecialtyStats
from smartpick_ranking.domain.chances import LatentFactor
from smartpick_ranking.domain.cost import FeeSchedule
from smartpick_ranking.domain.optimize import SECOND, TOP
from smartpick_ranking.domain.recommend import Predict, recommend_many
from smartpick_ranking.training.market import (
    AWAY_WEIGHT,
    HOME_PROGRAM_WEIGHT,
    LATENT_WEIGHT,
    POST_INTERVIEW_NOISE,
    PRE_INTERVIEW_NOISE,
    SpecialtyOutcome,
)
from smartpick_ranking.training.program_view import Cohort, program_view
from smartpick_ranking.training.targets import BandRate, ImgOutcome, SpecialtyTargets
from smartpick_ranking.training.typical import (
    IMG_BAND,
    MIN_BAND_APPLICANTS,
    band_name,
    img_checked,
    typical_img,
    typical_us_md,
)

TRIALS = 4000  # draws of noise and latent strength per list: a chance's sampling error is under 0.8 points
DEGREE_INDEX = {"MD": 0, "DO": 1, "IMG": 2}


def _cohort_of(applicant: Applicant) -> Cohort:
    has_step2 = applicant.step2_ck_score is not None
    return Cohort(
        degree_index=np.array([DEGREE_INDEX[applicant.degree]]),
        step2=np.array([float(applicant.step2_ck_score or 0)]),
        has_step2=np.array([has_step2]),
        comlex=np.array([float(applicant.comlex_level2_score or 0)]),
        research=np.array([applicant.research_items]),
        aoa=np.array([applicant.aoa_member]),
        honors=np.array([applicant.clerkship_honors]),
        step1_failed=np.array([applicant.step1_result == "fail"]),
        years=np.array([applicant.years_since_graduation]),
        home_state=np.array([applicant.school_state or ""]),
        visa=np.array([applicant.visa_need or "none"]),
    )


def replayed_chance(
    outcome: SpecialtyOutcome,
    targets: SpecialtyTargets,
    applicant: Applicant,
    listed: Sequence[int],
    signals: Sequence[int],
    rng: np.random.Generator,
    trials: int = TRIALS,
) -> float:
    """The share of `trials` plays in which at least one program of the list would take the applicant.
    `listed`: indices into `outcome.programs`; `signals`: NONE, TOP or SECOND (`optimize`) per entry.
    The home program and the away rotations go where the simulation puts them: the home program one listed
    program (in the school's state when one is), the rotations to signaled programs first."""
    if not listed:
        return 0.0
    drawn, knobs, bars = outcome.drawn, outcome.knobs, outcome.bars
    idx = np.asarray(listed)
    visible = program_view(_cohort_of(applicant), drawn, knobs, targets)[0, idx]
    levels = np.asarray(signals)
    signal_term = np.select(
        [levels == TOP, levels == SECOND], [knobs.top_signal_weight, knobs.second_signal_weight], 0.0
    )
    shape = (trials, len(idx))
    in_state = drawn.in_state(np.array([applicant.school_state or ""]))[0, idx]
    home = np.zeros(shape)
    if applicant.has_home_program:
        home[np.arange(trials), np.argmax(in_state + rng.gumbel(size=shape), axis=1)] = 1.0
    rotation_rank = np.argsort(np.argsort(-((levels > 0) + rng.gumbel(size=shape)), axis=1), axis=1)
    away = rotation_rank < applicant.away_rotations
    base = visible + HOME_PROGRAM_WEIGHT * home + AWAY_WEIGHT * away + LATENT_WEIGHT * rng.normal(size=(trials, 1))
    interviewed = base + signal_term + rng.normal(0, PRE_INTERVIEW_NOISE, shape) >= bars.interview[idx]
    admitted = interviewed & (base + rng.normal(0, POST_INTERVIEW_NOISE, shape) >= bars.admission[idx])
    return float(admitted.any(axis=1).mean())


@dataclass(frozen=True)
class ReplayCheck:
    specialty: str
    band: str
    published: float
    shown: float  # what the product shows for its list among the simulated programs
    replayed: float  # that list's share of plays with a match in the simulated Match

    @property
    def overstatement(self) -> float:
        return self.shown - self.replayed


def _shown_and_replayed(
    outcome: SpecialtyOutcome,
    targets: SpecialtyTargets,
    variants: Sequence[tuple[Applicant, float]],
    scoring: tuple,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """The weighted means over a typical applicant's variants of the chance shown for the recommended list
    and of that list's replayed chance."""
    stats, predict, factor, fees, anchors = scoring
    index = {program.program_id: j for j, program in enumerate(outcome.programs)}
    applicants = [applicant for applicant, _ in variants]
    results = recommend_many(
        [(a, {outcome.specialty: outcome.programs}) for a in applicants], stats, predict, factor, fees, anchors=anchors
    )
    replayed = [
        replayed_chance(
            outcome,
            targets,
            applicant,
            [index[s.program.program_id] for s in result.application_list],
            [s.signal for s in result.application_list],
            rng,
        )
        for applicant, result in zip(applicants, results, strict=True)
    ]
    weights = [w for _, w in variants]
    shown = [r.list_match_probability for r in results]
    return float(np.average(shown, weights=weights)), float(np.average(replayed, weights=weights))


def _rng(seed: int, specialty: str, band: str) -> np.random.Generator:
    """Each band's own stream, so a band's figures do not depend on which others are checked."""
    return np.random.default_rng([seed, zlib.crc32(f"{specialty}|{band}".encode())])


def replayed_checks(
    outcomes: Mapping[str, SpecialtyOutcome],
    targets: Mapping[str, SpecialtyTargets],
    bands: Mapping[str, Sequence[BandRate]],
    stats: Mapping[str, SpecialtyStats],
    predict: Predict,
    factor: LatentFactor,
    fees: FeeSchedule,
    seed: int,
    anchors: ExternalAnchors = NO_ANCHORS,
) -> list[ReplayCheck]:
    """For every band of the external check, the typical applicant's recommended list (chosen among the
    programs the specialty's Match ran on: all of them up to MAX_SIMULATED_PROGRAMS) shown and replayed."""
    checks = []
    for specialty in sorted(set(bands) & set(outcomes)):
        for band in bands[specialty]:
            if band.applicants < MIN_BAND_APPLICANTS:
                continue
            variants = typical_us_md(specialty, band, stats, targets)
            name = band_name(band)
            shown, replayed = _shown_and_replayed(
                outcomes[specialty],
                targets[specialty],
                variants,
                (stats, predict, factor, fees, anchors),
                _rng(seed, specialty, name),
            )
            checks.append(ReplayCheck(specialty, name, band.p_match, shown, replayed))
    return checks


def replayed_img_checks(
    outcomes: Mapping[str, SpecialtyOutcome],
    targets: Mapping[str, SpecialtyTargets],
    img: Mapping[str, ImgOutcome],
    stats: Mapping[str, SpecialtyStats],
    predict: Predict,
    factor: LatentFactor,
    fees: FeeSchedule,
    seed: int,
    anchors: ExternalAnchors = NO_ANCHORS,
) -> list[ReplayCheck]:
    """The same for the typical non-US IMG of every specialty the IMG check covers."""
    checks = []
    for specialty in img_checked(img, stats):
        if specialty not in outcomes:
            continue
        variants = typical_img(specialty, img[specialty], stats)
        shown, replayed = _shown_and_replayed(
            outcomes[specialty],
            targets[specialty],
            variants,
            (stats, predict, factor, fees, anchors),
            _rng(seed, specialty, IMG_BAND),
        )
        checks.append(ReplayCheck(specialty, IMG_BAND, img[specialty].p_match, shown, replayed))
    return checks


def replay_summary(checks: Sequence[ReplayCheck]) -> dict:
    over = np.array([c.overstatement for c in checks])
    return {
        "bands": len(checks),
        "mean_overstatement": float(over.mean()) if len(over) else 0.0,
        "overstated_by_more_than_10_points": int(np.sum(over > 0.10)),
        "understated_by_more_than_10_points": int(np.sum(over < -0.10)),
        "rows": [
            {
                "specialty": c.specialty,
                "band": c.band,
                "published": c.published,
                "shown": round(c.shown, 4),
                "replayed": round(c.replayed, 4),
            }
            for c in checks
        ],
    }
