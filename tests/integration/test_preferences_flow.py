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

    def distances(body: dict, home: str) -> list[float]:
        """Miles from home of each listed program, in the list's order (the order to apply in)."""
        return [
            miles(cities[f"{p['city']}, {p['state']}"], cities[home]) for p in body["application_list"] if p["city"]
        ]

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

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
    # The programs a home city puts first are near it; the list as a whole leans towards it. (The objective
    # is the value of the best program that admits, so with a near-certain match the list still reaches out.)
    assert mean(distances(boston, "Boston, MA")[:10]) < 0.5 * mean(distances(nowhere, "Boston, MA")[:10])
    assert mean(distances(boston, "Boston, MA")) < mean(distances(nowhere, "Boston, MA"))
    assert mean(distances(boston, "Boston, MA")) < mean(distances(seattle, "Boston, MA"))
    assert mean(distances(seattle, "Seattle, WA")) < mean(distances(nowhere, "Seattle, WA"))

    def within_316(body: dict, home: str) -> int:  # value 0.8 and more
        return sum(d <= 316 for d in distances(body, home))

    assert within_316(boston, "Boston, MA") > within_316(nowhere, "Boston, MA")
    assert within_316(seattle, "Seattle, WA") > max(
        within_316(nowhere, "Seattle, WA"), within_316(boston, "Seattle, WA")
    )
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
