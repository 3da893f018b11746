"""Fitting the anchors (`domain.anchoring`) to NRMP's published rates, and checking them on bands left out.

US MD seniors, per specialty: for each band with MIN_BAND_APPLICANTS, the logit shift at which the product
shows the band's typical applicant (`typical.typical_us_md`, scored exactly as the external check scores
them) the published rate, found by root-finding (the chance rises with the shift), and how fast the chance
moves there. Then one line per specialty, intercept + slope x (Step 2 CK - the specialty's matched mean),
slope >= 0. The line starts as a least-squares fit through the bands' shifts, each band's miss in shift
weighed by how much its chance moves with the shift, so a band near 100%, which no shift moves, does not pull
the line, and a band the model already shows within AGREEMENT of the published rate asks for no shift. It
is then refined on the chances themselves: the line that minimizes the bands' squared misses in probability,
which is what the bar measures (`refine_line`). Out of sample,
each band again with the line fitted to the specialty's other bands: how well the line carries to scores no
band pinned, the figure the calibration section reports beside the fitted one.

Non-US IMGs: NRMP publishes one rate per specialty, so the anchor is the one intercept that reaches it; there
is nothing left over to check it against, which the card and docs say."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize
from tqdm import tqdm

from smartpick_ranking.domain.anchoring import NON_US_IMG, US_MD, Anchor, ExternalAnchors
from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.domain.chances import LatentFactor
from smartpick_ranking.domain.cost import FeeSchedule
from smartpick_ranking.domain.features import step2_above_specialty_mean
from smartpick_ranking.domain.recommend import Predict
from smartpick_ranking.training.calibration import mean_chance
from smartpick_ranking.training.targets import BandRate, ImgOutcome, SpecialtyTargets
from smartpick_ranking.training.typical import MIN_BAND_APPLICANTS, band_name, img_checked, typical_img, typical_us_md

SHIFT_RANGE = (-5.0, 4.0)  # logit shifts searched; a rate out of reach takes the nearer end
SHIFT_TOLERANCE = 0.02
SENSITIVITY_STEP = 0.25
REFINE_TOLERANCE, REFINE_EVALUATIONS = 0.02, 60  # the refinement's step on the logit scale, and its budget
# A band the model already shows within this of the published rate needs no shift: the simulation is kept
# where it agrees with the record (a published rate of 30 applicants is itself uncertain by up to 9 points),
# and a near-certain list, which only a large shift moves, does not drag down the weaker lists beside it.
AGREEMENT = 0.05
# Digits an anchor's numbers and a band's pinned shift keep. The chances they come from are sums whose last
# bits depend on the CPU (vectorized float sums, LAPACK), so unrounded the same seed gave other model bytes on
# another machine; 1e-6 on the logit scale is far below SHIFT_TOLERANCE and moves no chance shown.
ANCHOR_DIGITS = 6

Variants = Sequence[tuple[Applicant, float]]


@dataclass(frozen=True)
class PinnedBand:
    """One published band: the shift that shows its typical applicant the rate, and the chance's slope there."""

    specialty: str
    band: str
    distance: float  # typical Step 2 CK minus the specialty's matched mean (0 where no mean is public)
    shift: float
    sensitivity: float  # d chance / d shift at `shift`
    published: float


class ShownChance:
    """The chance the product shows a typical applicant's variants with one specialty's anchor, the model's
    raw answers kept so that trying many anchors scores each row once."""

    def __init__(
        self,
        programs_by_specialty: Mapping[str, Sequence[Program]],
        stats: Mapping[str, SpecialtyStats],
        predict: Predict,
        factor: LatentFactor,
        fees: FeeSchedule,
    ):
        self.programs_by_specialty, self.stats, self.factor, self.fees = programs_by_specialty, stats, factor, fees
        self._predict, self._answers = predict, {}

    def _remembered(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = rows.tobytes()
        if key not in self._answers:
            self._answers[key] = self._predict(rows)
        return self._answers[key]

    def __call__(self, variants: Variants, anchors: ExternalAnchors) -> float:
        return mean_chance(
            variants, self.programs_by_specialty, self.stats, self._remembered, self.factor, self.fees, anchors
        )

    def forget(self) -> None:
        self._answers.clear()


def pin(chance_at: Callable[[float], float], published: float) -> tuple[float, float]:
    """The shift at which `chance_at` gives `published` (the nearer end of SHIFT_RANGE if none does), or 0
    where the model is already within AGREEMENT of it; and the chance's slope there."""
    low, high = SHIFT_RANGE
    if abs(chance_at(0.0) - published) <= AGREEMENT:
        shift = 0.0
    elif chance_at(low) >= published:
        shift = low
    elif chance_at(high) <= published:
        shift = high
    else:
        shift = brentq(lambda d: chance_at(d) - published, low, high, xtol=SHIFT_TOLERANCE)
    step = SENSITIVITY_STEP
    sensitivity = (chance_at(shift + step) - chance_at(shift - step)) / (2 * step)
    return round(float(shift), ANCHOR_DIGITS), round(max(float(sensitivity), 1e-4), ANCHOR_DIGITS)


def _rounded(intercept: float, slope: float, low: float, high: float) -> Anchor:
    """The anchor as stored: ANCHOR_DIGITS of each number, so one seed gives one model file on any machine."""
    return Anchor(*(round(float(x), ANCHOR_DIGITS) for x in (intercept, slope, low, high)))


def fit_line(pinned: Sequence[PinnedBand]) -> Anchor:
    """intercept + slope x distance through the bands' shifts, each weighted by its sensitivity squared (its
    miss in probability), slope >= 0, held within the shifts the bands asked for; one band, or a line that
    would fall with the score: its level alone."""
    distance = np.array([p.distance for p in pinned])
    shift = np.array([p.shift for p in pinned])
    weight = np.array([p.sensitivity for p in pinned]) ** 2
    level = float(np.average(shift, weights=weight))
    low, high = float(shift.min()), float(shift.max())
    if len(pinned) < 2 or np.ptp(distance) == 0:
        return _rounded(level, 0.0, low, high)
    design = np.column_stack([np.ones(len(pinned)), distance]) * np.sqrt(weight)[:, None]
    (intercept, slope), *_ = np.linalg.lstsq(design, shift * np.sqrt(weight), rcond=None)
    return _rounded(intercept, slope, low, high) if slope >= 0 else _rounded(level, 0.0, low, high)


def refine_line(start: Anchor, pinned: Sequence[PinnedBand], miss_with: Callable[[Anchor], np.ndarray]) -> Anchor:
    """From `start`, the line (slope >= 0, held within the bands' shifts) that minimizes the sum of the bands'
    squared misses in probability, `miss_with(anchor)` giving each band's shown minus published. The shift fit
    treats a band within AGREEMENT as asking for no shift at all, so a line pulled by its neighbours could push
    it out of agreement: Vascular Surgery 230-239, shown 0.77 against 0.79 unanchored, fell to 0.68 under the
    level its 240-249 band asked for. Nelder-Mead over (intercept, slope); only the level where the bands do
    not differ in score."""
    varies = len(pinned) > 1 and np.ptp([p.distance for p in pinned]) > 0

    def line(x: np.ndarray) -> Anchor:
        return Anchor(float(x[0]), max(0.0, float(x[1])) if varies else 0.0, start.low, start.high)

    def cost(x: np.ndarray) -> float:
        # Rounded, so that chances differing in their last bits on another CPU take the same steps.
        return round(float(np.sum(miss_with(line(x)) ** 2)), ANCHOR_DIGITS + 3)

    options = {"xatol": REFINE_TOLERANCE, "fatol": 1e-6, "maxfev": REFINE_EVALUATIONS}
    found = minimize(cost, np.array([start.intercept, start.slope]), method="Nelder-Mead", options=options)
    best = line(found.x) if found.fun < cost(np.array([start.intercept, start.slope])) else start
    return _rounded(best.intercept, best.slope, best.low, best.high)


@dataclass(frozen=True)
class AnchorFit:
    anchors: ExternalAnchors
    out_of_sample: list[dict]  # per US MD band: the chance shown with the line fitted to the other bands

    def summary(self, tolerance: float) -> dict:
        gaps = np.array([row["shown"] - row["published"] for row in self.out_of_sample])
        return {
            "bands": len(gaps),
            "within_tolerance": int(np.sum(np.abs(gaps) <= tolerance)),
            "tolerance": tolerance,
            "mean_absolute_gap": float(np.abs(gaps).mean()) if len(gaps) else 0.0,
            "rows": self.out_of_sample,
            "anchors": [
                {
                    "specialty": s,
                    "cohort": c,
                    "intercept": round(a.intercept, 4),
                    "slope": round(a.slope, 5),
                    "low": round(a.low, 4),
                    "high": round(a.high, 4),
                }
                for (s, c), a in sorted(self.anchors.anchors.items())
            ],
        }


def _line_through(
    bands: Sequence[PinnedBand], variants_of: Mapping[tuple[str, str], Variants], shown: ShownChance
) -> Anchor:
    """One specialty's US MD line through `bands`: `fit_line`, then `refine_line` on the chances shown."""

    def miss_with(anchor: Anchor) -> np.ndarray:
        return np.array(
            [
                shown(variants_of[p.specialty, p.band], ExternalAnchors({(p.specialty, US_MD): anchor})) - p.published
                for p in bands
            ]
        )

    return refine_line(fit_line(bands), bands, miss_with)


def fit_anchors(
    bands: Mapping[str, Sequence[BandRate]],
    img_outcomes: Mapping[str, ImgOutcome],
    targets: Mapping[str, SpecialtyTargets],
    shown: ShownChance,
) -> AnchorFit:
    """Every specialty's US MD line and non-US IMG intercept, and the US MD bands out of sample."""
    stats = shown.stats
    anchors: dict[tuple[str, str], Anchor] = {}
    pinned: list[PinnedBand] = []
    variants_of: dict[tuple[str, str], Variants] = {}
    for specialty in tqdm(sorted(s for s in bands if s in targets), desc="anchor to NRMP", unit="specialty"):
        of_specialty = []
        for band in bands[specialty]:
            if band.applicants < MIN_BAND_APPLICANTS:
                continue
            variants = typical_us_md(specialty, band, stats, targets)
            variants_of[specialty, band_name(band)] = variants
            shift, sensitivity = pin(
                lambda d, v=variants, s=specialty: shown(v, ExternalAnchors({(s, US_MD): Anchor(d)})), band.p_match
            )
            # As the rows read it; unknown (no public mean) counts as 0, as `Anchor.shift` takes it.
            distance = float(np.nan_to_num(step2_above_specialty_mean(variants[0][0], stats.get(specialty))))
            of_specialty.append(PinnedBand(specialty, band_name(band), distance, shift, sensitivity, band.p_match))
        if of_specialty:
            anchors[specialty, US_MD] = _line_through(of_specialty, variants_of, shown)
            pinned += of_specialty
        shown.forget()
    out_of_sample = []
    for left_out in pinned:
        others = [p for p in pinned if p.specialty == left_out.specialty and p is not left_out]
        line = _line_through(others, variants_of, shown) if others else Anchor(0.0)
        variants = variants_of[left_out.specialty, left_out.band]
        chance = shown(variants, ExternalAnchors({(left_out.specialty, US_MD): line}))
        out_of_sample.append(
            {
                "specialty": left_out.specialty,
                "band": left_out.band,
                "published": left_out.published,
                "shown": round(chance, 4),
            }
        )
    shown.forget()
    for specialty in img_checked(img_outcomes, stats):
        outcome = img_outcomes[specialty]
        variants = typical_img(specialty, outcome, stats)
        shift, _ = pin(
            lambda d, s=specialty, v=variants: shown(v, ExternalAnchors({(s, NON_US_IMG): Anchor(d)})), outcome.p_match
        )
        anchors[specialty, NON_US_IMG] = _rounded(shift, 0.0, shift, shift)
        shown.forget()
    return AnchorFit(ExternalAnchors(anchors), out_of_sample)
