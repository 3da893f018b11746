"""The preferences a profile takes (home city, settings, sizes): bounds, 422s naming the field and the
closest known names, and their round trip to the contract."""

import pytest
from fastapi import HTTPException
from pydantic import ValidationError
from smartpick.profile.v1 import profile_pb2
from smartpick.ranking.v1 import ranking_pb2

from smartpick_gateway.adapters.catalog_names import CityNames, SpecialtyNames
from smartpick_gateway.entrypoints.schemas import ProfileIn, require_known_catalog_names


class FakeRankingStub:
    """The ranking service's listing calls, counted."""

    def __init__(self):
        self.calls = []

    async def ListCities(self, request):
        self.calls.append("ListCities")
        return ranking_pb2.ListCitiesResponse(
            cities=[ranking_pb2.City(name=n, state=n[-2:]) for n in ("Boston, MA", "Worcester, MA", "Austin, TX")]
        )

    async def ListSpecialties(self, request):
        self.calls.append("ListSpecialties")
        return ranking_pb2.ListSpecialtiesResponse(specialties=[ranking_pb2.Specialty(name="Internal Medicine")])


class FakeRanking:
    """A ServiceClient of the ranking service: its typed stub as `rpc`."""

    def __init__(self):
        self.rpc = FakeRankingStub()

    @property
    def calls(self) -> list[str]:
        return self.rpc.calls


def profile(**preferences) -> ProfileIn:
    prefs = {"specialties": ["Internal Medicine"], "application_budget": 30} | preferences
    return ProfileIn.model_validate({"degree_type": "MD", "preferences": prefs})


async def check(body: ProfileIn, names: tuple[SpecialtyNames, CityNames] | None = None) -> list[dict]:
    ranking = FakeRanking()
    names = names or (SpecialtyNames(ranking), CityNames(ranking))
    try:
        await require_known_catalog_names(*names, body)
    except HTTPException as error:
        assert error.status_code == 422
        return error.detail
    return []


async def test_an_unknown_home_city_is_a_422_naming_the_field_and_the_closest_cities():
    (error,) = await check(profile(home_city="Bostn, MA"))
    assert error["loc"] == ["body", "preferences", "home_city"]
    assert "unknown city 'Bostn, MA'" in error["msg"] and "did you mean Boston, MA" in error["msg"]
    assert "GET /v1/cities" in error["msg"]
    (error,) = await check(profile(home_city="Lowell, MA"))
    assert "cities of MA with programs: Boston, MA, Worcester, MA" in error["msg"]


async def test_a_known_city_in_other_case_or_spacing_is_written_the_catalogs_way():
    body = profile(home_city="  boston ,ma")
    assert await check(body) == []
    assert body.to_proto().preferences.home_city == "Boston, MA"


async def test_an_unknown_specialty_and_city_are_named_together_and_the_names_are_cached():
    ranking = FakeRanking()
    names = (SpecialtyNames(ranking), CityNames(ranking))
    errors = await check(profile(specialties=["Internal Medicin"], home_city="Austen, TX"), names)
    assert [e["loc"][-1] for e in errors] == ["specialties[0]", "home_city"]
    assert await check(profile(home_city="Austin, TX"), names) == []
    assert sorted(ranking.calls) == ["ListCities", "ListSpecialties"]


@pytest.mark.parametrize(
    ("preferences", "field"),
    [
        ({"preferred_settings": ["university"]}, ("preferences", "preferred_settings", 0)),
        ({"preferred_sizes": ["huge"]}, ("preferences", "preferred_sizes", 0)),
        ({"preferred_sizes": ["small"] * 4}, ("preferences", "preferred_sizes")),
        ({"home_city": "x" * 101}, ("preferences", "home_city")),
    ],
)
def test_settings_sizes_and_city_have_bounds_named_by_field(preferences, field):
    with pytest.raises(ValidationError) as raised:
        profile(**preferences)
    assert [e["loc"] for e in raised.value.errors()] == [field]


def test_preferences_round_trip_through_the_contract():
    body = profile(home_city="Boston, MA", preferred_settings=["academic", "community"], preferred_sizes=["large"])
    proto = body.to_proto()
    assert list(proto.preferences.preferred_settings) == [
        profile_pb2.PROGRAM_SETTING_ACADEMIC,
        profile_pb2.PROGRAM_SETTING_COMMUNITY,
    ]
    assert list(proto.preferences.preferred_sizes) == [profile_pb2.PROGRAM_SIZE_LARGE]
    assert ProfileIn.from_proto(proto) == body
    assert ProfileIn.from_proto(profile().to_proto()).preferences.preferred_settings == []
