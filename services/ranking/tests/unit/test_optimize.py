import itertools

import numpy as np
import pytest

from smartpick_ranking.domain.optimize import optimal_portfolio, portfolio_value


def brute_force(p, v, budget):
    best = 0.0
    for size in range(1, budget + 1):
        for subset in itertools.combinations(range(len(p)), size):
            best = max(best, portfolio_value(p, v, list(subset)))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_marginal_improvement_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 9))
    p = rng.uniform(0, 0.9, n)
    v = rng.choice([1.0, 0.8, 0.5, 0.3], n) if seed % 2 else rng.uniform(0.1, 1, n)
    budget = int(rng.integers(1, n + 1))
    portfolio = optimal_portfolio(p, v, budget)
    assert len(portfolio.order) <= budget
    assert portfolio.value == pytest.approx(brute_force(p, v, budget), abs=1e-12)


def test_equal_values_maximize_the_chance_of_at_least_one_match():
    p = np.array([0.1, 0.4, 0.05, 0.3, 0.2])
    portfolio = optimal_portfolio(p, np.ones(5), budget=3)
    assert portfolio.order == [1, 3, 4]
    assert portfolio.match_probability == pytest.approx(1 - 0.6 * 0.7 * 0.8)


def test_curve_rises_and_flattens():
    p = np.array([0.3, 0.2, 0.01, 0.001])
    portfolio = optimal_portfolio(p, np.ones(4), budget=4)
    assert portfolio.curve == sorted(portfolio.curve)
    assert portfolio.plateau == 3


def test_programs_with_no_chance_are_not_added():
    portfolio = optimal_portfolio(np.array([0.0, 0.5, 0.0]), np.ones(3), budget=3)
    assert portfolio.order == [1]


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        optimal_portfolio(np.array([1.5]), np.ones(1), 1)
    with pytest.raises(ValueError):
        optimal_portfolio(np.array([0.5, 0.2]), np.ones(3), 1)
