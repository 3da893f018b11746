"""A simulated Match per specialty, calibrated to public figures, whose rows train the ranking model.

Programs are the catalog's, with their public facts (program_facts.csv: positions, setting, visa policy,
resident shares, applications received; program_signal_interview_rates.csv: interview rates by signal).
What a program does not state is drawn from the specialty's programs that do. Applicants apply to programs
in proportion to the applications each program received (more where they prefer the state), send their
signals, and are invited by the programs that score them highest; after interviews both sides rank and a
deferred-acceptance match runs.

Every applicant carries a latent strength that no input shows (letters, interviews, everything the
features miss). It enters every program's score of that applicant, so programs' decisions about one
applicant are correlated; the model measures that correlation (`latent_loading`) instead of assuming
independent programs.

Each application is labelled with the counterfactual outcome the list optimization needs: `admitted`, the
program would take the applicant if the applicant ranked it first (interviewed, and ranked at or above
the program's last matched applicant, or the program had a seat left). By stability of the match, an
applicant matched exactly when at least one application is admitted.

Calibration, pass after pass (the pools start where the figures put them): the weight programs give Step 2
CK, and how much US MD applicants' AOA membership follows it, until the slope of the US MD seniors' P(match)
across Step 2 CK bands reproduces step2_band_match_rates.csv (NRMP Charting Outcomes, pooled 2020-2024)
where the specialty has it; the weight of a non-MD degree until the US MD share of positions is reproduced
(which with the pools sets the US MD match rate), and of a non-US IMG's until NRMP's 2026 non-US IMG match
rate is (img_charting_outcomes_2026.csv, whose counts size the IMG pool); the other applicants' pool until
the fill rate is; the signal weights until the mean interview rates with a top, a second and no signal
reproduce the ERAS 2024 per-program rates; and the share of the Step 2 CK weight a non-US IMG's score is given,
until the IMGs below and above their median score match as far apart as NRMP's 2026 quartiles of matched and
unmatched IMGs put them. Where a figure is missing the simulation uses a documented fallback (FALLBACKS), and
what no public figure gives it ASSUMES (ASSUMPTIONS): both are listed in the model card.
"""

import math
from collections.abc import Mapping, Sequence

import numpy as np

from smartpick_ranking.domain.catalog import Program
from smartpick_ranking.training.market import Knobs, SpecialtyOutcome, simulate_market
from smartpick_ranking.training.targets import SpecialtyTargets

TOP_SIGNAL_START, SECOND_SIGNAL_START = 1.5, 0.9
CALIBRATION_PASSES = 8
BELIEF_UPDATE = 0.5  # how far applicants' idea of the programs' lines moves toward the last pass
ASSUMED_USMD_MATCH_RATE, ASSUMED_OTHER_MATCH_RATE = 0.9, 0.5
MAX_SIMULATED_PROGRAMS = 250
MIN_IMG_APPLICANTS = 50  # fewer non-US IMGs than this: their pool is NRMP's, their match rate too noisy to fit


def _logit(x: float) -> float:
    x = min(max(x, 0.005), 0.995)
    return math.log(x / (1 - x))


def _band_fit(targets: SpecialtyTargets, achieved: Mapping[str, float]) -> tuple[float, float]:
    """(level, slope) gaps between the published and the simulated band rates, on the logit scale,
    weighted by the square root of the band's applicants (weighted by the applicants themselves, the top
    band decided the slope alone and the low bands, where a student most needs a true figure, matched far
    too often): level = mean gap, slope = ratio of the spreads."""
    weights, wanted, got, centers = [], [], [], []
    for band in targets.bands:
        value = achieved.get(f"band_{band.low}_{band.high}", math.nan)
        if not math.isnan(value):
            weights.append(math.sqrt(band.applicants))
            wanted.append(_logit(band.p_match))
            got.append(_logit(value))
            centers.append((band.low if band.low is not None else band.high - 9) + 5)
    w = np.array(weights, dtype=float)
    if w.sum() == 0:
        return 0.0, 1.0
    wanted_a, got_a, x = np.array(wanted), np.array(got), np.array(centers, dtype=float)
    level = float(np.average(wanted_a - got_a, weights=w))
    x_centered = x - np.average(x, weights=w)
    spread = float(np.average(x_centered**2, weights=w))
    if spread == 0:
        return level, 1.0
    slope_wanted = float(np.average(x_centered * wanted_a, weights=w)) / spread
    slope_got = float(np.average(x_centered * got_a, weights=w)) / spread
    return level, float(np.clip(slope_wanted / slope_got, 0.6, 1.5)) if slope_got > 1e-4 else 1.2


def _half_gap(lower: float, upper: float) -> float:
    """How much more often the upper half of a cohort's Step 2 CK matches than the lower, on the logit scale."""
    return _logit(upper) - _logit(lower) if not (math.isnan(lower) or math.isnan(upper)) else 0.0


def market_of(programs: Sequence[Program], seed: int, specialty_index: int) -> list[Program]:
    """The programs a specialty's simulated Match runs on: all of them, or a random MAX_SIMULATED_PROGRAMS
    of a larger specialty (the pools scale with its positions, so the market keeps its proportions)."""
    if len(programs) <= MAX_SIMULATED_PROGRAMS:
        return list(programs)
    rng = np.random.default_rng([seed, specialty_index, 7])
    chosen = np.sort(rng.choice(len(programs), MAX_SIMULATED_PROGRAMS, replace=False))
    return [programs[i] for i in chosen]


def simulate_specialty(
    programs: Sequence[Program], targets: SpecialtyTargets, seed: int, specialty_index: int
) -> SpecialtyOutcome:
    """Simulate, then shift the pools, the weights of a degree, of Step 2 CK and of signals toward the targets.

    The pools start where the published figures put them: US MD applicants = the positions US MD seniors
    fill / their match rate (from the bands, else ASSUMED_USMD_MATCH_RATE), the others = the positions left
    to fill / ASSUMED_OTHER_MATCH_RATE."""
    md_rate = (
        sum(b.p_match * b.applicants for b in targets.bands) / sum(b.applicants for b in targets.bands)
        if targets.bands
        else ASSUMED_USMD_MATCH_RATE
    )
    programs = market_of(programs, seed, specialty_index)
    md_filled = min(targets.fill_rate, targets.usmd_share)
    img_filled = targets.img.per_position * targets.img.p_match if targets.img else 0.0
    knobs = Knobs(
        md_per_position=md_filled / max(md_rate, 0.05),
        other_per_position=max(0.02, targets.fill_rate - md_filled - img_filled) / ASSUMED_OTHER_MATCH_RATE,
        non_md_weight=1.0,
        step2_weight=1.0,
        step2_coupling=0.6,
        top_signal_weight=TOP_SIGNAL_START,
        second_signal_weight=SECOND_SIGNAL_START,
        step2_shift=targets.mean_step2ck_matched_usmd - 3.0,
    )
    outcome = simulate_market(programs, targets, knobs, (seed, specialty_index))
    believed = outcome.bars
    for _ in range(CALIBRATION_PASSES - 1):
        got = outcome.achieved
        if targets.bands:
            _, slope = _band_fit(targets, got)
            knobs.step2_weight = float(np.clip(knobs.step2_weight * slope, 0.05, 4.0))
            knobs.step2_coupling = float(np.clip(knobs.step2_coupling * slope, 0.05, 0.9))
        elif not math.isnan(got["mean_step2ck_matched_usmd"]):
            knobs.step2_shift += targets.mean_step2ck_matched_usmd - got["mean_step2ck_matched_usmd"]
        # Too few positions to US MD seniors: programs hold the other degrees against applicants more.
        share_gap = _logit(md_filled / max(targets.fill_rate, 0.01)) - _logit(
            got["usmd_share"] / max(got["fill_rate"], 0.01)
        )
        knobs.non_md_weight = float(np.clip(knobs.non_md_weight + 2.0 * share_gap, 0.0, 10.0))
        if targets.img is not None and targets.img.applicants >= MIN_IMG_APPLICANTS:
            img_gap = _logit(targets.img.p_match) - _logit(got["img_match_rate"])
            knobs.img_weight = float(np.clip(knobs.img_weight + 0.6 * img_gap, -4.0, 4.0))
            if targets.img_halves is not None:
                slope_gap = _half_gap(targets.img_halves[0].p_match, targets.img_halves[1].p_match) - _half_gap(
                    got["img_match_rate_lower_half"], got["img_match_rate_upper_half"]
                )
                knobs.img_step2_share = float(np.clip(knobs.img_step2_share + 0.6 * slope_gap, 0.0, 1.5))
        fill_ratio = targets.fill_rate / max(got["fill_rate"], 0.01)
        knobs.other_per_position = float(np.clip(knobs.other_per_position * fill_ratio**2, 0.02, 6.0))
        if targets.signal_rates is not None:
            top, second, none = targets.signal_rates
            base = _logit(got["interview_rate_no_signal"]) - _logit(none)
            if not math.isnan(got["interview_rate_top_signal"]):
                gap = _logit(top) - _logit(got["interview_rate_top_signal"]) + base
                knobs.top_signal_weight = float(np.clip(knobs.top_signal_weight + 0.6 * gap, 0.0, 6.0))
            if not math.isnan(second) and not math.isnan(got["interview_rate_second_signal"]):
                gap = _logit(second) - _logit(got["interview_rate_second_signal"]) + base
                knobs.second_signal_weight = float(np.clip(knobs.second_signal_weight + 0.6 * gap, 0.0, 6.0))
        outcome = simulate_market(programs, targets, knobs, (seed, specialty_index), believed)
        believed = believed.blended(outcome.bars, BELIEF_UPDATE)
    outcome.achieved["knobs"] = dict(vars(knobs))
    return outcome
