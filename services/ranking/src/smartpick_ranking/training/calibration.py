"""How far the chances the product shows can be trusted, measured two ways.

Internal: on held-out simulated applicants, the predicted P(at least one match) of the list each one
applied to, against whether they matched: a reliability table by decile of the prediction, and the
expected calibration error (the applicants-weighted mean gap between predicted and observed).

External: against NRMP's published P(match) of US MD seniors by Step 2 CK band (step2_band_match_rates.csv,
pooled 2020-2024). For every specialty and band with at least MIN_BAND_APPLICANTS applicants, the product
scores a typical applicant of the band (US MD senior, Step 2 CK at the band's typical score, research at
the specialty's matched mean (or the simulation's fallback for it), no AOA, three honors, a home program
and the simulation's typical away rotations, its own school's state preferred, the specialty's typical
number of applications, its signals planned, averaged over TYPICAL_SCHOOL_STATES) exactly as a student
would be scored, and the table puts that chance beside the published rate. The same for non-US IMGs, one row
per specialty, against NRMP's 2026 non-US IMG match rates (img_charting_outcomes_2026.csv): Step 2 CK and
research at the means of the specialty's IMG applicants, matched and unmatched together, no home program,
three years since graduation, the visa needs the simulation assumes (IMG_VISA_NEED, two thirds J-1); and
again at the median score of each half of the specialty's IMGs by Step 2 CK, against the half's rate derived
from NRMP's quartiles of matched and unmatched IMGs (`img_step2_checks`)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from smartpick_ranking.domain.anchoring import NO_ANCHORS, ExternalAnchors
from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.domain.chances import LatentFactor
from smartpick_ranking.domain.cost import FeeSchedule
from smartpick_ranking.domain.recommend import Predict, recommend_many
from smartpick_ranking.training.dataset import Dataset
from smartpick_ranking.training.targets import BandRate, ImgOutcome, ImgStep2Half, resolve_targets
from smartpick_ranking.training.typical import (
    IMG_BAND,
    MIN_BAND_APPLICANTS,
    band_name,
    img_checked,
    img_half_name,
    typical_img,
    typical_us_md,
)

EXTERNAL_TOLERANCE = 0.10  # the bar: within 10 points of the published rate
DECILES = 10
NOISE_DRAWS = 200


@dataclass(frozen=True)
class BandCheck:
    specialty: str
    band: str
    applicants: int
    typical_step2: int
    applications: int
    published: float
    shown: float

    @property
    def gap(self) -> float:
        return self.shown - self.published


def _expected_calibration_error(predicted: np.ndarray, matched: np.ndarray, order: np.ndarray) -> float:
    chunks = np.array_split(order, DECILES)
    return float(sum(len(c) / len(order) * abs(predicted[c].mean() - matched[c].mean()) for c in chunks))


def reliability(dataset: Dataset, admission: np.ndarray, factor: LatentFactor) -> dict:
    """Deciles of predicted P(at least one match) per held-out applicant against the observed rate.

    `noise_floor`: the error a perfectly calibrated model would show on as many applicants (outcomes drawn
    from its own predictions, mean of NOISE_DRAWS draws): below it, a figure says nothing about the model."""
    starts, matched = dataset.applicants()
    log_none = np.log1p(-np.clip(factor.conditional(admission), 0, 1 - 1e-12))
    predicted = 1 - np.exp(np.add.reduceat(log_none, starts, axis=0)) @ factor.weights
    order = np.argsort(predicted, kind="stable")
    rows = [
        {
            "applicants": len(chunk),
            "predicted": float(predicted[chunk].mean()),
            "observed": float(matched[chunk].mean()),
            "low": float(predicted[chunk].min()),
            "high": float(predicted[chunk].max()),
        }
        for chunk in np.array_split(order, DECILES)
    ]
    rng = np.random.default_rng(0)
    noise = [
        _expected_calibration_error(predicted, rng.random(len(predicted)) < predicted, order)
        for _ in range(NOISE_DRAWS)
    ]
    return {
        "applicants": len(order),
        "deciles": rows,
        "expected_calibration_error": _expected_calibration_error(predicted, matched, order),
        "noise_floor": float(np.mean(noise)),
    }


def mean_chance(
    variants: Sequence[tuple[Applicant, float]],
    programs_by_specialty: Mapping[str, Sequence[Program]],
    stats: Mapping[str, SpecialtyStats],
    predict: Predict,
    factor: LatentFactor,
    fees: FeeSchedule,
    anchors: ExternalAnchors = NO_ANCHORS,
) -> float:
    """The weighted mean of the P(at least one match) the product shows each variant of a typical applicant."""
    results = recommend_many(
        [(a, programs_by_specialty) for a, _ in variants], stats, predict, factor, fees, anchors=anchors
    )
    return float(np.average([r.list_match_probability for r in results], weights=[w for _, w in variants]))


def _check(
    specialty: str, band: str, applicants: int, published: float, variants: Sequence[tuple[Applicant, float]], scoring
) -> BandCheck:
    """The chance shown the variants of a typical applicant (`scoring`: `mean_chance`'s arguments after them)."""
    typical = variants[0][0]
    shown = mean_chance(variants, *scoring)
    return BandCheck(specialty, band, applicants, typical.step2_ck_score, typical.application_budget, published, shown)


def external_checks(
    bands: Mapping[str, Sequence[BandRate]],
    programs_by_specialty: Mapping[str, Sequence[Program]],
    stats: Mapping[str, SpecialtyStats],
    predict: Predict,
    factor: LatentFactor,
    fees: FeeSchedule,
    anchors: ExternalAnchors = NO_ANCHORS,
) -> list[BandCheck]:
    """The product's chance for a typical US MD applicant of every band with enough applicants."""
    checks, scoring = [], (programs_by_specialty, stats, predict, factor, fees, anchors)
    programs = [p for members in programs_by_specialty.values() for p in members]
    targets = resolve_targets(programs, stats, bands)
    for specialty in sorted(bands):
        for band in bands[specialty]:
            if band.applicants < MIN_BAND_APPLICANTS:
                continue
            variants = typical_us_md(specialty, band, stats, targets)
            checks.append(_check(specialty, band_name(band), band.applicants, band.p_match, variants, scoring))
    return checks


def img_checks(
    outcomes: Mapping[str, ImgOutcome],
    programs_by_specialty: Mapping[str, Sequence[Program]],
    stats: Mapping[str, SpecialtyStats],
    predict: Predict,
    factor: LatentFactor,
    fees: FeeSchedule,
    anchors: ExternalAnchors = NO_ANCHORS,
) -> list[BandCheck]:
    """The product's chance for a typical non-US IMG of every specialty with enough IMG applicants."""
    checks, scoring = [], (programs_by_specialty, stats, predict, factor, fees, anchors)
    for specialty in img_checked(outcomes, stats):
        outcome = outcomes[specialty]
        variants = typical_img(specialty, outcome, stats)
        checks.append(_check(specialty, IMG_BAND, outcome.applicants, outcome.p_match, variants, scoring))
    return checks


def img_step2_checks(
    halves: Mapping[str, Sequence[ImgStep2Half]],
    outcomes: Mapping[str, ImgOutcome],
    programs_by_specialty: Mapping[str, Sequence[Program]],
    stats: Mapping[str, SpecialtyStats],
    predict: Predict,
    factor: LatentFactor,
    fees: FeeSchedule,
    anchors: ExternalAnchors = NO_ANCHORS,
) -> list[BandCheck]:
    """The typical non-US IMG of `img_checks` at the median Step 2 CK of each half of the specialty's IMGs
    (`targets.ImgStep2Half`) beside that half's derived rate: how the chance moves with the score, which the
    one published rate per specialty (the anchor's) does not pin. Halves of fewer than MIN_BAND_APPLICANTS
    IMGs are left out."""
    checks, scoring = [], (programs_by_specialty, stats, predict, factor, fees, anchors)
    for specialty in img_checked(outcomes, stats):
        for half in halves.get(specialty, ()):
            if half.applicants < MIN_BAND_APPLICANTS:
                continue
            variants = typical_img(specialty, outcomes[specialty], stats, half.typical_step2)
            name, applicants, published = img_half_name(half), round(half.applicants), round(half.p_match, 4)
            checks.append(_check(specialty, name, applicants, published, variants, scoring))
    return checks


def external_summary(checks: Sequence[BandCheck]) -> dict:
    gaps = np.array([c.gap for c in checks])
    return {
        "bands": len(checks),
        "within_tolerance": int(np.sum(np.abs(gaps) <= EXTERNAL_TOLERANCE)),
        "tolerance": EXTERNAL_TOLERANCE,
        "mean_absolute_gap": float(np.abs(gaps).mean()) if len(gaps) else 0.0,
        "largest_gaps": [
            {"specialty": c.specialty, "band": c.band, "published": c.published, "shown": c.shown}
            for c in sorted(checks, key=lambda c: -abs(c.gap))[:5]
        ],
        "rows": [
            {
                "specialty": c.specialty,
                "band": c.band,
                "applicants": c.applicants,
                "step2": c.typical_step2,
                "applications": c.applications,
                "published": c.published,
                "shown": round(c.shown, 4),
            }
            for c in checks
        ],
    }
