"""A list played in the simulated Match by its own rules: the replay reproduces the Match it replays."""

from dataclasses import replace

import numpy as np
import pytest

from smartpick_ranking.data import BAND_RATES_FILE, load_programs, load_specialty_stats, read_rows
from smartpick_ranking.domain.optimize import NONE, SECOND, TOP
from smartpick_ranking.training.replay import replayed_chance
from smartpick_ranking.training.simulation import simulate_specialty
from smartpick_ranking.training.targets import parse_band_rates, resolve_targets


@pytest.fixture(scope="module")
def match():
    programs, stats = load_programs(), load_specialty_stats()
    targets = resolve_targets(programs, stats, parse_band_rates(read_rows(BAND_RATES_FILE)))["Dermatology"]
    dermatology = [p for p in programs if p.specialty == "Dermatology"]
    return simulate_specialty(dermatology, targets, 3, 0), targets  # the calibrated Match, as training runs it


def _own_list(outcome, i):
    applicant = outcome.applicants[i]
    listed = outcome.pair_program[outcome.pair_applicant == i].tolist()
    ids = [outcome.programs[j].program_id for j in listed]
    signals = [
        TOP if pid in applicant.gold_signal_program_ids else SECOND if pid in applicant.signaled_program_ids else NONE
        for pid in ids
    ]
    return listed, signals


def test_replaying_the_applicants_own_lists_gives_back_the_share_of_them_who_matched(match):
    """Each US MD applicant's own list and signals, played with fresh noise and latent strength, match about
    as often as the Match matched them (the replay keeps the lines fixed and leaves out the interview cap)."""
    outcome, targets = match
    rng = np.random.default_rng(0)
    md = [i for i, a in enumerate(outcome.applicants) if a.degree == "MD"]
    matched = np.zeros(len(outcome.applicants), dtype=bool)
    matched[outcome.pair_applicant[outcome.matched]] = True
    replayed = [replayed_chance(outcome, targets, outcome.applicants[i], *_own_list(outcome, i), rng, 200) for i in md]
    assert abs(np.mean(replayed) - matched[md].mean()) < 0.05
    weak = [k for k, i in enumerate(md) if outcome.applicants[i].step2_ck_score < 245]
    strong = [k for k, i in enumerate(md) if outcome.applicants[i].step2_ck_score >= 255]
    assert np.mean(np.array(replayed)[strong]) > np.mean(np.array(replayed)[weak]) + 0.1


def test_a_signal_an_empty_list_and_a_stronger_applicant_move_the_replayed_chance_as_they_should(match):
    outcome, targets = match
    i = next(i for i, a in enumerate(outcome.applicants) if a.degree == "MD" and 235 <= a.step2_ck_score <= 240)
    applicant = outcome.applicants[i]
    listed = list(range(20))

    def chance(who, signals):
        return replayed_chance(outcome, targets, who, listed, signals, np.random.default_rng(1))

    plain = chance(applicant, [NONE] * 20)
    assert chance(applicant, [TOP] * 3 + [NONE] * 17) > plain
    stronger = replace(applicant, step2_ck_score=applicant.step2_ck_score + 20)
    assert chance(stronger, [NONE] * 20) > plain
    assert replayed_chance(outcome, targets, applicant, [], [], np.random.default_rng(1)) == 0.0
