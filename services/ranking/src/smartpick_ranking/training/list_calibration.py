"""The admission stage calibrated on the lists the product shows, not only on the lists simulated applicants
made for themselves.

A student is shown the chance of the list the optimizer picks for its high estimates, and such a list
carries the estimates' errors with it (`replay`: played in the simulated Match, the product's lists for
weak applicants in General Surgery or Diagnostic Radiology matched 15-34 points less often than shown).
So after the usual fit, simulated applicants that neither training nor any check saw are given the
product's list and signal plan, each list is played in its specialty's simulated Match, and the admission
Platt is refitted to both: the applicants' own lists with whether they matched, and the product's lists
with the share of plays in which they matched. The loading stays as the own lists set it."""

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize

from smartpick_ranking.domain.catalog import SpecialtyStats
from smartpick_ranking.domain.chances import LatentFactor
from smartpick_ranking.domain.cost import FeeSchedule
from smartpick_ranking.domain.features import build_features
from smartpick_ranking.domain.optimize import SECOND, TOP
from smartpick_ranking.domain.recommend import recommend_many
from smartpick_ranking.training.dataset import Dataset
from smartpick_ranking.training.market import SpecialtyOutcome
from smartpick_ranking.training.model import Platt, TrainedModel, cohorts_of, list_loglik
from smartpick_ranking.training.replay import replayed_chance
from smartpick_ranking.training.targets import SpecialtyTargets

LIST_TRIALS = 300  # plays per list: the soft label's sampling error is under 3 points


@dataclass(frozen=True)
class ReplayedLists:
    """The product's lists: their feature rows (as planned, signals included), where each list starts, and
    the share of plays in which each matched."""

    features: np.ndarray
    starts: np.ndarray
    replayed: np.ndarray

    def summary(self) -> dict:
        return {
            "lists": len(self.starts),
            "applications": len(self.features),
            "mean_replayed": float(self.replayed.mean()),
        }


def replayed_lists(
    outcomes: Mapping[str, SpecialtyOutcome],
    targets: Mapping[str, SpecialtyTargets],
    chosen: Mapping[str, np.ndarray],
    stats: Mapping[str, SpecialtyStats],
    model: TrainedModel,
    fees: FeeSchedule,
    seed: int,
) -> ReplayedLists:
    """The product's list for each chosen simulated applicant (their own signals set aside: the plan
    places them), scored by `model`, played LIST_TRIALS times in the applicant's specialty's Match."""
    factor = LatentFactor.of(model.latent_loading)

    def predict(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        interview, admission = model.predict_native(features)
        return interview.astype(np.float32), admission.astype(np.float32)

    rng = np.random.default_rng([seed, 3])
    blocks, replayed = [], []
    for specialty in sorted(chosen):
        outcome = outcomes[specialty]
        index = {program.program_id: j for j, program in enumerate(outcome.programs)}
        applicants = [
            replace(outcome.applicants[i], gold_signal_program_ids=frozenset(), signaled_program_ids=frozenset())
            for i in chosen[specialty]
        ]
        results = recommend_many([(a, {specialty: outcome.programs}) for a in applicants], stats, predict, factor, fees)
        for applicant, result in zip(applicants, results, strict=True):
            listed = [s.program for s in result.application_list]
            if not listed:
                continue
            signals = [s.signal for s in result.application_list]
            planned = {
                k: frozenset(s.program.program_id for s in result.application_list if s.signal == k)
                for k in (TOP, SECOND)
            }
            as_planned = replace(applicant, gold_signal_program_ids=planned[TOP], signaled_program_ids=planned[SECOND])
            blocks.append(build_features(as_planned, listed, stats))
            at = [index[p.program_id] for p in listed]
            replayed.append(replayed_chance(outcome, targets[specialty], applicant, at, signals, rng, LIST_TRIALS))
    starts = np.cumsum([0, *(len(b) for b in blocks[:-1])])
    return ReplayedLists(np.concatenate(blocks), starts, np.array(replayed))


@dataclass(frozen=True)
class ScoredLists:
    """Lists as the fit reads them: each application's P(interview), admission margin and cohort columns,
    and where each list starts."""

    interview: np.ndarray
    margin: np.ndarray
    cohorts: np.ndarray
    starts: np.ndarray


def fit_on_both(
    start: Platt, loading: float, own: ScoredLists, matched: np.ndarray, listed: ScoredLists, replayed: np.ndarray
) -> Platt:
    """The admission Platt (slope, intercept, cohort shifts) that makes both most likely: the own lists with
    whether each matched, and the product's lists with the share of plays in which each matched."""
    shifted = len(start.cohort_shifts)

    def platt_of(x: np.ndarray) -> Platt:
        return Platt(float(np.exp(x[0])), float(x[1]), tuple(float(v) for v in x[2:]) if shifted else ())

    def negative(x: np.ndarray) -> float:
        platt = platt_of(x)
        mine = list_loglik(own.interview * platt.of_cohorts(own.margin, own.cohorts), (own.starts, matched), loading)
        chosen = list_loglik(
            listed.interview * platt.of_cohorts(listed.margin, listed.cohorts), (listed.starts, replayed), loading
        )
        return -(mine + chosen)

    fitted = minimize(
        negative,
        np.array([np.log(start.slope), start.intercept, *start.cohort_shifts]),
        method="Nelder-Mead",
        options={"xatol": 1e-3, "fatol": 1e-2, "maxiter": 300 * (1 + shifted)},
    )
    return platt_of(fitted.x)


def refit_on_product_lists(model: TrainedModel, calibration_set: Dataset, lists: ReplayedLists) -> TrainedModel:
    """The model with its admission Platt refitted (`fit_on_both`) to the own lists of the calibration split
    and the product's replayed lists, from where the own lists left it; the loading stays."""

    def scored(features: np.ndarray, starts: np.ndarray) -> ScoredLists:
        interview = model.interview_platt(model.interview.predict(features, raw_score=True))
        margin = model.admit_given_interview.predict(features, raw_score=True)
        return ScoredLists(interview, margin, cohorts_of(features), starts)

    starts, matched = calibration_set.applicants()
    platt = fit_on_both(
        model.admit_platt,
        model.latent_loading,
        scored(calibration_set.features, starts),
        matched,
        scored(lists.features, lists.starts),
        lists.replayed,
    )
    return replace(model, admit_platt=platt)
