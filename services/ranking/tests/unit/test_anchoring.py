"""The anchors that pin the model's chances to NRMP's published rates: what they move, what they leave alone,
and that no anchor can make a higher score lower a chance."""

import numpy as np
import pytest

from smartpick_ranking.domain.anchoring import NON_US_IMG, US_MD, Anchor, ExternalAnchors
from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import SpecialtyStats
from smartpick_ranking.domain.features import FEATURE_NAMES, feature_column
from smartpick_ranking.training.anchoring import AGREEMENT, SHIFT_RANGE, PinnedBand, fit_line, pin, refine_line

STEP2 = feature_column("step2_ck_above_specialty_mean")
IMG = feature_column("degree_img")


def rows(distances, img=False) -> np.ndarray:
    block = np.zeros((len(distances), len(FEATURE_NAMES)), dtype=np.float32)
    block[:, STEP2] = distances
    block[:, IMG] = 1.0 if img else 0.0
    return block


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_a_row_without_an_anchor_keeps_its_chance_exactly_and_an_anchored_one_moves_by_its_logit_shift():
    anchors = ExternalAnchors({("Dermatology", US_MD): Anchor(-1.0, 0.02)})
    interview = np.array([0.5, 0.5, 0.5], dtype=np.float32)
    admission = np.array([0.25, 0.25, 0.25], dtype=np.float32)
    moved = anchors.adjust(rows([-10, 0, 0]), ["Dermatology", "Dermatology", "Urology"], interview, admission)
    # given = 0.5, logit 0: shifted to -1.2 and -1.0, times the interview chance.
    assert moved[0] == pytest.approx(0.5 * sigmoid(-1.2), abs=1e-6)
    assert moved[1] == pytest.approx(0.5 * sigmoid(-1.0), abs=1e-6)
    assert moved[2] == admission[2] and moved.dtype == admission.dtype


def test_the_cohorts_anchor_apart_and_a_do_takes_the_us_md_anchor():
    anchors = ExternalAnchors(
        {("Internal Medicine", US_MD): Anchor(-2.0), ("Internal Medicine", NON_US_IMG): Anchor(1.0)}
    )
    interview, admission = np.full(2, 0.8), np.full(2, 0.4)
    md_or_do = anchors.adjust(rows([0, 0]), ["Internal Medicine"] * 2, interview, admission)
    img = anchors.adjust(rows([0, 0], img=True), ["Internal Medicine"] * 2, interview, admission)
    assert md_or_do[0] == pytest.approx(0.8 * sigmoid(-2.0)) and img[0] == pytest.approx(0.8 * sigmoid(1.0))


def test_an_anchor_never_lifts_admission_above_the_interview_and_never_lowers_a_higher_score():
    anchors = ExternalAnchors({("General Surgery", US_MD): Anchor(3.0, 0.05)})
    distances = np.arange(-40, 20, 5.0)
    interview = np.full(len(distances), 0.3)
    admission = np.linspace(0.05, 0.29, len(distances))  # the model's own chance rises with the score
    moved = anchors.adjust(rows(distances), ["General Surgery"] * len(distances), interview, admission)
    assert np.all(moved <= interview) and np.all(np.diff(moved) >= 0)
    with pytest.raises(ValueError, match="slope must be >= 0"):
        ExternalAnchors({("General Surgery", US_MD): Anchor(0.0, -0.01)})


def test_signal_levels_move_alike_and_unknown_step2_takes_the_intercept():
    anchors = ExternalAnchors({("Neurology", US_MD): Anchor(-0.5, 0.1)})
    block = rows([np.nan])
    interview, admission = np.array([[0.6, 0.7]]), np.array([[0.3, 0.35]])
    moved = anchors.adjust(block, ["Neurology"], interview, admission)
    expected = interview * sigmoid(np.log((admission / interview) / (1 - admission / interview)) - 0.5)
    assert moved == pytest.approx(expected)


def test_anchors_travel_as_json():
    anchors = ExternalAnchors({("Dermatology", US_MD): Anchor(-1.5, 0.01), ("Pediatrics", NON_US_IMG): Anchor(0.2)})
    assert ExternalAnchors.from_json(anchors.to_json()).anchors == anchors.anchors
    assert not ExternalAnchors() and anchors


def test_pin_finds_the_shift_that_reaches_the_rate_and_leaves_agreement_alone():
    def chance_at(shift):
        return float(sigmoid(1.0 + shift))

    shift, sensitivity = pin(chance_at, 0.5)
    assert shift == pytest.approx(-1.0, abs=0.03) and sensitivity == pytest.approx(0.25, abs=0.01)
    assert pin(chance_at, float(sigmoid(1.0)) + AGREEMENT / 2)[0] == 0.0
    assert pin(lambda d: 0.999, 0.2)[0] == SHIFT_RANGE[0]  # out of reach: the nearer end


def band(distance, shift, sensitivity=0.2):
    return PinnedBand("X", f"{distance}", distance, shift, sensitivity, 0.5)


def test_the_line_goes_through_the_bands_and_never_falls_with_the_score():
    line = fit_line([band(-30, -2.0), band(-10, -1.0), band(10, 0.0)])
    assert (line.intercept, line.slope) == pytest.approx((-0.5, 0.05))
    falling = fit_line([band(-30, 0.0), band(10, -2.0)])
    assert falling.slope == 0 and falling.intercept == pytest.approx(-1.0)
    # A band whose chance no shift moves (near 100%) barely pulls the level.
    level = fit_line([band(0, -1.0, 0.2), band(0, -4.0, 0.001)])
    assert level.slope == 0 and level.intercept == pytest.approx(-1.0, abs=0.01)


def linear_misses(bands, intercept_effect, noise=0.0):
    """Each band's shown minus published under an anchor, as a line of the anchor's intercept (and slope)."""

    def miss_with(anchor):
        shift = np.array([anchor.intercept + anchor.slope * b.distance for b in bands])
        start, effect = np.array(intercept_effect).T
        return (start + effect * shift) * (1 + noise)

    return miss_with


def test_the_refined_line_minimizes_the_misses_in_probability_where_the_shift_fit_left_a_band_out():
    """Vascular Surgery's shape: 230-239 shown 2 points low with no shift (so pinned at 0), 240-249 10 points
    high (pinned at -0.75). The shifts' level pushes the first 9 points low; the refined level, 4."""
    bands = [band(0, 0.0, 0.11), band(0, -0.75, 0.134)]
    miss_with = linear_misses(bands, [(-0.02, 0.11), (0.10, 0.134)])
    start = fit_line(bands)
    refined = refine_line(start, bands, miss_with)
    assert np.sum(miss_with(refined) ** 2) < np.sum(miss_with(start) ** 2)
    assert np.all(np.abs(miss_with(refined)) < np.abs(miss_with(start)).max())
    assert refined.intercept == pytest.approx(-(0.11 * -0.02 + 0.134 * 0.10) / (0.11**2 + 0.134**2), abs=0.03)
    assert refined.slope == 0 and (refined.low, refined.high) == (start.low, start.high)


def test_the_refined_line_never_falls_with_the_score_and_is_the_same_under_float_noise():
    bands = [band(-20, 1.0), band(20, -1.0)]  # the low band wants a lift, the high one a cut: a falling line
    lines = set()
    for noise in (0.0, 3e-16, -7e-16):
        refined = refine_line(fit_line(bands), bands, linear_misses(bands, [(-0.2, 0.2), (0.2, 0.2)], noise=noise))
        lines.add((refined.intercept, refined.slope, refined.low, refined.high))
    assert len(lines) == 1 and next(iter(lines))[1] == 0.0


def test_float_noise_of_another_cpu_leaves_the_stored_anchor_unchanged():
    """The same seed gives the same model file on any machine: chances whose last bits differ (vectorized sums,
    LAPACK) pin the same shift and fit the same line, to the stored digits."""
    bands = [(-30, -2.0, 0.2), (-10, -1.1, 0.15), (10, 0.3, 0.1)]
    lines = set()
    for noise in (0.0, 3e-16, -7e-16):
        line = fit_line([band(d, shift * (1 + noise), sensitivity * (1 - noise)) for d, shift, sensitivity in bands])
        lines.add((line.intercept, line.slope, line.low, line.high))
    assert len(lines) == 1
    pinned = {pin(lambda d, e=noise: float(sigmoid(0.3 + d)) * (1 + e), 0.4) for noise in (0.0, 2e-16, -4e-16)}
    assert len(pinned) == 1


def test_a_list_says_where_an_anchor_moved_its_chances_and_which_way():
    stats = {"Dermatology": SpecialtyStats("Dermatology", mean_step2ck_matched_usmd=257)}
    anchors = ExternalAnchors(
        {("Dermatology", US_MD): Anchor(-1.5), ("Internal Medicine", US_MD): Anchor(3.0, 0.1, -2.0, 0.0)}
    )
    md = Applicant(degree="MD", step2_ck_score=240, specialties=("Dermatology",))
    (note,) = anchors.notes(md, ["Dermatology", "Urology"], stats)
    assert "Dermatology" in note and "Charting Outcomes, pooled 2020-2024" in note and "put them higher" in note
    assert anchors.notes(Applicant(degree="IMG", step2_ck_score=240), ["Dermatology"], stats) == ()
    # A strong Internal Medicine applicant sits where the line is held at 0: nothing moved, nothing said.
    strong = Applicant(degree="MD", step2_ck_score=250, specialties=("Internal Medicine",))
    im = {"Internal Medicine": SpecialtyStats("Internal Medicine", mean_step2ck_matched_usmd=245)}
    assert anchors.notes(strong, ["Internal Medicine"], im) == ()
