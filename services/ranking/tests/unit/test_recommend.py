"""The recommendation pipeline with a transparent fake model, so every number can be checked by hand."""

import dataclasses

import numpy as np
import pytest

from smartpick_ranking.data import load_fee_schedule
from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.domain.chances import LatentFactor
from smartpick_ranking.domain.features import NO_VISA_SPONSORSHIP, at_signal_level, build_features, feature_column
from smartpick_ranking.domain.optimize import NONE, SECOND, TOP
from smartpick_ranking.domain.preferences import OTHER_REGION_VALUE, SAME_REGION_VALUE, preference_values
from smartpick_ranking.domain.reasons import counterfactual_rows
from smartpick_ranking.domain.recommend import candidates, recommend, recommend_many
from smartpick_ranking.domain.tiers import Tier, tier

STATS = {
    "Dermatology": SpecialtyStats(
        "Dermatology", mean_step2ck_matched_usmd=257, mean_research_items_matched=20.9, gold_signals=1, silver_signals=1
    ),
    "Internal Medicine": SpecialtyStats("Internal Medicine", mean_step2ck_matched_usmd=245),
}
DERM = [
    Program(f"08000000{i:02d}", f"Derm {i}", "Dermatology", state=s, positions=n)
    for i, (s, n) in enumerate([("CA", 2), ("NY", 3), ("TX", 4)])
]
NO_VISA = Program("0800000099", "Derm no visa", "Dermatology", state="CA", sponsors_j1=False, sponsors_h1b=False)
IM = [Program(f"14000000{i:02d}", f"IM {i}", "Internal Medicine", state="CA") for i in range(4)]
CATALOG = {"Dermatology": [*DERM, NO_VISA], "Internal Medicine": IM}
INDEPENDENT = LatentFactor.of(0.0)
FEES = load_fee_schedule()


def fake_model(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(admitted) grows with Step 2 CK, research, program size and signals; P(interview) is twice it, capped."""
    step2 = np.nan_to_num(rows[:, feature_column("step2_ck_score")], nan=230)
    research = rows[:, feature_column("research_items")]
    size = np.nan_to_num(rows[:, feature_column("program_positions")], nan=1)
    top = rows[:, feature_column("top_signal_sent")]
    any_signal = rows[:, feature_column("signal_sent")]
    admitted = np.clip((step2 - 220) / 200 + research / 400 + size / 100 + 0.1 * top + 0.1 * any_signal, 0, 0.95)
    return np.minimum(2 * admitted, 1), admitted


def applicant(**overrides) -> Applicant:
    fields = dict(
        degree="MD",
        step2_ck_score=262,
        step1_result="pass",
        research_items=10,
        visa_need="none",
        specialties=("Dermatology",),
        application_budget=2,
    )
    return Applicant(**(fields | overrides))


def run(a: Applicant, factor: LatentFactor = INDEPENDENT):
    return recommend(a, CATALOG, STATS, fake_model, factor, FEES)


def test_visa_exclusion_counts_what_it_leaves_out():
    kept, excluded = candidates(applicant(visa_need="H1B"), CATALOG)
    assert NO_VISA not in kept and excluded == {NO_VISA_SPONSORSHIP: 1}
    kept, excluded = candidates(applicant(), CATALOG)
    assert NO_VISA in kept and excluded == {}


def test_preferences_weight_specialty_order_and_states():
    a = applicant(specialties=("Dermatology", "Internal Medicine"), preferred_states=frozenset({"CA"}))
    oregon = Program("0800000077", "Derm OR", "Dermatology", state="OR")
    values = preference_values(a, [DERM[0], DERM[1], IM[0], oregon])
    assert values.tolist() == pytest.approx([1.0, OTHER_REGION_VALUE, 0.85, SAME_REGION_VALUE])


def test_the_list_chance_is_one_minus_the_product_when_programs_decide_independently():
    result = run(applicant(application_budget=2))
    assert len(result.application_list) == 2
    p = [s.admission_probability for s in result.application_list]
    assert result.list_match_probability == pytest.approx(1 - (1 - p[0]) * (1 - p[1]))
    assert result.curve == pytest.approx([p[0], 1 - (1 - p[0]) * (1 - p[1])])
    assert result.list_interval == pytest.approx((result.list_match_probability,) * 2)


def test_correlated_decisions_lower_the_list_chance_and_open_an_interval():
    independent = run(applicant(application_budget=4))
    correlated = run(applicant(application_budget=4), LatentFactor.of(1.0))
    assert correlated.list_match_probability < independent.list_match_probability
    low, high = correlated.list_interval
    assert low < correlated.list_match_probability < high
    for scored in correlated.application_list:
        assert scored.admission_interval[0] < scored.admission_probability < scored.admission_interval[1]


def test_the_plan_spends_the_specialtys_signals_and_says_so():
    result = run(applicant(application_budget=3))
    assert result.signals_planned
    assert result.top_signals == (1, 1) and result.second_signals == (1, 1)
    signals = sorted(s.signal for s in result.application_list)
    assert signals == sorted([NONE, TOP, SECOND])
    gold = next(s for s in result.application_list if s.signal == TOP)
    assert any(r.feature == "signal" and r.effect == pytest.approx(0.2, abs=1e-6) for r in gold.reasons)


def test_the_students_own_signals_are_scored_as_given():
    mine = applicant(application_budget=3, signaled_program_ids=frozenset({DERM[0].program_id}))
    result = run(mine)
    assert not result.signals_planned
    signaled = next(s for s in result.application_list if s.program == DERM[0])
    assert signaled.signal == SECOND and result.second_signals == (1, 1) and result.top_signals == (0, 1)


def test_every_listed_program_has_reasons_against_the_typical_matched_applicant():
    result = run(applicant(step2_ck_score=250, research_items=40, application_budget=3))
    for scored in result.application_list:
        assert scored.reasons, scored.program.name
    reasons = {r.feature: r for r in result.application_list[-1].reasons}
    assert reasons["step2_ck_score"].effect == pytest.approx((250 - 257) / 200, abs=1e-6)
    assert "7 points below the matched mean of Dermatology (257)" in reasons["step2_ck_score"].text
    assert reasons["research_items"].effect == pytest.approx((40 - 21) / 400, abs=1e-6)
    assert 1 <= len(result.top_reasons) <= 3
    assert result.top_reasons[0].text.endswith("the largest factor")
    assert abs(result.top_reasons[0].effect) >= abs(result.top_reasons[-1].effect)


def test_a_list_says_what_it_took_for_the_inputs_left_unsaid_and_explains_only_what_was_said():
    unsaid = run(applicant(clerkship_honors=None, has_home_program=None, away_rotations=None))
    (_state, note) = [n for n in unsaid.notes if "does not say" in n]
    assert note.startswith("Your profile does not say your clerkship honors, whether your school has a program")
    assert "in Dermatology take a typical applicant's (3 clerkships graded honors; a home program in the" in note
    rotated = run(applicant(has_home_program=None, away_rotations=2))
    (_state, note) = [n for n in rotated.notes if "does not say" in n]
    assert "does not say whether your school has a program in the specialty:" in note
    assert not any("does not say" in n for n in run(applicant(school_state="CA")).notes)
    (no_step1,) = [n for n in run(applicant(step1_result=None, school_state="CA")).notes if "does not say" in n]
    assert no_step1.startswith("Your profile does not say your Step 1 result: your chances in Dermatology take a")
    assert "(a Step 1 pass)" in no_step1
    (state_note,) = [n for n in run(applicant()).notes if "does not say" in n]
    assert state_note.startswith("Your profile does not say your medical school's state: no program is read")
    assert not any("does not say" in n for n in run(applicant(degree="IMG", visa_need="none")).notes)

    def explained(a: Applicant) -> list[str]:
        _rows, explained = counterfactual_rows(a, DERM, np.zeros(len(DERM)), STATS)
        return [feature for feature, _, _ in explained]

    assert "away_rotations" not in explained(applicant(has_home_program=None, away_rotations=None))
    assert "away_rotations" in explained(applicant(has_home_program=None, away_rotations=2))


def test_counterfactuals_of_rows_already_built_are_those_built_anew():
    signals = np.resize([0.0, 2.0, 1.0], len(DERM))
    a = applicant(away_rotations=2)
    built_here = counterfactual_rows(a, DERM, signals, STATS)
    candidates_rows = build_features(a, DERM, STATS, np.zeros(len(DERM)))
    handed = counterfactual_rows(a, DERM, signals, STATS, actual=at_signal_level(candidates_rows, signals))
    assert np.array_equal(built_here[0], handed[0], equal_nan=True)
    assert [(f, t, r.tolist()) for f, t, r in built_here[1]] == [(f, t, r.tolist()) for f, t, r in handed[1]]


def test_a_typical_applicant_or_one_with_no_score_still_has_reasons_on_every_listed_program():
    for typical, text in (
        (applicant(step2_ck_score=257, research_items=21), "Step 2 CK at the matched mean of Dermatology (257)"),
        (applicant(step2_ck_score=None, research_items=21), "no Step 2 CK score given (the matched mean of Der"),
    ):
        result = run(dataclasses.replace(typical, application_budget=3))
        assert any(not p.signal for p in result.application_list)  # no signal to explain them
        for scored in result.application_list:
            reasons = {r.feature: r for r in scored.reasons}
            assert reasons["step2_ck_score"].text.startswith(text)
        step2 = reasons["step2_ck_score"].effect
        assert step2 == 0.0 if typical.step2_ck_score else step2 == pytest.approx((230 - 257) / 200, abs=1e-6)
        assert reasons["research_items"].effect == 0.0


def test_a_chance_below_its_own_interval_is_explained():
    correlated = LatentFactor.of(0.8)
    many = {"Internal Medicine": [Program(f"14000001{i:02d}", f"IM {i}", "Internal Medicine") for i in range(30)]}
    strong = applicant(step2_ck_score=300, research_items=60, specialties=("Internal Medicine",), application_budget=30)
    safe = recommend(strong, many, STATS, fake_model, correlated, FEES)
    low, high = safe.list_interval
    assert safe.list_match_probability < low  # a mean over z below its 10th percentile
    (note,) = [n for n in safe.notes if "lies below its interval" in n]
    assert f"{safe.list_match_probability:.1%}, lies below its interval ({low:.1%} to {high:.1%})" in note
    risky = run(applicant(application_budget=2, school_state="CA"), correlated)
    assert risky.list_interval[0] <= risky.list_match_probability
    assert not any("lies below its interval" in n for n in risky.notes)


def test_expected_interviews_and_the_cost_of_the_list():
    result = run(applicant(application_budget=3))
    assert result.expected_interviews == pytest.approx(sum(s.interview_probability for s in result.application_list))
    assert result.curve_cost_usd == [11.0, 22.0, 33.0]
    assert "ERAS 2026" in result.fee_schedule


def test_programs_no_fact_tells_apart_are_named_so():
    result = run(applicant(specialties=("Internal Medicine",), application_budget=3))
    assert any("no public fact distinguishes them" in note for note in result.notes)
    assert not run(applicant(application_budget=3, school_state="CA")).notes


def test_no_candidates_gives_an_empty_list():
    result = run(applicant(specialties=("Nonexistent",)))
    assert result.application_list == [] and result.list_match_probability == 0


def test_tier_rules():
    assert [tier(p) for p in (0.05, 0.2, 0.49, 0.5, 0.9)] == [
        Tier.REACH,
        Tier.TARGET,
        Tier.TARGET,
        Tier.LIKELY,
        Tier.LIKELY,
    ]


def test_a_batch_gives_what_each_applicant_gets_alone_in_two_model_calls():
    calls = []

    def counting_model(rows):
        calls.append(len(rows))
        return fake_model(rows)

    applicants = [
        applicant(step2_ck_score=240),
        applicant(specialties=("Nonexistent",)),
        applicant(specialties=("Internal Medicine", "Dermatology"), application_budget=5, research_items=30),
    ]
    batch = recommend_many([(a, CATALOG) for a in applicants], STATS, counting_model, INDEPENDENT, FEES)
    assert len(calls) == 2
    assert batch == [run(a) for a in applicants]
