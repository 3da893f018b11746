"""From one applicant to an explained, optimized application list with its signal plan.

Candidates are the catalog programs of the applicant's specialties that no hard rule excludes. All of
them are scored in one model call, at each signal level the specialty has (none, top, second), so that the
optimizer (`optimize.plan`) can choose the list and the signals together. Then the listed programs are
scored again under each counterfactual (`reasons`) in a second call. The list's chance of at least one
match integrates over the latent applicant factor (`chances`); every chance carries its 10th-90th
percentile interval over that factor."""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from smartpick_ranking.domain.anchoring import NO_ANCHORS, ExternalAnchors
from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.domain.chances import LatentFactor
from smartpick_ranking.domain.cost import OTHER_SERVICES, FeeSchedule
from smartpick_ranking.domain.features import (
    at_signal_level,
    build_features,
    hard_exclusion,
    hard_rules_apply,
    signal_levels,
    tiered_specialties,
)
from smartpick_ranking.domain.optimize import NONE, SECOND, TOP, Portfolio, plan
from smartpick_ranking.domain.preferences import SizeBands, preference_values, preferences_named
from smartpick_ranking.domain.reasons import Reason, counterfactual_rows, list_reasons, program_reasons
from smartpick_ranking.domain.scoring import Predict, PredictLevels, predict_blocks, stacked
from smartpick_ranking.domain.tiers import Tier, tier
from smartpick_ranking.domain.unstated import unstated_notes

DISCLAIMER = (
    "These probabilities are estimates from a model trained on a cohort simulated from public, aggregate "
    "figures (NRMP Charting Outcomes, AAMC Residency Explorer and ERAS signaling data, FREIDA; vintages "
    "2020-2026). They are not predictions of your individual outcome: NRMP states that Charting Outcomes is "
    "not designed to predict success or failure in the Match."
)
SAME_ESTIMATE_DIGITS = 4
_FEATURE_LEVEL = {NONE: 0.0, TOP: 2.0, SECOND: 1.0}  # a plan's signal level as the features' signal value


@dataclass(frozen=True)
class ScoredProgram:
    program: Program
    interview_probability: float
    admission_probability: float  # would take the applicant if ranked first: the optimizer's p_i
    admission_interval: tuple[float, float]
    tier: Tier
    signal: int  # NONE, TOP or SECOND (optimize)
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Recommendation:
    application_list: list[ScoredProgram]
    list_match_probability: float
    list_interval: tuple[float, float]
    expected_interviews: float
    curve: list[float]
    curve_cost_usd: list[float]
    plateau: int
    top_signals: tuple[int, int]  # (used, available)
    second_signals: tuple[int, int]
    signals_planned: bool  # True: the plan chose them; False: the applicant's own signals were scored
    top_reasons: tuple[Reason, ...]
    notes: tuple[str, ...]
    excluded: dict[str, int]
    candidates: int
    fee_schedule: str


def candidates(
    applicant: Applicant, programs_by_specialty: Mapping[str, Sequence[Program]]
) -> tuple[list[Program], dict[str, int]]:
    """Programs of the applicant's specialties, and how many each hard rule left out."""
    kept, excluded = [], Counter()
    for specialty in dict.fromkeys(applicant.specialties):
        if not hard_rules_apply(applicant):
            kept += programs_by_specialty.get(specialty, ())
            continue
        for program in programs_by_specialty.get(specialty, ()):
            reason = hard_exclusion(applicant, program)
            if reason is None:
                kept.append(program)
            else:
                excluded[reason] += 1
    return kept, dict(excluded)


def _signal_budget(applicant: Applicant, stats: Mapping[str, SpecialtyStats]) -> tuple[int, int]:
    """Top and second signals of the applicant's first specialty (ERAS allows signals in one or more
    specialties; the plan spends those of the specialty the list is led by)."""
    first = stats.get(applicant.specialties[0]) if applicant.specialties else None
    if first is None:
        return 0, 0
    return first.gold_signals or 0, first.silver_signals or 0


def _levels_to_score(programs: Sequence[Program], stats: Mapping[str, SpecialtyStats]) -> list[int]:
    """Signal levels worth scoring: the top one where the specialty signals, the second where tiered."""
    signaling = {s for s in {p.specialty for p in programs} if (stats.get(s) and stats[s].signals)}
    tiered = {s for s in signaling if stats[s].silver_signals}
    return [NONE] + ([TOP] if signaling else []) + ([SECOND] if tiered else [])


def _same_estimate_note(
    applicant: Applicant, order: list[int], admission: np.ndarray, values: np.ndarray
) -> tuple[str, ...]:
    """Whether listed programs share an estimate with another candidate, and whether the student's
    preferences (their values) or only the catalog order put them where they are."""
    estimates = np.round(admission, SAME_ESTIMATE_DIGITS)
    _, estimate_of, counts = np.unique(estimates, return_inverse=True, return_counts=True)
    tied = [i for i in order if counts[estimate_of[i]] > 1]
    if not tied:
        return ()
    lowest = np.full(len(counts), np.inf)  # the lowest value among the programs of each estimate
    np.minimum.at(lowest, estimate_of, values)
    ordered = sum(1 for i in tied if values[i] > lowest[estimate_of[i]] + 1e-12)
    said = f"{len(tied)} listed programs share an estimate with another program: no public fact distinguishes them"
    if not ordered:
        return (f"{said}, and neither do your preferences, so among them the list follows the catalog order.",)
    return (
        f"{said}. Your preferences ({'; '.join(preferences_named(applicant))}) put {ordered} of them ahead of "
        "programs with the same estimate; the catalog order decides the rest.",
    )


def _below_its_interval_note(chance: float, interval: tuple[float, float]) -> tuple[str, ...]:
    """Why a list's chance can lie below its own interval: it is a mean over the latent factor, and a near-safe
    list's few bad draws (the same weakness seen by every program) pull the mean below the 10th percentile."""
    if round(chance, 3) >= round(interval[0], 3):  # as shown: to a tenth of a percent
        return ()
    return (
        f"Your list's chance of at least one match, {chance:.1%}, lies below its interval ({interval[0]:.1%} to "
        f"{interval[1]:.1%}): for 9 in 10 applicants with your profile the list's chance is {interval[0]:.1%} or "
        "more, and the 1 in 10 whose unseen weaknesses show at every program pull the average below that.",
    )


def recommend_many(
    requests: Sequence[tuple[Applicant, Mapping[str, Sequence[Program]]]],
    stats: Mapping[str, SpecialtyStats],
    predict: Predict,
    factor: LatentFactor,
    fees: FeeSchedule,
    sizes: Mapping[str, SizeBands] | None = None,
    predict_levels: PredictLevels | None = None,
    anchors: ExternalAnchors = NO_ANCHORS,
) -> list[Recommendation]:
    """The optimized, explained list and signal plan for each (applicant, the catalog as their school sees it).
    `sizes`: the public catalog's size bands (`preferences.size_bands`), which preferred sizes are read by.
    `predict_levels`: a faster way to the same numbers as `predict` at several signal levels (`scoring`).
    `anchors`: the model's shifts toward the published rates (`anchoring`), applied to every chance it gives.

    Two requests to the model whatever the number of applicants: every candidate of every applicant at each
    signal level, then the counterfactuals of every listed program."""
    tiered = tiered_specialties(stats)
    prepared, blocks = [], []
    for applicant, view in requests:
        programs, excluded = candidates(applicant, view)
        own = signal_levels(applicant, programs, tiered)
        planned = not own.any()
        levels = _levels_to_score(programs, stats) if planned else [None]
        # Every level's rows are these with the signal columns set (`features.at_signal_level`).
        rows = build_features(applicant, programs, stats, np.zeros(len(programs)) if planned else own)
        blocks.append((rows, [None] if not planned else [_FEATURE_LEVEL[k] for k in levels]))
        prepared.append((applicant, programs, excluded, own, planned, levels))
    scores = (predict_levels or stacked(predict))(blocks)
    stage, explain_blocks = [], []
    for (applicant, programs, excluded, own, planned, levels), (candidate_rows, _), (interview_at, admission_at) in zip(
        prepared, blocks, scores, strict=True
    ):
        admission_at = anchors.adjust(candidate_rows, [p.specialty for p in programs], interview_at, admission_at)
        columns = [levels.index(k) if k in levels else 0 for k in range(3)]
        # float64, as the plan and the sums over the list work in.
        interview, admission = (np.asarray(s[:, columns], dtype=np.float64) for s in (interview_at, admission_at))
        budget = _signal_budget(applicant, stats)
        values = preference_values(applicant, programs, sizes)
        if planned:
            portfolio = plan(admission, values, applicant.application_budget, factor, *budget)
            signals = np.array(portfolio.signals, dtype=int)
        else:
            fixed = np.column_stack([admission[:, 0]] * 3)
            portfolio = plan(fixed, values, applicant.application_budget, factor)
            level_of_own = np.where(own == 2, TOP, np.where(own == 1, SECOND, NONE))
            signals = level_of_own[portfolio.order] if portfolio.order else np.empty(0, dtype=int)
        listed = [programs[i] for i in portfolio.order]
        feature_signals = np.array([_FEATURE_LEVEL[int(s)] for s in signals])
        # A plan scored every candidate with no signal: what a signal adds is read from there.
        no_signal = admission_at[portfolio.order, levels.index(NONE)] if planned else None
        # The listed programs' own rows are the candidates' at the planned signals: no need to build them again.
        actual = at_signal_level(candidate_rows[portfolio.order], feature_signals)
        rows, explained = counterfactual_rows(applicant, listed, feature_signals, stats, no_signal, actual)
        explain_blocks.append(rows)
        stage.append(
            _Planned(
                applicant,
                programs,
                excluded,
                planned,
                portfolio,
                signals,
                interview,
                admission,
                values,
                explained,
                budget,
                no_signal,
                anchors.notes(applicant, dict.fromkeys(p.specialty for p in listed), stats),
                unstated_notes(applicant, dict.fromkeys(p.specialty for p in listed), stats),
            )
        )
    typicals = [
        anchors.adjust(rows, _row_specialties(planned, len(rows)), interview, admission)
        for planned, rows, (interview, admission) in zip(
            stage, explain_blocks, predict_blocks(predict, explain_blocks), strict=True
        )
    ]
    return [
        _result(planned, _with_known(typical, planned.no_signal), factor, fees)
        for planned, typical in zip(stage, typicals, strict=True)
    ]


def _row_specialties(planned: "_Planned", rows: int) -> list[str]:
    """The specialty of each counterfactual row: that of the listed program it scores."""
    listed = [planned.programs[i].specialty for i in planned.portfolio.order]
    of_row = [""] * rows
    for _, _, at in planned.explained:
        for program, row in enumerate(at):
            if 0 <= row < rows:
                of_row[row] = listed[program]
    return of_row


def _with_known(scored: np.ndarray, no_signal: np.ndarray | None) -> np.ndarray:
    """The counterfactual chances as `reasons.counterfactual_rows` indexes them: the scored rows, then the
    listed programs' no-signal chances where the plan had them."""
    if no_signal is None:
        return scored
    return np.concatenate([scored if len(scored) else scored.astype(no_signal.dtype), no_signal])


@dataclass(frozen=True)
class _Planned:
    """One applicant between the two model calls: candidates, their chances, the plan, what to explain."""

    applicant: Applicant
    programs: list[Program]
    excluded: dict[str, int]
    planned: bool
    portfolio: Portfolio
    signals: np.ndarray  # per listed program
    interview: np.ndarray  # [candidate, level]
    admission: np.ndarray
    values: np.ndarray  # the applicant's preference value of each candidate
    explained: list
    signal_budget: tuple[int, int]  # top, second
    no_signal: np.ndarray | None  # the listed programs' chances with no signal, where the plan scored them
    anchor_notes: tuple[str, ...]  # where anchors moved the listed specialties' chances (`anchoring`)
    unstated_notes: tuple[str, ...]  # what the chances took for the inputs left unsaid (`unstated`)


def _result(staged: _Planned, typical: np.ndarray, factor: LatentFactor, fees: FeeSchedule) -> Recommendation:
    programs, portfolio, signals, interview, admission = (
        staged.programs,
        staged.portfolio,
        staged.signals,
        staged.interview,
        staged.admission,
    )
    explained, planned = staged.explained, staged.planned
    order = portfolio.order
    column = signals if planned else np.zeros(len(order), dtype=int)
    chances = admission[order, column] if order else np.empty(0)
    interviews = interview[order, column] if order else np.empty(0)
    low, high = factor.interval(chances)
    reasons = program_reasons(chances, typical, explained)
    application_list = [
        ScoredProgram(programs[i], interview, chance, (lo, hi), tier(interview), int(signal), why)
        for i, interview, chance, lo, hi, signal, why in zip(
            order,
            interviews.tolist(),
            chances.tolist(),
            low.tolist(),
            high.tolist(),
            signals.tolist(),
            reasons,
            strict=True,
        )
    ]
    chance = factor.at_least_one(chances)
    interval = factor.list_interval(chances)
    specialties = [programs[i].specialty for i in order]
    notes = _same_estimate_note(staged.applicant, order, admission[:, 0], staged.values)
    notes += _below_its_interval_note(chance, interval)
    notes += staged.anchor_notes + staged.unstated_notes
    if staged.applicant.home_city and staged.applicant.home is None:
        notes += (
            f"Your home city {staged.applicant.home_city} is not in the program catalog, so distance from it did "
            "not order the list; choose a city the catalog names (GET /v1/cities).",
        )
    others = sorted({s for s in specialties if s in OTHER_SERVICES})
    if others:
        notes += (
            f"{', '.join(others)} apply through {', '.join(OTHER_SERVICES[s] for s in others)}, not ERAS: the cost "
            "shown uses the ERAS fee schedule and may differ.",
        )
    return Recommendation(
        application_list=application_list,
        list_match_probability=chance,
        list_interval=interval,
        expected_interviews=float(interviews.sum()),
        curve=portfolio.curve,
        curve_cost_usd=fees.cumulative(specialties),
        plateau=portfolio.plateau,
        top_signals=(int(np.sum(signals == TOP)), staged.signal_budget[0]),
        second_signals=(int(np.sum(signals == SECOND)), staged.signal_budget[1]),
        signals_planned=planned,
        top_reasons=list_reasons(chance, chances, typical, explained, factor.at_least_one) if order else (),
        notes=notes,
        excluded=staged.excluded,
        candidates=len(programs),
        fee_schedule=fees.label,
    )


def recommend(
    applicant: Applicant,
    programs_by_specialty: Mapping[str, Sequence[Program]],
    stats: Mapping[str, SpecialtyStats],
    predict: Predict,
    factor: LatentFactor,
    fees: FeeSchedule,
    sizes: Mapping[str, SizeBands] | None = None,
    predict_levels: PredictLevels | None = None,
    anchors: ExternalAnchors = NO_ANCHORS,
) -> Recommendation:
    """The optimized, explained list for one applicant."""
    return recommend_many(
        [(applicant, programs_by_specialty)], stats, predict, factor, fees, sizes, predict_levels, anchors
    )[0]
