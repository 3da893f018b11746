"""From one applicant to an explained, optimized application list.

Candidates are the catalog programs of the applicant's specialties that no hard rule excludes. Every
candidate is scored, and so is every candidate under each counterfactual (the same applicant with one
input set to what is typical of a matched applicant in that specialty): all rows go to the model in
one call. The difference between the two estimates is the reason's effect. The list comes from the
portfolio optimization in `optimize`."""

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.domain.features import build_features, hard_exclusion
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


def feature_rows(
    applicant: Applicant, programs: Sequence[Program], stats: Mapping[str, SpecialtyStats]
) -> tuple[np.ndarray, list[tuple[str, str, np.ndarray]]]:
    """The candidates' rows, then one block per applicable counterfactual: (feature, text, row indices)."""
    blocks = [build_features(applicant, programs, stats)]
    explained: list[tuple[str, str, np.ndarray]] = []
    offset = len(programs)
    by_specialty: dict[str, list[int]] = {}
    for i, program in enumerate(programs):
        by_specialty.setdefault(program.specialty, []).append(i)
    for specialty, indices in by_specialty.items():
        specialty_stats = stats.get(specialty)
        group = [programs[i] for i in indices]
        for counterfactual in COUNTERFACTUALS:
            typical = counterfactual.typical(applicant, specialty_stats)
            if typical is None:
                continue
            blocks.append(build_features(typical, group, stats))
            rows = np.full(len(programs), -1)
            rows[indices] = np.arange(offset, offset + len(group))
            explained.append((counterfactual.feature, counterfactual.describe(applicant, specialty_stats), rows))
            offset += len(group)
        signaled = [i for i in indices if programs[i].program_id in applicant.signaled_program_ids]
        if signaled:
            unsignaled = dataclasses.replace(applicant, signaled_program_ids=frozenset())
            blocks.append(build_features(unsignaled, [programs[i] for i in signaled], stats))
            rows = np.full(len(programs), -1)
            rows[signaled] = np.arange(offset, offset + len(signaled))
            explained.append((SIGNAL_REASON, "your preference signal to this program", rows))
            offset += len(signaled)
    return np.concatenate(blocks), explained


def _reasons(match: np.ndarray, i: int, explained: list[tuple[str, str, np.ndarray]]) -> tuple[Reason, ...]:
    found = [
        Reason(feature, text, float(match[i] - match[rows[i]]))
        for feature, text, rows in explained
        if rows[i] >= 0 and abs(match[i] - match[rows[i]]) >= MIN_REASON_EFFECT
    ]
    return tuple(sorted(found, key=lambda r: -abs(r.effect))[:REASONS_PER_PROGRAM])


def recommend(
    applicant: Applicant,
    programs_by_specialty: Mapping[str, Sequence[Program]],
    stats: Mapping[str, SpecialtyStats],
    predict: Predict,
) -> Recommendation:
    """The optimized, explained list for one applicant. `predict` is the model: features -> (P(interview), P(match))."""
    programs, excluded = candidates(applicant, programs_by_specialty)
    if not programs:
        return Recommendation([], 0.0, [], 0, excluded)
    rows, explained = feature_rows(applicant, programs, stats)
    interview, match = predict(rows)
    n = len(programs)
    portfolio = optimal_portfolio(match[:n], preference_values(applicant, programs), applicant.application_budget)
    chosen = [
        ScoredProgram(
            programs[i],
            float(interview[i]),
            float(match[i]),
            tier(float(interview[i])),
            _reasons(match, i, explained),
        )
        for i in portfolio.order
    ]
    return Recommendation(chosen, portfolio.match_probability, portfolio.curve, portfolio.plateau, excluded)
