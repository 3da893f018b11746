"""Preferences on the real stack: a saved profile's home city, settings and sizes are stored with its version
and order the list the workers compute; an unknown city is refused by name."""

import math

import pytest
from support import add_student, profile, wait_for_recommendations

pytestmark = pytest.mark.integration


def miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 3958.8 * math.asin(math.sqrt(h))


def internal_medicine(**preferences) -> dict:
    return profile(
        step2=248, preferences={"specialties": ["Internal Medicine"], "application_budget": 40} | preferences
    )


async def test_a_saved_home_city_orders_the_list_by_distance(http, new_school):
    school = await new_school()
    cities = {
        c["name"]: (c["latitude"], c["longitude"]) for c in (await http.get("/v1/cities", headers=school.admin)).json()
    }
    assert "Boston, MA" in cities and "Seattle, WA" in cities

    def mean_miles(body: dict, home: str) -> float:
        placed = [cities[f"{p['city']}, {p['state']}"] for p in body["application_list"] if p["city"]]
        return sum(miles(point, cities[home]) for point in placed) / len(placed)

    lists = {}
    for home in ("Boston, MA", "Seattle, WA", ""):
        student = await add_student(http, school)
        body = internal_medicine(home_city=home.lower(), preferred_settings=["academic"], preferred_sizes=["large"])
        saved = await http.put(f"/v1/students/{student}/profile", json=body, headers=school.admin)
        assert saved.status_code == 202, saved.text
        stored = (await http.get(f"/v1/students/{student}/profile", headers=school.admin)).json()["profile"]
        assert stored["preferences"]["home_city"] == home  # written the catalog's way
        assert stored["preferences"]["preferred_settings"] == ["academic"]
        assert stored["preferences"]["preferred_sizes"] == ["large"]
        lists[home] = await wait_for_recommendations(http, student, school.admin, version=1)

    boston, seattle, nowhere = lists["Boston, MA"], lists["Seattle, WA"], lists[""]
    assert mean_miles(boston, "Boston, MA") < 0.5 * mean_miles(nowhere, "Boston, MA")
    assert mean_miles(seattle, "Seattle, WA") < 0.5 * mean_miles(nowhere, "Seattle, WA")
    assert mean_miles(boston, "Boston, MA") < mean_miles(seattle, "Boston, MA")
    for body in lists.values():
        assert len(body["application_list"]) == 40
    notes = " ".join(boston["notes"])
    if "no public fact distinguishes them" in notes:
        assert "distance from Boston, MA" in notes and "academic setting" in notes and "large size" in notes


async def test_an_unknown_home_city_is_refused_naming_the_closest(http, new_school):
    school = await new_school()
    student = await add_student(http, school)
    body = internal_medicine(home_city="Bostn, MA")
    for reply in (
        await http.put(f"/v1/students/{student}/profile", json=body, headers=school.admin),
        await http.post(f"/v1/students/{student}/what-if", json=body, headers=school.admin),
        await http.post("/v1/try-it", json=body),
    ):
        assert reply.status_code == 422, reply.text
        [error] = reply.json()["detail"]
        assert error["loc"] == ["body", "preferences", "home_city"] and "did you mean Boston, MA" in error["msg"]
    bad_setting = internal_medicine(preferred_settings=["university"])
    refused = await http.put(f"/v1/students/{student}/profile", json=bad_setting, headers=school.admin)
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][:3] == [
        "body",
        "preferences",
        "preferred_settings",
    ]
