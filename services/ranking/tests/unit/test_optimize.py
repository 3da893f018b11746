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


def scan_every_candidate(p, v, budget):
    """The marginal improvement algorithm as stated: every step scores every remaining candidate."""
    order, chosen_sorted, available = [], [], np.ones(p.size, dtype=bool)
    for _ in range(min(budget, p.size)):
        cp, cv = p[chosen_sorted], v[chosen_sorted]
        q = np.concatenate(([1.0], np.cumprod(1 - cp)))
        b = np.concatenate((np.cumsum((cv * cp * q[:-1])[::-1])[::-1], [0.0]))
        k = np.searchsorted(-cv, -v, side="right") if chosen_sorted else np.zeros(p.size, dtype=int)
        gain = np.where(available, p * (v * q[k] - b[k]), -np.inf)
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        available[best] = False
        order.append(best)
        chosen_sorted.insert(int(k[best]), best)
    return order


@pytest.mark.parametrize("seed", range(30))
def test_the_order_is_the_one_scanning_every_candidate_gives_ties_included(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    # Coarse probabilities make ties common; the values are few levels, as the product's, or all distinct.
    p = rng.integers(0, 20, n) / 20 * 0.9
    v = rng.choice([1.0, 0.85, 0.6, 0.51, 0.3], n) if seed % 3 else rng.uniform(0, 1, n)
    budget = int(rng.integers(1, 60))
    assert optimal_portfolio(p, v, budget).order == scan_every_candidate(p, v, budget)


def test_no_candidates_give_an_empty_portfolio():
    portfolio = optimal_portfolio(np.array([]), np.array([]), budget=10)
    assert portfolio.order == [] and portfolio.match_probability == 0.0
