import dataclasses
import math

import numpy as np
from smartpick.profile.v1 import profile_pb2

from smartpick_ranking.data import load_programs, load_specialty_stats
from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.domain.features import (
    FEATURE_NAMES,
    MONOTONE,
    NO_VISA_SPONSORSHIP,
    build_features,
    feature_column,
    for_applicant,
    hard_exclusion,
)

DERM = SpecialtyStats(
    specialty="Dermatology",
    pct_positions_filled_by_usmd_seniors_2025=80.0,
    mean_step2ck_matched_usmd=257.0,
    mean_research_items_matched=20.9,
    gold_signals=3,
    silver_signals=25,
)
KNOWN = Program(
    "0801200001",
    "Known Program",
    "Dermatology",
    "Boston",
    "MA",
    42.3,
    -71.0,
    positions=4,
    program_type="academic",
    sponsors_j1=True,
    sponsors_h1b=False,
    md_share=0.7,
    do_share=0.2,
    img_share=0.1,
    applications=400,
    interview_share=0.1,
    rate_top_signal=0.6,
    rate_second_signal=0.2,
    rate_no_signal=0.01,
    rate_in_state=0.5,
    rate_out_of_state=0.1,
)
UNKNOWN = Program("0801200002", "Unknown Program", "Dermatology", "Austin", "TX")
NO_STATS = Program("9999999999", "Other Program", "Transitional Year")


def applicant(**overrides) -> Applicant:
    fields = dict(
        degree="MD",
        step2_ck_score=260,
        step1_result="pass",
        research_items=25,
        visa_need="none",
        specialties=("Dermatology",),
        preferred_states=frozenset({"MA"}),
        signaled_program_ids=frozenset({"0801200001"}),
    )
    return Applicant(**(fields | overrides))


def value(features: np.ndarray, row: int, name: str) -> float:
    return float(features[row, feature_column(name)])


def test_one_float32_row_per_program_one_column_per_feature():
    features = build_features(applicant(), [KNOWN, UNKNOWN, NO_STATS], {"Dermatology": DERM})
    assert features.dtype == np.float32
    assert features.shape == (3, len(FEATURE_NAMES))
    assert build_features(applicant(), [], {}).shape == (0, len(FEATURE_NAMES))


def test_known_values_are_used_and_unknown_ones_are_nan():
    features = build_features(applicant(), [KNOWN, UNKNOWN, NO_STATS], {"Dermatology": DERM})
    assert value(features, 0, "program_positions") == 4
    assert value(features, 0, "program_academic") == 1
    assert value(features, 0, "program_community") == 0
    assert math.isclose(value(features, 0, "program_share_of_own_degree"), 0.7, rel_tol=1e-6)
    assert math.isclose(value(features, 0, "program_log_applications_per_position"), math.log(100), rel_tol=1e-6)
    assert math.isclose(value(features, 0, "program_rate_no_signal"), 0.01, rel_tol=1e-6)
    for name in ("program_positions", "program_academic", "program_rate_top_signal", "program_img_share"):
        assert math.isnan(value(features, 1, name)), name
    assert math.isnan(value(features, 1, "specialty_fill_rate"))  # not in the public figures
    assert value(features, 1, "step2_ck_above_specialty_mean") == 3
    assert math.isclose(value(features, 1, "research_above_specialty_mean"), 4.1, rel_tol=1e-5)
    assert math.isnan(value(features, 2, "specialty_mean_step2ck"))
    assert value(features, 2, "in_preferred_state") == 0  # no location: not known to be in a preferred state


def test_the_visa_feature_reads_the_kind_the_applicant_needs():
    stats = {"Dermatology": DERM}
    j1, h1b = (build_features(applicant(visa_need=v), [KNOWN], stats) for v in ("J1", "H1B"))
    assert value(j1, 0, "program_takes_own_visa") == 1 and value(h1b, 0, "program_takes_own_visa") == 0
    assert math.isnan(value(build_features(applicant(), [KNOWN], stats), 0, "program_takes_own_visa"))


def test_the_interview_rate_of_the_applicants_school_location():
    stats = {"Dermatology": DERM}
    home = build_features(applicant(school_state="MA"), [KNOWN], stats)
    away = build_features(applicant(school_state="NY"), [KNOWN], stats)
    abroad = build_features(applicant(degree="IMG", school_state=None), [KNOWN], stats)
    unsaid = build_features(applicant(school_state=None), [KNOWN, NO_STATS], stats)  # NO_STATS: no state
    assert math.isclose(value(home, 0, "program_rate_own_school_location"), 0.5, rel_tol=1e-6)
    assert math.isclose(value(away, 0, "program_rate_own_school_location"), 0.1, rel_tol=1e-6)
    assert math.isnan(value(abroad, 0, "program_rate_own_school_location"))
    assert math.isnan(value(abroad, 0, "in_school_state"))
    # A US school of no stated state: out of every program's state, not abroad.
    assert math.isclose(value(unsaid, 0, "program_rate_own_school_location"), 0.1, rel_tol=1e-6)
    assert value(unsaid, 0, "in_school_state") == 0 and math.isnan(value(unsaid, 1, "in_school_state"))
    assert (value(home, 0, "in_school_state"), value(away, 0, "in_school_state")) == (1, 0)


def test_unset_applicant_inputs_are_nan():
    features = build_features(
        applicant(step2_ck_score=None, step1_result=None, visa_need=None), [UNKNOWN], {"Dermatology": DERM}
    )
    assert value(features, 0, "step1_failed") == 0  # unsaid: a pass, as the typical applicant's (`unstated`)
    for name in (
        "step2_ck_score",
        "needs_visa",
        "step2_ck_above_specialty_mean",
        "comlex_level2_score",
    ):
        assert math.isnan(value(features, 0, name)), name


def test_signal_tiers_and_preferred_state_flags():
    tiered = {"Dermatology": DERM}
    silver = build_features(applicant(), [KNOWN, UNKNOWN], tiered)
    assert [value(silver, row, "signal_sent") for row in (0, 1)] == [1, 0]
    assert [value(silver, row, "top_signal_sent") for row in (0, 1)] == [0, 0]
    gold = build_features(
        applicant(gold_signal_program_ids=frozenset({"0801200001"}), signaled_program_ids=frozenset()), [KNOWN], tiered
    )
    assert (value(gold, 0, "top_signal_sent"), value(gold, 0, "signal_sent")) == (1, 1)
    one_tier = {"Dermatology": SpecialtyStats("Dermatology", gold_signals=30)}
    only = build_features(applicant(), [KNOWN], one_tier)  # the only tier counts as the top signal
    assert (value(only, 0, "top_signal_sent"), value(only, 0, "signal_sent")) == (1, 1)
    assert [value(silver, row, "in_preferred_state") for row in (0, 1)] == [1, 0]


def test_degree_is_one_hot():
    for degree in ("MD", "DO", "IMG"):
        features = build_features(applicant(degree=degree), [UNKNOWN], {})
        assert [value(features, 0, f"degree_{d.lower()}") for d in ("MD", "DO", "IMG")] == [
            float(d == degree) for d in ("MD", "DO", "IMG")
        ]


def test_monotone_constraints_name_real_features():
    assert set(MONOTONE) <= set(FEATURE_NAMES)
    assert MONOTONE["step2_ck_score"] == MONOTONE["research_items"] == 1


def test_visa_exclusion_only_on_known_non_sponsorship():
    refuses = Program("0801200003", "No Visa Program", "Dermatology", sponsors_j1=False, sponsors_h1b=False)
    needs_visa = applicant(visa_need="H1B")
    assert hard_exclusion(needs_visa, refuses) == NO_VISA_SPONSORSHIP
    assert hard_exclusion(needs_visa, UNKNOWN) is None  # unknown sponsorship is a feature, not an exclusion
    assert hard_exclusion(needs_visa, KNOWN) == NO_VISA_SPONSORSHIP  # J-1 only
    assert hard_exclusion(applicant(visa_need="J1"), KNOWN) is None
    assert hard_exclusion(applicant(visa_need="none"), refuses) is None
    assert hard_exclusion(applicant(visa_need=None), refuses) is None


def test_applicant_from_proto_keeps_unset_fields_unknown():
    profile = profile_pb2.ApplicantProfile(
        degree_type=profile_pb2.DEGREE_TYPE_DO,
        comlex_level2_score=640,
        research_items=7,
        aoa_member=True,
        clerkship_honors=3,
        visa_need=profile_pb2.VISA_NEED_J1,
        years_since_graduation=1,
        signals_sent=5,
        has_home_program=True,
        away_rotations=2,
        medical_school_state="TX",
        preferences=profile_pb2.Preferences(
            specialties=["Dermatology"],
            preferred_states=["CA"],
            application_budget=60,
            signaled_program_ids=["0801200001"],
            gold_signal_program_ids=["0801200002"],
        ),
    )
    assert Applicant.from_proto(profile) == Applicant(
        degree="DO",
        step2_ck_score=None,
        step1_result=None,
        comlex_level2_score=640,
        research_items=7,
        aoa_member=True,
        clerkship_honors=3,
        visa_need="J1",
        years_since_graduation=1,
        signals_sent=5,
        has_home_program=True,
        away_rotations=2,
        school_state="TX",
        specialties=("Dermatology",),
        preferred_states=frozenset({"CA"}),
        application_budget=60,
        gold_signal_program_ids=frozenset({"0801200002"}),
        signaled_program_ids=frozenset({"0801200001"}),
    )
    assert Applicant.from_proto(profile).needs_visa is True


def test_unsaid_inputs_read_none_from_the_contract():
    profile = profile_pb2.ApplicantProfile(
        degree_type=profile_pb2.DEGREE_TYPE_MD,
        unstated_inputs=[profile_pb2.APPLICANT_INPUT_CLERKSHIP_HONORS, profile_pb2.APPLICANT_INPUT_AWAY_ROTATIONS],
        preferences=profile_pb2.Preferences(specialties=["Dermatology"], application_budget=40),
    )
    read = Applicant.from_proto(profile)
    assert (read.clerkship_honors, read.has_home_program, read.away_rotations) == (None, False, None)


def test_unsaid_inputs_take_each_specialtys_typical_applicants_values():
    unsaid = applicant(clerkship_honors=None, has_home_program=None, away_rotations=None)
    programs = [KNOWN, NO_STATS]  # Dermatology signals (28 signals), the Transitional Year has no figures
    rows = build_features(unsaid, programs, {"Dermatology": DERM})
    typical = {"clerkship_honors": 3, "has_home_program": True, "away_rotations": 2}
    said = build_features(applicant(**typical), programs, {"Dermatology": DERM})
    np.testing.assert_array_equal(rows[0], said[0])
    assert [value(rows, 1, name) for name in typical] == [3.0, 1.0, 0.0]  # few away rotations where none signal
    img = build_features(dataclasses.replace(unsaid, degree="IMG"), programs, {"Dermatology": DERM})
    assert value(img, 0, "has_home_program") == 0.0  # a school abroad has no home program here
    said_zero = build_features(applicant(clerkship_honors=0, has_home_program=False), programs, {"Dermatology": DERM})
    assert [value(said_zero, 0, n) for n in typical] == [0.0, 0.0, 0.0]


def test_share_of_own_degree_follows_the_applicants_degree_and_stays_unknown_when_a_share_is():
    half_known = Program("0801200003", "Half Known", "Dermatology", img_share=0.25)
    rows = {
        degree: build_features(applicant(degree=degree), [KNOWN, half_known], {"Dermatology": DERM})
        for degree in ("MD", "DO", "IMG")
    }
    assert [round(value(rows[d], 0, "program_share_of_own_degree"), 6) for d in ("MD", "DO", "IMG")] == [0.7, 0.2, 0.1]
    assert math.isnan(value(rows["MD"], 1, "program_share_of_own_degree"))  # the MD share is its own fact
    assert math.isnan(value(rows["DO"], 1, "program_share_of_own_degree"))
    assert value(rows["IMG"], 1, "program_share_of_own_degree") == 0.25


def test_each_row_gets_its_own_specialtys_figures_when_specialties_interleave():
    features = build_features(applicant(), [KNOWN, NO_STATS, UNKNOWN], {"Dermatology": DERM})
    assert [value(features, row, "specialty_mean_step2ck") for row in (0, 2)] == [257.0, 257.0]
    assert math.isnan(value(features, 1, "specialty_mean_step2ck"))


def test_rows_rebuilt_for_another_applicant_are_the_rows_built_for_them():
    programs, stats = load_programs()[::40], load_specialty_stats()
    signals = np.resize([0.0, 1.0, 2.0], len(programs))
    applicant = Applicant("MD", step2_ck_score=240, research_items=3, school_state="CA", visa_need="none")
    rows = build_features(applicant, programs, stats, signals)
    for other in (
        dataclasses.replace(applicant, step2_ck_score=255, research_items=12, aoa_member=True),
        dataclasses.replace(applicant, degree="DO", comlex_level2_score=600),
        dataclasses.replace(applicant, visa_need="J1", school_state=None),
    ):
        rebuilt = for_applicant(rows, applicant, other, programs, stats, signals)
        assert np.array_equal(rebuilt, build_features(other, programs, stats, signals), equal_nan=True)
