"""The latent applicant factor: it keeps each program's own chance, and makes lists less safe than
independence would say."""

import numpy as np
import pytest

from smartpick_ranking.domain.chances import LatentFactor


@pytest.mark.parametrize("loading", [0.0, 0.5, 1.2])
def test_averaging_over_the_factor_gives_back_each_program_chance(loading):
    factor = LatentFactor.of(loading, nodes=40)
    p = np.array([0.001, 0.05, 0.3, 0.7, 0.99])
    assert factor.conditional(p) @ factor.weights == pytest.approx(p, abs=1e-6)


def test_without_loading_the_list_chance_is_independent():
    p = np.array([0.2, 0.3, 0.1])
    assert LatentFactor.of(0.0).at_least_one(p) == pytest.approx(1 - 0.8 * 0.7 * 0.9)


def test_a_larger_loading_lowers_the_list_chance_and_widens_the_interval():
    p = np.full(20, 0.15)
    chances = [LatentFactor.of(b).at_least_one(p) for b in (0.0, 0.5, 1.0, 2.0)]
    assert chances == sorted(chances, reverse=True)
    narrow, wide = LatentFactor.of(0.3).list_interval(p), LatentFactor.of(1.5).list_interval(p)
    assert narrow[0] <= LatentFactor.of(0.3).at_least_one(p) <= narrow[1]
    assert wide[1] - wide[0] > narrow[1] - narrow[0]


def test_the_curve_ends_at_the_list_chance():
    factor = LatentFactor.of(0.7)
    p = np.array([0.4, 0.2, 0.1, 0.05])
    curve = factor.curve(p)
    assert np.all(np.diff(curve) >= 0)
    assert curve[-1] == pytest.approx(factor.at_least_one(p))


def test_a_bad_loading_is_refused():
    with pytest.raises(ValueError):
        LatentFactor.of(-1.0)
