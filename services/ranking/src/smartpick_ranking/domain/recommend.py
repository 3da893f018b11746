"""From one applicant to an explained, optimized application list.

Candidates are the catalog programs of the applicant's specialties that no hard rule excludes; all of
them are scored in one model call, and the list comes from the portfolio optimization in `optimize`.
Then the programs on the list are scored again under each counterfactual (the same applicant with one
input set to what is typical of a matched applicant in that specialty), in a second call: the
difference between the two estimates is the reason's effect. Explaining only the chosen programs keeps
the second call small (the list is at most the budget)."""

import dataclasses
import itertools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.domain.features import FEATURE_NAMES, build_features, hard_exclusion
from smartpick_ranking.domain.optimize import optimal_portfolio
from smartpick_ranking.domain.tiers import Tier, tier

DISCLAIMER = (
    "These probabilities are estimates from a model trained on a cohort simulated from public, aggregate "
    "Match figures (NRMP and others). They are not predictions of your individual outcome: NRMP states "
    "that Charting Outcomes is not designed to predict success or failure in the Match."
)
# Portfolio values that encode preferences: the first listed specialty is worth 1, each later one
# SPECIALTY_DECAY less; programs outside preferred states (when any are given) are worth OUT_OF_STATE_VALUE.
SPECIALTY_DECAY = 0.85
OUT_OF_STATE_VALUE = 0.6
REASONS_PER_PROGRAM = 3
MIN_REASON_EFFECT = 0.001

Predict = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Reason:
    feature: str
    text: str
    effect: float


@dataclass(frozen=True)
class ScoredProgram:
    program: Program
    interview_probability: float
    match_probability: float
    tier: Tier
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Recommendation:
    application_list: list[ScoredProgram]
    list_match_probability: float
    curve: list[float]
    plateau: int
    excluded: dict[str, int]


@dataclass(frozen=True)
class Counterfactual:
    """One input set to its typical value; `typical` returns None where there is nothing to compare."""

    feature: str
    typical: Callable[[Applicant, SpecialtyStats | None], Applicant | None]
    describe: Callable[[Applicant, SpecialtyStats | None], str]


def _typical_step2(a: Applicant, s: SpecialtyStats | None) -> Applicant | None:
    if a.step2_ck_score is None or s is None or s.mean_step2ck_matched_usmd is None:
        return None
    return dataclasses.replace(a, step2_ck_score=round(s.mean_step2ck_matched_usmd))


def _typical_research(a: Applicant, s: SpecialtyStats | None) -> Applicant | None:
    if s is None or s.mean_research_items_matched is None:
        return None
    return dataclasses.replace(a, research_items=round(s.mean_research_items_matched))


def _if(
    condition: Callable[[Applicant], bool], **typical
) -> Callable[[Applicant, SpecialtyStats | None], Applicant | None]:
    return lambda a, _s: dataclasses.replace(a, **typical) if condition(a) else None


COUNTERFACTUALS = (
    Counterfactual(
        "step2_ck_score",
        _typical_step2,
        lambda a, s: (
            f"Step 2 CK {a.step2_ck_score} against {s.mean_step2ck_matched_usmd:.0f}, the mean of matched US MD seniors"
        ),
    ),
    Counterfactual(
        "research_items",
        _typical_research,
        lambda a, s: f"{a.research_items} research items against {s.mean_research_items_matched:.1f}, the matched mean",
    ),
    Counterfactual("aoa_member", _if(lambda a: a.aoa_member, aoa_member=False), lambda a, s: "AOA membership"),
    Counterfactual(
        "away_rotations",
        _if(lambda a: a.away_rotations > 0 or a.has_home_program, away_rotations=0, has_home_program=False),
        lambda a, s: "away rotations and a home program in the specialty",
    ),
    Counterfactual(
        "degree",
        _if(lambda a: a.degree != "MD", degree="MD"),
        lambda a, s: f"applying as a {a.degree} rather than a US MD graduate",
    ),
    Counterfactual(
        "visa_need",
        _if(lambda a: bool(a.needs_visa), visa_need="none"),
        lambda a, s: f"needing {a.visa_need} visa sponsorship",
    ),
)
SIGNAL_REASON = "signaled_program"


def candidates(
    applicant: Applicant, programs_by_specialty: Mapping[str, Sequence[Program]]
) -> tuple[list[Program], dict[str, int]]:
    """Programs of the applicant's specialties, and how many each hard rule left out."""
    kept, excluded = [], Counter()
    for specialty in dict.fromkeys(applicant.specialties):
        for program in programs_by_specialty.get(specialty, ()):
            reason = hard_exclusion(applicant, program)
            if reason is None:
                kept.append(program)
            else:
                excluded[reason] += 1
    return kept, dict(excluded)


def preference_values(applicant: Applicant, programs: Sequence[Program]) -> np.ndarray:
    rank = {s: i for i, s in enumerate(dict.fromkeys(applicant.specialties))}
    values = np.array([SPECIALTY_DECAY ** rank[p.specialty] for p in programs])
    if applicant.preferred_states:
        values *= np.array([1.0 if p.state in applicant.preferred_states else OUT_OF_STATE_VALUE for p in programs])
    return values


def counterfactual_rows(
    applicant: Applicant, programs: Sequence[Program], stats: Mapping[str, SpecialtyStats]
) -> tuple[np.ndarray, list[tuple[str, str, np.ndarray]]]:
    """Rows of the programs under each applicable counterfactual, and per counterfactual its feature,
    its text, and for each program the row that scores it (-1 where it does not apply)."""
    blocks: list[np.ndarray] = []
    explained: list[tuple[str, str, np.ndarray]] = []
    offset = 0
    by_specialty: dict[str, list[int]] = {}
    for i, program in enumerate(programs):
        by_specialty.setdefault(program.specialty, []).append(i)

    def add(feature: str, text: str, typical: Applicant, indices: list[int]) -> None:
        nonlocal offset
        blocks.append(build_features(typical, [programs[i] for i in indices], stats))
        rows = np.full(len(programs), -1)
        rows[indices] = np.arange(offset, offset + len(indices))
        explained.append((feature, text, rows))
        offset += len(indices)

    for specialty, indices in by_specialty.items():
        specialty_stats = stats.get(specialty)
        for counterfactual in COUNTERFACTUALS:
            typical = counterfactual.typical(applicant, specialty_stats)
            if typical is not None:
                add(counterfactual.feature, counterfactual.describe(applicant, specialty_stats), typical, indices)
        signaled = [i for i in indices if programs[i].program_id in applicant.signaled_program_ids]
        if signaled:
            unsignaled = dataclasses.replace(applicant, signaled_program_ids=frozenset())
            add(SIGNAL_REASON, "your preference signal to this program", unsignaled, signaled)
    if not blocks:
        return np.empty((0, len(FEATURE_NAMES)), dtype=np.float32), []
    return np.concatenate(blocks), explained


def _reasons(
    actual: float, typical: np.ndarray, i: int, explained: list[tuple[str, str, np.ndarray]]
) -> tuple[Reason, ...]:
    found = [
        Reason(feature, text, float(actual - typical[rows[i]]))
        for feature, text, rows in explained
        if rows[i] >= 0 and abs(actual - typical[rows[i]]) >= MIN_REASON_EFFECT
    ]
    return tuple(sorted(found, key=lambda r: -abs(r.effect))[:REASONS_PER_PROGRAM])


def _predict_blocks(predict: Predict, blocks: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """One model call over several feature blocks; the answers split back per block."""
    sizes = [len(block) for block in blocks]
    if not any(sizes):
        return [(np.empty(0), np.empty(0)) for _ in blocks]
    interview, match = predict(np.concatenate([b for b in blocks if len(b)]))
    bounds = np.cumsum([0, *sizes])
    return [(interview[a:b], match[a:b]) for a, b in itertools.pairwise(bounds)]


def recommend_many(
    requests: Sequence[tuple[Applicant, Mapping[str, Sequence[Program]]]],
    stats: Mapping[str, SpecialtyStats],
    predict: Predict,
) -> list[Recommendation]:
    """The optimized, explained list for each (applicant, the catalog as their school sees it).

    Two model calls whatever the number of applicants: one over every candidate of every applicant,
    one over the counterfactuals of every listed program. `predict` maps features to
    (P(interview), P(match))."""
    found = [candidates(applicant, view) for applicant, view in requests]
    scores = _predict_blocks(
        predict, [build_features(a, programs, stats) for (a, _), (programs, _) in zip(requests, found, strict=True)]
    )
    portfolios, explanations = [], []
    for (applicant, _), (programs, _), (_, match) in zip(requests, found, scores, strict=True):
        portfolio = optimal_portfolio(match, preference_values(applicant, programs), applicant.application_budget)
        portfolios.append(portfolio)
        explanations.append(counterfactual_rows(applicant, [programs[i] for i in portfolio.order], stats))
    typicals = _predict_blocks(predict, [rows for rows, _ in explanations])
    results = []
    for (programs, excluded), (interview, match), portfolio, (_, explained), (_, typical) in zip(
        found, scores, portfolios, explanations, typicals, strict=True
    ):
        application_list = [
            ScoredProgram(
                programs[i],
                float(interview[i]),
                float(match[i]),
                tier(float(interview[i])),
                _reasons(float(match[i]), typical, position, explained),
            )
            for position, i in enumerate(portfolio.order)
        ]
        results.append(
            Recommendation(application_list, portfolio.match_probability, portfolio.curve, portfolio.plateau, excluded)
        )
    return results


def recommend(
    applicant: Applicant,
    programs_by_specialty: Mapping[str, Sequence[Program]],
    stats: Mapping[str, SpecialtyStats],
    predict: Predict,
) -> Recommendation:
    """The optimized, explained list for one applicant."""
    return recommend_many([(applicant, programs_by_specialty)], stats, predict)[0]
