"""The student's preferences as portfolio values: distance from a home city, setting, size, unknowns,
and the list the optimizer makes of them when chances tie."""

import numpy as np
import pytest
from smartpick.profile.v1 import profile_pb2

from smartpick_ranking.data import load_fee_schedule, load_programs
from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.domain.chances import LatentFactor
from smartpick_ranking.domain.optimize import optimal_portfolio
from smartpick_ranking.domain.preferences import (
    OTHER_REGION_VALUE,
    SAME_REGION_VALUE,
    SPECIALTY_DECAY,
    UNKNOWN_VALUE,
    SizeBands,
    catalog_cities,
    distance_value,
    distance_values,
    miles_between,
    miles_from,
    preference_values,
    size_bands,
)
from smartpick_ranking.domain.recommend import recommend
from smartpick_ranking.service import RankingService

BOSTON = (42.3601, -71.0589)


def applicant(**overrides) -> Applicant:
    fields = dict(degree="MD", step2_ck_score=250, visa_need="none", specialties=("Internal Medicine",))
    return Applicant(**(fields | {"application_budget": 3} | overrides))


def im(number: int, **facts) -> Program:
    return Program(f"14000000{number:02d}", f"IM {number}", "Internal Medicine", **facts)


def test_great_circle_miles_match_a_known_distance():
    # Boston to Los Angeles is about 2,600 miles by great circle; a point to itself is 0.
    assert miles_between(BOSTON, (34.0522, -118.2437)) == pytest.approx(2597, rel=0.01)
    assert miles_between(BOSTON, BOSTON) == 0


def test_distance_value_is_full_near_home_and_falls_to_the_other_region_value_far_away():
    assert distance_value(0) == distance_value(100) == 1.0
    assert distance_value(10**2.5) == pytest.approx(0.8)  # half the tenfold between 100 and 1,000 miles
    assert distance_value(1000) == pytest.approx(OTHER_REGION_VALUE)
    assert distance_value(2600) == OTHER_REGION_VALUE
    assert distance_value(None) == OTHER_REGION_VALUE  # no location: never "near home"
    miles = np.linspace(0, 3000, 301)
    assert np.all(np.diff([distance_value(m) for m in miles]) <= 0)


def test_home_and_preferred_states_combine_as_the_better_of_the_two():
    near = im(1, state="NH", latitude=42.99, longitude=-71.46)  # Manchester NH, ~45 miles from Boston
    preferred_far = im(2, state="CA", latitude=34.05, longitude=-118.24)
    same_region_far = im(3, state="PA", latitude=40.44, longitude=-79.99)  # Pittsburgh, ~480 miles
    nowhere = im(4)
    a = applicant(home_city="Boston, MA", home=BOSTON, preferred_states=frozenset({"CA"}))
    values = preference_values(a, [near, preferred_far, same_region_far, nowhere])
    assert values[0] == 1.0 and values[1] == 1.0
    assert values[2] == round(distance_value(miles_between(BOSTON, (40.44, -79.99))), 2)
    assert OTHER_REGION_VALUE < values[2] < SAME_REGION_VALUE + 0.1
    assert values[3] == OTHER_REGION_VALUE


def test_settings_are_valued_by_steps_from_the_preferred_one_and_unknown_between():
    programs = [
        im(1, program_type="academic"),
        im(2, program_type="community_affiliated"),
        im(3, program_type="community"),
        im(4),
    ]
    values = preference_values(applicant(preferred_settings=frozenset({"academic"})), programs)
    assert values.tolist() == pytest.approx([1.0, 0.9, 0.8, UNKNOWN_VALUE])
    both_ends = preference_values(applicant(preferred_settings=frozenset({"academic", "community"})), programs)
    assert both_ends.tolist() == pytest.approx([1.0, 0.9, 1.0, UNKNOWN_VALUE])
    assert 0.8 < UNKNOWN_VALUE < 1.0


def test_sizes_are_read_against_the_programs_own_specialty():
    bands = {"Internal Medicine": SizeBands(12, 20), "Dermatology": SizeBands(3, 4)}
    small_im, large_derm = im(1, positions=10), Program("0800000001", "Derm", "Dermatology", positions=6)
    unknown = im(2)
    a = applicant(specialties=("Internal Medicine", "Dermatology"), preferred_sizes=frozenset({"small"}))
    values = preference_values(a, [small_im, large_derm, unknown], bands)
    assert values.tolist() == pytest.approx([1.0, SPECIALTY_DECAY * 0.8, UNKNOWN_VALUE])


def test_the_catalogs_size_bands_are_its_specialties_tertiles():
    programs = load_programs()
    bands = size_bands(programs)
    assert bands["Internal Medicine"] == SizeBands(12, 20)
    assert bands["Family Medicine"] == SizeBands(6, 8)
    assert bands["Dermatology"] == SizeBands(3, 4)
    assert bands[""] == SizeBands(4, 8)  # the whole catalog, for specialties with few known sizes
    im_sizes = [bands["Internal Medicine"].size_of(p.positions) for p in programs if p.specialty == "Internal Medicine"]
    known = [s for s in im_sizes if s]
    for size in ("small", "medium", "large"):
        assert 0.25 < known.count(size) / len(known) < 0.42


def test_catalog_cities_sit_at_their_programs_mean_point():
    cities = catalog_cities(load_programs())
    boston = cities["Boston, MA"]
    assert boston.state == "MA" and boston.programs > 50
    assert miles_between((boston.latitude, boston.longitude), BOSTON) < 5
    assert all(name == f"{name.rpartition(', ')[0]}, {c.state}" for name, c in cities.items())


def test_the_optimizer_takes_the_closer_program_when_chances_tie():
    far, near = im(1, latitude=34.05, longitude=-118.24), im(2, latitude=42.99, longitude=-71.46)
    a = applicant(home_city="Boston, MA", home=BOSTON)
    values = preference_values(a, [far, near])
    chosen = optimal_portfolio(np.array([0.3, 0.3]), values, 1, LatentFactor.of(0.9))
    assert chosen.order == [1]
    without_home = optimal_portfolio(
        np.array([0.3, 0.3]), preference_values(applicant(), [far, near]), 1, LatentFactor.of(0.9)
    )
    assert without_home.order == [0]  # ties otherwise go to catalog order


def flat_model(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every program alike: the public facts tell none apart."""
    return np.full(len(rows), 0.5), np.full(len(rows), 0.2)


def test_a_list_of_programs_alike_follows_the_preferences_and_says_so():
    programs = [
        im(1, latitude=34.05, longitude=-118.24, program_type="academic"),
        im(2, latitude=42.99, longitude=-71.46, program_type="community"),
        im(3, latitude=42.36, longitude=-71.06, program_type="academic"),
        im(4, latitude=40.71, longitude=-74.01, program_type="academic"),
    ]
    stats = {"Internal Medicine": SpecialtyStats("Internal Medicine")}
    a = applicant(home_city="Boston, MA", home=BOSTON, preferred_settings=frozenset({"academic"}))
    result = recommend(a, {"Internal Medicine": programs}, stats, flat_model, LatentFactor.of(0.9), load_fee_schedule())
    assert [s.program.name for s in result.application_list] == ["IM 3", "IM 4", "IM 2"]
    (note,) = [n for n in result.notes if "no public fact" in n]
    assert "distance from Boston, MA" in note and "academic setting" in note and "put 3 of them ahead" in note
    plain = recommend(
        applicant(), {"Internal Medicine": programs}, stats, flat_model, LatentFactor.of(0.9), load_fee_schedule()
    )
    assert [s.program.name for s in plain.application_list] == ["IM 1", "IM 2", "IM 3"]
    assert any("neither do your preferences" in n and "catalog order" in n for n in plain.notes)


def test_a_home_city_the_catalog_does_not_know_is_said_in_the_notes():
    stats = {"Internal Medicine": SpecialtyStats("Internal Medicine")}
    result = recommend(
        applicant(home_city="Atlantis, MA"),
        {"Internal Medicine": [im(1)]},
        stats,
        flat_model,
        LatentFactor.of(0.9),
        load_fee_schedule(),
    )
    assert any("Atlantis, MA is not in the program catalog" in n for n in result.notes)


def test_the_service_places_a_profiles_home_city_on_the_catalog_and_reads_its_settings_and_sizes():
    service = RankingService(None, None, load_programs(), {}, load_fee_schedule())
    profile = profile_pb2.ApplicantProfile(degree_type=profile_pb2.DEGREE_TYPE_MD)
    profile.preferences.home_city = "Boston, MA"
    profile.preferences.preferred_settings.append(profile_pb2.PROGRAM_SETTING_COMMUNITY_AFFILIATED)
    profile.preferences.preferred_sizes.extend([profile_pb2.PROGRAM_SIZE_SMALL, profile_pb2.PROGRAM_SIZE_MEDIUM])
    placed = service.applicant_of(profile)
    assert miles_between(placed.home, BOSTON) < 5
    assert placed.preferred_settings == {"community_affiliated"} and placed.preferred_sizes == {"small", "medium"}
    profile.preferences.home_city = "Atlantis, MA"
    assert service.applicant_of(profile).home is None
    assert service.applicant_of(profile_pb2.ApplicantProfile(degree_type=profile_pb2.DEGREE_TYPE_MD)).home_city is None


def test_distances_and_their_values_computed_at_once_are_the_scalar_ones():
    programs = load_programs()[::7]
    miles = miles_from(BOSTON, programs)
    for program, found in zip(programs, miles.tolist(), strict=True):
        if program.latitude is None or program.longitude is None:
            assert np.isnan(found)
        else:
            assert found == pytest.approx(miles_between(BOSTON, (program.latitude, program.longitude)), rel=1e-12)
    scalar = [distance_value(None if np.isnan(m) else m) for m in miles.tolist()]
    assert distance_values(miles).tolist() == pytest.approx(scalar, rel=1e-12)
