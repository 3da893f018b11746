import pytest
from smartpick.profile.v1 import profile_pb2

from smartpick_profile.domain import ProfileInvalid, needs_new_version, validate_profile


def valid_profile(**overrides) -> profile_pb2.ApplicantProfile:
    profile = profile_pb2.ApplicantProfile(
        degree_type=profile_pb2.DEGREE_TYPE_MD,
        step2_ck_score=255,
        step1_result=profile_pb2.STEP1_RESULT_PASS,
        research_items=12,
        visa_need=profile_pb2.VISA_NEED_NONE,
        preferences=profile_pb2.Preferences(
            specialties=["Dermatology"], preferred_states=["CA", "NY"], application_budget=60
        ),
    )
    for field, value in overrides.items():
        setattr(profile, field, value)
    return profile


def errors_of(profile) -> dict[str, str]:
    with pytest.raises(ProfileInvalid) as raised:
        validate_profile(profile)
    return raised.value.errors


def test_a_complete_profile_is_valid():
    validate_profile(valid_profile())


def test_step2_ck_out_of_range_names_the_field():
    assert "step2_ck_score" in errors_of(valid_profile(step2_ck_score=301))


def test_degree_type_is_required():
    assert errors_of(valid_profile(degree_type=profile_pb2.DEGREE_TYPE_UNSPECIFIED)) == {
        "degree_type": "is required (MD, DO or IMG)"
    }


def test_comlex_only_for_do_applicants():
    assert "comlex_level2_score" in errors_of(valid_profile(comlex_level2_score=600))
    validate_profile(valid_profile(degree_type=profile_pb2.DEGREE_TYPE_DO, comlex_level2_score=600))


def test_every_bad_field_is_reported_at_once():
    profile = valid_profile(research_items=-1, away_rotations=50)
    profile.preferences.application_budget = 0
    profile.preferences.preferred_states.append("California")
    profile.preferences.signaled_program_ids.append("123")
    assert set(errors_of(profile)) == {
        "research_items",
        "away_rotations",
        "preferences.application_budget",
        "preferences.preferred_states",
        "preferences.signaled_program_ids",
    }


def test_at_least_one_specialty():
    profile = valid_profile()
    del profile.preferences.specialties[:]
    assert "preferences.specialties" in errors_of(profile)


def test_an_unchanged_save_needs_no_new_version():
    assert needs_new_version(None, valid_profile())
    assert not needs_new_version(valid_profile(), valid_profile())
    assert needs_new_version(valid_profile(), valid_profile(research_items=13))


def test_lists_and_names_have_bounds_and_the_error_stays_small():
    profile = valid_profile()
    profile.preferences.signaled_program_ids.extend(["1" * 10] * 101)
    profile.preferences.preferred_states.extend(["CA"] * 61)
    profile.preferences.specialties[:] = ["D" * 101]
    errors = errors_of(profile)
    assert errors == {
        "preferences.signaled_program_ids": "name at most 100 signaled programs",
        "preferences.preferred_states": "name at most 60 states",
        "preferences.specialties": "specialty names have at most 100 characters",
    }


def test_a_long_list_of_bad_ids_is_named_briefly():
    profile = valid_profile()
    profile.preferences.signaled_program_ids.extend([f"x{i}" * 50 for i in range(50)])
    message = errors_of(profile)["preferences.signaled_program_ids"]
    assert "and 45 more" in message and len(message) < 300


def test_home_city_settings_and_sizes_are_checked_by_field():
    good = valid_profile()
    good.preferences.home_city = "Winston-Salem, NC"
    good.preferences.preferred_settings.extend([profile_pb2.PROGRAM_SETTING_ACADEMIC])
    good.preferences.preferred_sizes.extend([profile_pb2.PROGRAM_SIZE_SMALL, profile_pb2.PROGRAM_SIZE_LARGE])
    validate_profile(good)
    for city in ("Boston", "Boston, Massachusetts", "Boston, ma", ", MA", "Boston,MA", "B" * 101 + ", MA"):
        bad = valid_profile()
        bad.preferences.home_city = city
        assert set(errors_of(bad)) == {"preferences.home_city"}, city
    bad = valid_profile()
    bad.preferences.preferred_settings.extend([profile_pb2.PROGRAM_SETTING_UNSPECIFIED])
    bad.preferences.preferred_sizes.extend([profile_pb2.PROGRAM_SIZE_SMALL, profile_pb2.PROGRAM_SIZE_SMALL])
    assert errors_of(bad) == {
        "preferences.preferred_settings": "each must be academic, community_affiliated or community",
        "preferences.preferred_sizes": "name each one once",
    }


def test_an_unsaid_input_holds_nothing_and_is_named_once():
    unsaid = valid_profile()
    unsaid.unstated_inputs.extend(
        [profile_pb2.APPLICANT_INPUT_CLERKSHIP_HONORS, profile_pb2.APPLICANT_INPUT_HOME_PROGRAM]
    )
    validate_profile(unsaid)
    contradicted = valid_profile(clerkship_honors=2)
    contradicted.unstated_inputs.append(profile_pb2.APPLICANT_INPUT_CLERKSHIP_HONORS)
    assert "unstated_inputs" in errors_of(contradicted)["clerkship_honors"]
    twice = valid_profile()
    twice.unstated_inputs.extend([profile_pb2.APPLICANT_INPUT_AWAY_ROTATIONS] * 2)
    assert errors_of(twice) == {"unstated_inputs": "name each input once"}
    unknown = valid_profile()
    unknown.unstated_inputs.append(profile_pb2.APPLICANT_INPUT_UNSPECIFIED)
    assert "clerkship_honors, has_home_program, away_rotations" in errors_of(unknown)["unstated_inputs"]
