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
three years since graduation, the visa needs the simulation assumes (IMG_VISA_NEED, two thirds J-1)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np

from smartpick_ranking.domain.anchoring import NO_ANCHORS, ExternalAnchors
from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.domain.chances import LatentFactor
from smartpick_ranking.domain.cost import FeeSchedule
from smartpick_ranking.domain.recommend import Predict, recommend_many
from smartpick_ranking.training.dataset import Dataset
from smartpick_ranking.training.targets import (
    BandRate,
    ImgOutcome,
    resolve_targets,
)
from smartpick_ranking.training.typical import (
    IMG_BAND,
    MIN_BAND_APPLICANTS,
    band_name,
    img_checked,
    typical_img,
    typical_us_md,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt

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
    checks = []
    programs = [p for members in programs_by_specialty.values() for p in members]
    targets = resolve_targets(programs, stats, bands)
    for specialty in sorted(bands):
        for band in bands[specialty]:
            if band.applicants < MIN_BAND_APPLICANTS:
                continue
            variants = typical_us_md(specialty, band, stats, targets)
            shown = mean_chance(variants, programs_by_specialty, stats, predict, factor, fees, anchors)
            typical = variants[0][0]
            checks.append(
                BandCheck(
                    specialty,
                    band_name(band),
                    band.applicants,
                    typical.step2_ck_score,
                    typical.application_budget,
                    band.p_match,
                    shown,
                )
            )
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
    checks = []
    for specialty in img_checked(outcomes, stats):
        outcome = outcomes[specialty]
        variants = typical_img(specialty, outcome, stats)
        shown = mean_chance(variants, programs_by_specialty, stats, predict, factor, fees, anchors)
        typical = variants[0][0]
        checks.append(
            BandCheck(
                specialty,
                IMG_BAND,
                outcome.applicants,
                typical.step2_ck_score,
                typical.application_budget,
                outcome.p_match,
                shown,
            )
        )
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


def draw(
    internal: dict, checks: Sequence[BandCheck], img: Sequence[BandCheck], path, anchored: dict | None = None
) -> None:
    """The reliability diagram (internal) beside published against shown (external), as one PNG. `anchored`:
    the same applicants' reliability with the anchors applied (the chances shown), drawn beside the model's."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 5), dpi=110)
    predicted = [row["predicted"] for row in internal["deciles"]]
    observed = [row["observed"] for row in internal["deciles"]]
    for axis in (left, right):
        axis.plot([0, 1], [0, 1], color="#999999", linewidth=1, linestyle="--")
        axis.set_xlim(0, 1)
        axis.set_ylim(0, 1)
        axis.grid(alpha=0.3)
    left.plot(predicted, observed, marker="o", color="#1f5fa8", label="the model")
    title = (
        f"Simulated applicants training never saw ({internal['applicants']})\n"
        f"expected calibration error {internal['expected_calibration_error']:.3f}"
    )
    if anchored is not None:
        left.plot(
            [row["predicted"] for row in anchored["deciles"]],
            [row["observed"] for row in anchored["deciles"]],
            marker="s",
            color="#c07000",
            label="as shown, anchored to NRMP",
        )
        left.legend(loc="lower right")
        title += f"; as shown {anchored['expected_calibration_error']:.3f}"
    left.set_title(title)
    left.set_xlabel("predicted P(at least one match), decile mean")
    left.set_ylabel("observed share matched")
    inside = [abs(c.gap) <= EXTERNAL_TOLERANCE for c in checks]
    right.fill_between(
        [0, 1],
        [-EXTERNAL_TOLERANCE, 1 - EXTERNAL_TOLERANCE],
        [EXTERNAL_TOLERANCE, 1 + EXTERNAL_TOLERANCE],
        color="#cfe3cf",
        alpha=0.6,
        label="within 10 points",
    )
    right.scatter(
        [c.published for c in checks],
        [c.shown for c in checks],
        c=["#2c7a2c" if ok else "#b3261e" for ok in inside],
        s=[max(12, c.applicants**0.5) for c in checks],
        label="US MD seniors, by Step 2 CK band (2020-2024)",
    )
    img_inside = [abs(c.gap) <= EXTERNAL_TOLERANCE for c in img]
    right.scatter(
        [c.published for c in img],
        [c.shown for c in img],
        facecolors="none",
        edgecolors=["#2c7a2c" if ok else "#b3261e" for ok in img_inside],
        marker="s",
        s=[max(12, c.applicants**0.5) for c in img],
        label="non-US IMGs, by specialty (2026)",
    )
    right.set_title(
        "Typical applicant within 10 points of NRMP:\n"
        f"US MD {sum(inside)} of {len(checks)} bands, non-US IMG {sum(img_inside)} of {len(img)} specialties"
    )
    right.set_xlabel("published P(match), NRMP Charting Outcomes")
    right.set_ylabel("P(at least one match) Smart Pick shows")
    right.legend(loc="lower right")
    figure.suptitle("Smart Pick ranking model: calibration (estimates from public aggregate data)")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
