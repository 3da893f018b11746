"""The recommendation pipeline with a transparent fake model, so every number can be checked by hand."""

import numpy as np
import pytest

from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.domain.features import feature_column
from smartpick_ranking.domain.recommend import (
    OUT_OF_STATE_VALUE,
    candidates,
    preference_values,
    recommend,
    recommend_many,
)
from smartpick_ranking.domain.tiers import Tier, tier

STATS = {
    "Dermatology": SpecialtyStats("Dermatology", mean_step2ck_matched_usmd=257, mean_research_items_matched=20.9),
    "Internal Medicine": SpecialtyStats("Internal Medicine", mean_step2ck_matched_usmd=245),
}
DERM = [Program(f"08000000{i:02d}", f"Derm {i}", "Dermatology", state=s) for i, s in enumerate(["CA", "NY", "TX"])]
NO_VISA = Program("0800000099", "Derm no visa", "Dermatology", state="CA", sponsors_visa=False)
IM = [Program(f"14000000{i:02d}", f"IM {i}", "Internal Medicine", state="CA") for i in range(4)]
CATALOG = {"Dermatology": [*DERM, NO_VISA], "Internal Medicine": IM}


def fake_model(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(match) grows with Step 2 CK and research and signals; P(interview) is twice it, capped."""
    step2 = np.nan_to_num(rows[:, feature_column("step2_ck_score")], nan=230)
    research = rows[:, feature_column("research_items")]
    signaled = rows[:, feature_column("signaled_program")]
    match = np.clip((step2 - 220) / 200 + research / 400 + 0.1 * signaled, 0, 0.95)
    return np.minimum(2 * match, 1), match


def applicant(**overrides) -> Applicant:
    fields = dict(
        degree="MD",
        step2_ck_score=262,
        research_items=10,
        visa_need="none",
        specialties=("Dermatology",),
        application_budget=2,
    )
    return Applicant(**(fields | overrides))


def test_visa_exclusion_counts_what_it_leaves_out():
    kept, excluded = candidates(applicant(visa_need="H1B"), CATALOG)
    assert NO_VISA not in kept and excluded == {"no visa sponsorship": 1}
    kept, excluded = candidates(applicant(), CATALOG)
    assert NO_VISA in kept and excluded == {}


def test_preferences_weight_specialty_order_and_states():
    a = applicant(specialties=("Dermatology", "Internal Medicine"), preferred_states=frozenset({"CA"}))
    values = preference_values(a, [DERM[0], DERM[1], IM[0]])
    assert values.tolist() == pytest.approx([1.0, OUT_OF_STATE_VALUE, 0.85])


def test_list_respects_budget_and_curve_is_one_minus_product():
    result = recommend(applicant(application_budget=2), CATALOG, STATS, fake_model)
    assert len(result.application_list) == 2
    p = [s.match_probability for s in result.application_list]
    assert result.list_match_probability == pytest.approx(1 - (1 - p[0]) * (1 - p[1]))
    assert result.curve == pytest.approx([p[0], 1 - (1 - p[0]) * (1 - p[1])])


def test_a_signaled_program_comes_first_and_says_why():
    signaled = DERM[2].program_id
    result = recommend(applicant(signaled_program_ids=frozenset({signaled})), CATALOG, STATS, fake_model)
    first = result.application_list[0]
    assert first.program.program_id == signaled
    signal_reason = next(r for r in first.reasons if r.feature == "signaled_program")
    assert signal_reason.effect == pytest.approx(0.1, abs=1e-6)


def test_reasons_compare_with_the_typical_matched_applicant():
    result = recommend(applicant(step2_ck_score=237, research_items=40), CATALOG, STATS, fake_model)
    reasons = {r.feature: r for r in result.application_list[0].reasons}
    assert reasons["step2_ck_score"].effect == pytest.approx((237 - 257) / 200, abs=1e-6)
    assert "257" in reasons["step2_ck_score"].text
    assert reasons["research_items"].effect == pytest.approx((40 - 21) / 400, abs=1e-6)


def test_no_candidates_gives_an_empty_list():
    result = recommend(applicant(specialties=("Nonexistent",)), CATALOG, STATS, fake_model)
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
    batch = recommend_many([(a, CATALOG) for a in applicants], STATS, counting_model)
    assert len(calls) == 2
    assert batch == [recommend(a, CATALOG, STATS, fake_model) for a in applicants]
