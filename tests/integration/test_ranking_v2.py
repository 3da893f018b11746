"""Ranking v2 on the real stack: inputs checked by name, whole specialties paged, new facts re-scored."""

import pytest
from smartpick.events.v1 import recommendation_events_pb2
from support import add_student, profile, read_topic, wait_for_recommendations

from smartpick_platform.topics import RECOMMENDATIONS_GENERATED

pytestmark = pytest.mark.integration


async def test_specialties_are_listed_with_their_figures_and_an_unknown_one_is_refused_by_name(http, new_school):
    school = await new_school()
    listed = await http.get("/v1/specialties", headers=school.admin)
    assert listed.status_code == 200
    derm = next(s for s in listed.json() if s["name"] == "Dermatology")
    assert (derm["top_signals"], derm["second_signals"], derm["catalog_programs"]) == (3, 25, 145)
    assert "AAMC_SIG25" in derm["sources"]
    student = await add_student(http, school)
    body = profile(preferences={"specialties": ["Dermatolgy"], "application_budget": 30})
    refused = await http.put(f"/v1/students/{student}/profile", json=body, headers=school.admin)
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["loc"] == ["body", "preferences", "specialties[0]"] and "did you mean Dermatology" in error["msg"]
    what_if = await http.post(f"/v1/students/{student}/what-if", json=body, headers=school.admin)
    assert what_if.status_code == 422 and "Dermatology" in what_if.text
    bad_state = profile(
        preferences={"specialties": ["Dermatology"], "preferred_states": ["XX"], "application_budget": 9}
    )
    refused = await http.put(f"/v1/students/{student}/profile", json=bad_state, headers=school.admin)
    assert refused.status_code == 422 and "XX" in refused.text


async def test_a_whole_specialty_is_scored_and_paged(http, new_school):
    school = await new_school()
    student = await add_student(http, school)
    body = profile(step2=245, preferences={"specialties": ["Family Medicine"], "application_budget": 1000})
    seen, token = [], None
    while True:
        params = {"page_size": 300} | ({"page_token": token} if token else {})
        page = await http.post(f"/v1/students/{student}/what-if", json=body, headers=school.admin, params=params)
        assert page.status_code == 200, page.text
        seen += [p["program_id"] for p in page.json()["application_list"]]
        token = page.json()["next_page_token"]
        if not token:
            break
    total = page.json()["total_programs"]
    assert total == len(seen) == len(set(seen)) and total > 700  # Family Medicine has 813 programs
    assert page.json()["candidate_programs"] >= total


async def test_new_program_facts_apply_at_once_and_rescore_the_latest_profile(stack, http, new_school):
    school = await new_school()
    student = await add_student(http, school)
    body = profile(
        step2=250,
        degree_type="IMG",
        visa_need="h1b",
        preferences={"specialties": ["Dermatology"], "application_budget": 20},
    )
    assert (await http.put(f"/v1/students/{student}/profile", json=body, headers=school.admin)).status_code == 202
    before = await wait_for_recommendations(http, student, school.admin, version=1)
    first = before["application_list"][0]["program_id"]
    facts = f"program_id,sponsors_h1b\n{first},no\n"
    applied = await http.put("/v1/programs/facts", content=facts, headers={**school.admin, "Content-Type": "text/csv"})
    assert applied.status_code == 200 and applied.json()["rescoring_students"] == 1
    # A what-if answered after the facts request uses them at once.
    now = await http.post(f"/v1/students/{student}/what-if", json=body, headers=school.admin)
    assert first not in [p["program_id"] for p in now.json()["application_list"]]
    records = await read_topic(stack.endpoints, RECOMMENDATIONS_GENERATED.name, student, expect=2)
    events = [recommendation_events_pb2.RecommendationsGenerated.FromString(r.value) for r in records]
    assert [e.cause for e in events] == [
        recommendation_events_pb2.RECOMMENDATION_CAUSE_PROFILE_UPDATED,
        recommendation_events_pb2.RECOMMENDATION_CAUSE_PROGRAM_FACTS_CHANGED,
    ]
    assert events[1].profile_version == 1 and events[1].event_id != events[0].event_id
    assert first not in [p.program_id for p in events[1].application_list]
    after = await wait_for_recommendations(http, student, school.admin, version=1)
    assert first not in [p["program_id"] for p in after["application_list"]]
    assert (
        after["excluded"].get("no sponsorship of the visa you need", 0)
        >= before["excluded"].get("no sponsorship of the visa you need", 0) + 1
    )
