"""Applicants who plan: their estimated chances, their beliefs about the programs' lines, and where they apply."""

import numpy as np
import pytest

from smartpick_ranking.data import BAND_RATES_FILE, load_programs, load_specialty_stats, read_rows
from smartpick_ranking.training.market import OPEN_LINE, Knobs, ProgramBars, _planned_chances, simulate_market
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
