"""The list and signal plan against a brute force over every list and every placement of the signals."""

import itertools

import numpy as np
import pytest

from smartpick_ranking.domain.chances import LatentFactor
from smartpick_ranking.domain.optimize import NONE, SECOND, TOP, optimal_portfolio, plan, portfolio_value

INDEPENDENT = LatentFactor.of(0.0)
CORRELATED = LatentFactor.of(0.8)


def brute_force(chances, v, budget, factor, tops=0, seconds=0):
    """The best objective over every list of at most `budget` programs and every signal placement."""
    best = 0.0
    n = len(v)
    for size in range(1, budget + 1):
        for subset in itertools.combinations(range(n), size):
            for levels in itertools.product((NONE, TOP, SECOND), repeat=size):
                if levels.count(TOP) > tops or levels.count(SECOND) > seconds:
                    continue
                p = np.zeros(n)
                p[list(subset)] = chances[list(subset), list(levels)]
                best = max(best, portfolio_value(p, v, list(subset), factor))
    return best


@pytest.mark.parametrize("seed", range(30))
def test_without_signals_and_independent_chances_the_greedy_is_optimal(seed):
    """Chade and Smith: marginal improvement is exact for independent chances."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 8))
    p = rng.uniform(0, 0.9, n)
    v = rng.choice([1.0, 0.8, 0.5, 0.3], n) if seed % 2 else rng.uniform(0.1, 1, n)
    budget = int(rng.integers(1, n + 1))
    portfolio = optimal_portfolio(p, v, budget, INDEPENDENT)
    assert len(portfolio.order) <= budget
    assert portfolio.value == pytest.approx(brute_force(np.column_stack((p, p, p)), v, budget, INDEPENDENT), abs=1e-9)


@pytest.mark.parametrize("seed", range(40))
def test_correlated_chances_and_signals_stay_within_half_a_percent_of_the_brute_force(seed):
    """With a shared applicant factor and signals the greedy is no longer exact; on random small cases it
    reaches at least 99.5% of the best objective (the worst seen is printed by -s)."""
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(3, 7))
    base = rng.uniform(0.01, 0.6, n)
    top = np.minimum(1, base * rng.uniform(1.5, 5, n))
    second = base + (top - base) * rng.uniform(0.2, 0.7, n)
    chances = np.column_stack((base, top, second))
    v = rng.choice([1.0, 0.6], n) if seed % 2 else np.ones(n)
    budget = int(rng.integers(1, n + 1))
    tops, seconds = int(rng.integers(0, 2)), int(rng.integers(0, 3))
    portfolio = plan(chances, v, budget, CORRELATED, tops, seconds)
    assert len(portfolio.order) <= budget
    assert portfolio.signals.count(TOP) <= tops and portfolio.signals.count(SECOND) <= seconds
    best = brute_force(chances, v, budget, CORRELATED, tops, seconds)
    assert portfolio.value >= 0.995 * best
    print(f"seed {seed}: greedy {portfolio.value:.5f} of best {best:.5f}")


def test_equal_values_maximize_the_chance_of_at_least_one_match():
    p = np.array([0.1, 0.4, 0.05, 0.3, 0.2])
    portfolio = optimal_portfolio(p, np.ones(5), 3, INDEPENDENT)
    assert portfolio.order == [1, 3, 4]
    assert portfolio.match_probability == pytest.approx(1 - 0.6 * 0.7 * 0.8)


def test_correlation_lowers_the_chance_of_a_long_list():
    p = np.full(30, 0.1)
    independent = optimal_portfolio(p, np.ones(30), 30, INDEPENDENT).match_probability
    correlated = optimal_portfolio(p, np.ones(30), 30, CORRELATED).match_probability
    assert independent == pytest.approx(1 - 0.9**30)
    assert correlated < independent - 0.05


def test_a_signal_goes_where_it_lifts_the_chance_most():
    chances = np.array([[0.30, 0.35, 0.32], [0.05, 0.40, 0.20], [0.20, 0.22, 0.21]])
    portfolio = plan(chances, np.ones(3), 3, INDEPENDENT, top_signals=1)
    assert portfolio.signals[portfolio.order.index(1)] == TOP
    assert portfolio.signals.count(TOP) == 1


def test_curve_rises_and_flattens():
    p = np.array([0.3, 0.2, 0.01, 0.001])
    portfolio = optimal_portfolio(p, np.ones(4), 4, INDEPENDENT)
    assert portfolio.curve == sorted(portfolio.curve)
    assert portfolio.plateau == 3


@pytest.mark.parametrize("seed", range(10))
def test_value_and_curve_are_those_of_the_list_exactly(seed):
    """`plan` works them out from the p(z) it already has; they must match the public functions to the bit."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    base = rng.uniform(0, 0.5, n)
    chances = np.column_stack((base, np.minimum(1, base * 2), np.minimum(1, base * 1.5)))
    v = rng.choice([1.0, 0.8, 0.5], n)
    portfolio = plan(chances, v, int(rng.integers(1, n + 1)), CORRELATED, int(rng.integers(0, 4)), seed % 3)
    final = chances[portfolio.order, portfolio.signals]
    order = list(range(len(final)))
    assert portfolio.value == portfolio_value(final, v[portfolio.order], order, CORRELATED)
    assert portfolio.curve == CORRELATED.curve(final).tolist()


def test_programs_with_no_chance_are_not_added():
    portfolio = optimal_portfolio(np.array([0.0, 0.5, 0.0]), np.ones(3), 3, INDEPENDENT)
    assert portfolio.order == [1]


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        optimal_portfolio(np.array([1.5]), np.ones(1), 1, INDEPENDENT)
    with pytest.raises(ValueError):
        plan(np.ones((2, 2)), np.ones(2), 1, INDEPENDENT)
