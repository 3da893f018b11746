"""The admission stage refitted to the product's own lists as well as the applicants' own."""

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

from smartpick_ranking.domain.chances import LatentFactor
from smartpick_ranking.training.list_calibration import ScoredLists, fit_on_both
from smartpick_ranking.training.model import Platt

LOADING = 0.7


def _lists(rng, applicants, per_list, margin_mean, true: Platt):
    """Lists whose admissions follow `true` with a shared factor: (scored lists, whether each matched)."""
    margin = rng.normal(margin_mean, 0.8, applicants * per_list)
    p = true(margin)
    z = np.repeat(rng.normal(size=applicants), per_list)
    admitted = rng.random(len(margin)) < ndtr(ndtri(p) * np.sqrt(1 + LOADING**2) + LOADING * z)
    starts = np.arange(0, len(margin), per_list)
    scored = ScoredLists(np.ones(len(margin)), margin, np.zeros((len(margin), 2)), starts)
    return scored, np.logical_or.reduceat(admitted, starts)


def _chance(platt: Platt, lists: ScoredLists) -> np.ndarray:
    factor = LatentFactor.of(LOADING)
    log_none = np.log1p(-factor.conditional(platt(lists.margin)))
    return 1 - np.exp(np.add.reduceat(log_none, lists.starts, axis=0)) @ factor.weights


def test_product_lists_the_model_over_rates_pull_the_admission_stage_down_and_agreeing_ones_leave_it():
    """Own lists calibrated at the start; product lists (higher margins, as an optimizer picks) whose true
    admission logit is 1.0 lower: the refit brings the product lists' chance toward what they achieved (here
    by flattening the slope, as the two kinds of list sit at different margins) and keeps the own lists'
    near their outcomes. Product lists that achieve what the model says leave the Platt where it was."""
    rng = np.random.default_rng(5)
    start = Platt(1.0, 0.0)
    own, matched = _lists(rng, 3000, 10, -3.0, start)
    over_rated, achieved = _lists(rng, 1500, 10, -1.5, Platt(1.0, -1.0))
    refit = fit_on_both(start, LOADING, own, matched, over_rated, achieved.astype(float))
    assert refit(np.array([-1.5]))[0] < start(np.array([-1.5]))[0]
    before = abs(_chance(start, over_rated).mean() - achieved.mean())
    after = abs(_chance(refit, over_rated).mean() - achieved.mean())
    assert after < before / 2
    assert abs(_chance(refit, own).mean() - matched.mean()) < 0.03
    honest, achieved = _lists(rng, 1500, 10, -1.5, start)
    kept = fit_on_both(start, LOADING, own, matched, honest, achieved.astype(float))
    assert kept.intercept == pytest.approx(0.0, abs=0.15) and kept.slope == pytest.approx(1.0, abs=0.15)
