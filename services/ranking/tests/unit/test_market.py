"""Applicants who plan: their estimated chances, their beliefs about the programs' lines, and where they apply."""

from dataclasses import replace

import numpy as np
import pytest

from smartpick_ranking.data import BAND_RATES_FILE, load_programs, load_specialty_stats, read_rows
from smartpick_ranking.training.market import OPEN_LINE, Knobs, ProgramBars, _planned_chances, simulate_market
from smartpick_ranking.training.program_view import Cohort, DrawnPrograms, program_view
from smartpick_ranking.training.targets import parse_band_rates, resolve_targets

KNOBS = Knobs(
    md_per_position=1.0,
    other_per_position=0.8,
    non_md_weight=1.0,
    step2_weight=1.0,
    step2_coupling=0.6,
    top_signal_weight=3.0,
    second_signal_weight=1.5,
    step2_shift=240.0,
)


def test_an_estimated_chance_rises_with_strength_and_with_a_signal_and_is_near_one_where_lines_are_open():
    bars = ProgramBars(interview=np.array([1.0, -np.inf]), admission=np.array([0.5, -np.inf]))
    visible = np.array([[-1.0, -1.0], [0.0, 0.0], [1.0, 1.0]])
    none, top, second = _planned_chances(visible, KNOBS, bars)
    assert np.all(np.diff(none[:, 0]) > 0)  # stronger, likelier
    assert np.all(top[:, 0] > second[:, 0]) and np.all(second[:, 0] > none[:, 0])
    assert np.all(none[:, 1] > 0.99)  # it interviewed everyone and did not fill


def test_beliefs_move_part_way_toward_the_last_pass_and_an_open_line_counts_as_far_below():
    old = ProgramBars(interview=np.array([0.0, -np.inf]), admission=np.array([2.0, 1.0]))
    new = ProgramBars(interview=np.array([2.0, 0.0]), admission=np.array([2.0, -np.inf]))
    mixed = old.blended(new, 0.5)
    assert mixed.interview.tolist() == [1.0, (OPEN_LINE + 0.0) / 2]
    assert mixed.admission.tolist() == [2.0, (1.0 + OPEN_LINE) / 2]


@pytest.fixture(scope="module")
def dermatology():
    programs, stats = load_programs(), load_specialty_stats()
    targets = resolve_targets(programs, stats, parse_band_rates(read_rows(BAND_RATES_FILE)))
    return [p for p in programs if p.specialty == "Dermatology"], targets["Dermatology"]


def test_applicants_who_plan_send_fewer_applications_where_their_chance_is_slim(dermatology):
    """With the programs' lines known, the weakest US MD applicants move applications from the programs that
    drew their interview line highest; without them, applicants only follow a program's draw."""
    programs, targets = dermatology
    naive = simulate_market(programs, targets, KNOBS, (1, 0))
    planned = simulate_market(programs, targets, KNOBS, (1, 0), naive.bars)

    def mean_line_applied_to_by_the_weakest(outcome):
        scores = np.array([a.step2_ck_score or 0 for a in outcome.applicants])
        md = np.array([a.degree == "MD" for a in outcome.applicants])
        weakest = md & (scores <= np.quantile(scores[md], 0.25))
        lines = np.maximum(naive.bars.interview, OPEN_LINE)
        return lines[outcome.pair_program[weakest[outcome.pair_applicant]]].mean()

    assert mean_line_applied_to_by_the_weakest(planned) < mean_line_applied_to_by_the_weakest(naive) - 0.1


def test_a_programs_view_gives_an_img_the_fitted_share_of_the_step2_weight_and_a_us_md_all_of_it(dermatology):
    programs, targets = dermatology
    drawn = DrawnPrograms.draw(np.random.default_rng(0), programs[:5], targets)
    two = np.ones(2, dtype=bool)

    def cohort(degree: int) -> Cohort:
        return Cohort(
            np.full(2, degree), np.array([230.0, 260.0]), two, np.full(2, 500.0), np.zeros(2), ~two, np.full(2, 3),
            ~two, np.zeros(2), np.array(["", ""]), np.array(["none", "none"]),
        )  # fmt: skip

    def rise(degree: int, share: float) -> np.ndarray:
        visible = program_view(cohort(degree), drawn, replace(KNOBS, img_step2_share=share), targets)
        return visible[1] - visible[0]

    assert np.allclose(rise(2, 0.0), 0.0)
    assert np.allclose(rise(2, 0.5), 0.5 * rise(2, 1.0)) and np.all(rise(2, 1.0) > 0)
    assert np.allclose(rise(0, 0.0), rise(0, 1.0)) and np.allclose(rise(0, 1.0), 30 / 13)


def test_no_program_scores_a_do_or_an_img_above_a_us_md_of_the_same_record_however_many_it_has(dermatology):
    """The degree's penalty shrinks where a program's residents are mostly of that degree, but never turns into a
    preference: a program of 90% IMGs and 60% DOs gives both what a US MD senior gets, no more."""
    _, targets = dermatology
    one = np.ones(1)
    drawn = DrawnPrograms(
        np.array(["NY"]), one.astype(int), np.array(["community"]), one > 0, one > 0, one * 0.9, one * 0.6, one
    )
    three = np.ones(3, dtype=bool)
    cohort = Cohort(
        np.array([0, 1, 2]), np.full(3, 250.0), three, np.full(3, 580.0), np.zeros(3), ~three, np.full(3, 3),
        ~three, np.zeros(3), np.array(["", "", ""]), np.array(["none"] * 3),
    )  # fmt: skip
    visible = program_view(cohort, drawn, replace(KNOBS, non_md_weight=5.0), targets)[:, 0]
    assert visible[1] <= visible[0] and visible[2] <= visible[0]
