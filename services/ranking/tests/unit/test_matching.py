import itertools

import numpy as np
import pytest

from smartpick_ranking.training.matching import deferred_acceptance


def blocking_pairs(preferences, scores, capacities, assignment):
    """Pairs (a, p) who both prefer each other to what they got: none in a stable matching."""
    held = {p: [a for a, q in enumerate(assignment) if q == p] for p in range(len(capacities))}
    pairs = []
    for a, prefs in enumerate(preferences):
        for p in prefs:
            if assignment[a] == p:
                break
            if a not in scores[p]:
                continue
            full = len(held[p]) >= capacities[p]
            if not full or any(scores[p][a] > scores[p][other] for other in held[p]):
                pairs.append((a, p))
    return pairs


def random_market(rng, applicants, programs):
    preferences = [list(rng.permutation(programs)[: rng.integers(1, programs + 1)]) for _ in range(applicants)]
    scores = [{a: float(rng.random()) for a in range(applicants) if rng.random() < 0.8} for _ in range(programs)]
    capacities = [int(rng.integers(1, 3)) for _ in range(programs)]
    return preferences, scores, capacities


def test_a_known_market():
    preferences = [[0, 1], [0, 1], [0]]
    scores = [{0: 1.0, 1: 3.0, 2: 2.0}, {0: 1.0, 1: 1.0}]
    assert deferred_acceptance(preferences, scores, [1, 1]) == [1, 0, None]


@pytest.mark.parametrize("seed", range(30))
def test_result_is_stable_and_respects_capacities(seed):
    rng = np.random.default_rng(seed)
    preferences, scores, capacities = random_market(rng, 12, 5)
    assignment = deferred_acceptance(preferences, scores, capacities)
    for p, capacity in enumerate(capacities):
        assert sum(q == p for q in assignment) <= capacity
    for a, p in enumerate(assignment):
        assert p is None or (p in preferences[a] and a in scores[p])
    assert blocking_pairs(preferences, scores, capacities, assignment) == []


@pytest.mark.parametrize("seed", range(20))
def test_applicant_optimal_against_brute_force(seed):
    """Every applicant does at least as well as in any stable matching found by enumeration."""
    rng = np.random.default_rng(100 + seed)
    preferences, scores, capacities = random_market(rng, 4, 3)
    assignment = deferred_acceptance(preferences, scores, capacities)

    def rank(a, p):
        return len(preferences[a]) if p is None else preferences[a].index(p)

    options = [[None, *[p for p in prefs if a in scores[p]]] for a, prefs in enumerate(preferences)]
    for candidate in itertools.product(*options):
        if any(sum(q == p for q in candidate) > c for p, c in enumerate(capacities)):
            continue
        if blocking_pairs(preferences, scores, capacities, list(candidate)):
            continue
        assert all(rank(a, assignment[a]) <= rank(a, candidate[a]) for a in range(len(preferences)))
