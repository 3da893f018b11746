"""Mentorship on the real stack: requests and suggestions over HTTP, events keeping requests current,
a round proposed, published, accepted and declined, one MentorshipMatched per transition on Kafka."""

import asyncio
import uuid

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from smartpick.events.v1 import mentorship_events_pb2, recommendation_events_pb2
from smartpick.ranking.v1 import ranking_pb2
from support import add_student, bearer, profile, read_topic

from smartpick_platform.kafka import cloudevent_headers, header_map
from smartpick_platform.topics import MENTORSHIP_MATCHED, RECOMMENDATIONS_GENERATED, RECOMMENDATIONS_GENERATED_DLQ

pytestmark = pytest.mark.integration

KIND = {
    v: k.removeprefix("MENTORSHIP_TRANSITION_").lower() for k, v in mentorship_events_pb2.MentorshipTransition.items()
}


def mentor_body(name: str, specialty="Dermatology", state="CA", capacity=1, **fields) -> dict:
    return {
        "display_name": name,
        "specialty": specialty,
        "state": state,
        "institution": f"{name} Hospital",
        "capacity": capacity,
        "research_interests": ["dermatopathology"],
        "availability_hours_per_month": 4,
        **fields,
    }


async def register_mentor(http: httpx.AsyncClient, school, **fields) -> tuple[str, dict]:
    reply = await http.post("/v1/mentorship/mentors", json=mentor_body(**fields), headers=school.admin)
    assert reply.status_code == 201, reply.text
    mentor_id = reply.json()["mentor_id"]
    key = await http.post(f"/v1/mentorship/mentors/{mentor_id}/api-keys", headers=school.admin)
    assert key.status_code == 201, key.text
    return mentor_id, bearer(key.json()["api_key"])


async def ask_for_mentor(http: httpx.AsyncClient, school, student: str, **fields) -> dict:
    body = {"goals": ["research", "interviews"], "preferred_specialties": ["Dermatology"], **fields}
    reply = await http.put(f"/v1/students/{student}/mentorship-request", json=body, headers=school.admin)
    assert reply.status_code == 200, reply.text
    return reply.json()


async def eventually(check, seconds: float = 20):
    """Polls `check` (an async callable returning a value or None) until it returns something."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if (found := await check()) is not None:
            return found
        await asyncio.sleep(0.3)
    raise AssertionError("condition not met in time")


async def test_a_request_leads_to_suggestions_kept_current_by_the_students_events(stack, http, new_school):
    school = await new_school()
    near, _ = await register_mentor(http, school, name="Dr Near", state="CA")
    await register_mentor(http, school, name="Dr Far", state="NY", research_interests=[])
    await register_mentor(http, school, name="Dr Bones", specialty="Orthopaedic Surgery")
    student = await add_student(http, school)
    saved = await http.put(f"/v1/students/{student}/profile", json=profile(), headers=school.admin)
    assert saved.status_code == 202

    await ask_for_mentor(http, school, student, research_interests=["Dermatopathology"], preferred_states=["CA"])
    reply = await http.get(f"/v1/students/{student}/mentor-suggestions", params={"limit": 5}, headers=school.admin)
    assert reply.status_code == 200, reply.text
    suggestions = reply.json()["suggestions"]
    assert [s["mentor"]["display_name"] for s in suggestions] == ["Dr Near", "Dr Far"]
    assert suggestions[0]["mentor"]["mentor_id"] == near and suggestions[0]["score"] > suggestions[1]["score"]
    criteria = {r["criterion"] for r in suggestions[0]["reasons"]}
    assert {"specialty", "research", "geography"} <= criteria

    async def profile_applied():
        request = (await http.get(f"/v1/students/{student}/mentorship-request", headers=school.admin)).json()
        return request if request["effective"]["profile_version"] == 1 else None

    await eventually(profile_applied)

    # The ranking service publishes these for real (it may already have for version 1); a plain producer
    # stands in for it with a version the ranking service has not scored, so the two never race.
    event = recommendation_events_pb2.RecommendationsGenerated(
        event_id=str(uuid.uuid4()),
        tenant_id=school.school_id,
        student_id=student,
        profile_version=2,
        specialties=["Dermatology", "Internal Medicine"],
        application_list=[
            ranking_pb2.ProgramRecommendation(program_id="0801100001", name="Dr Far Hospital Dermatology", state="NY")
        ],
    )
    producer = AIOKafkaProducer(**stack.endpoints.kafka_options())
    await producer.start()
    try:
        for _ in range(2):  # a redelivery changes nothing
            await producer.send_and_wait(
                RECOMMENDATIONS_GENERATED.name,
                event.SerializeToString(),
                key=student.encode(),
                headers=cloudevent_headers(
                    event_id=event.event_id, event_type="smartpick.events.v1.RecommendationsGenerated", source="/tests"
                ),
            )
    finally:
        await producer.stop()

    async def recommendations_applied():
        request = (await http.get(f"/v1/students/{student}/mentorship-request", headers=school.admin)).json()
        return request if request["effective"]["recommendations_profile_version"] == 2 else None

    effective = (await eventually(recommendations_applied))["effective"]
    assert effective["specialties"] == ["Dermatology", "Internal Medicine"]
    assert effective["states"] == ["CA", "NY"]
    assert effective["institution_targets"] == ["Dr Far Hospital Dermatology"]
    reply = await http.get(f"/v1/students/{student}/mentor-suggestions", headers=school.admin)
    far = next(s for s in reply.json()["suggestions"] if s["mentor"]["display_name"] == "Dr Far")
    assert "institution" in {r["criterion"] for r in far["reasons"]}


async def test_a_round_is_reviewed_published_answered_and_each_transition_is_one_event(stack, http, new_school):
    school = await new_school()
    first, first_key = await register_mentor(http, school, name="Dr First", state="CA")
    second, second_key = await register_mentor(http, school, name="Dr Second", state="OR", research_interests=[])
    students = [await add_student(http, school) for _ in range(2)]
    for student in students:
        await ask_for_mentor(http, school, student, preferred_states=["CA"], research_interests=["dermatopathology"])

    drafted = await http.post("/v1/mentorship/rounds", headers=school.admin)
    assert drafted.status_code == 201, drafted.text
    round_ = drafted.json()
    assert round_["status"] == "draft" and round_["cohort_size"] == 2 and len(round_["proposals"]) == 2
    assert {p["mentor_id"] for p in round_["proposals"]} == {first, second}
    assert (await http.get(f"/v1/mentorship/mentors/{first}/inbox", headers=first_key)).json()["pending"] == []

    reviewed = await http.get(f"/v1/mentorship/rounds/{round_['round_id']}", headers=school.admin)
    assert reviewed.json()["proposals"] == round_["proposals"]
    published = await http.post(f"/v1/mentorship/rounds/{round_['round_id']}/publish", headers=school.admin)
    assert published.status_code == 200 and published.json()["status"] == "published"

    inbox = (await http.get(f"/v1/mentorship/mentors/{first}/inbox", headers=first_key)).json()
    (offer,) = inbox["pending"]
    for _ in range(2):  # answering twice is one transition
        accepted = await http.post(f"/v1/mentorship/matches/{offer['match_id']}/accept", headers=first_key)
        assert accepted.status_code == 200 and accepted.json()["match"]["status"] == "accepted"
    refused = await http.post(f"/v1/mentorship/matches/{offer['match_id']}/decline", headers=first_key)
    assert refused.status_code == 409

    # A new mentor registers; the second mentor declines, so that student gets the next best (the new one).
    third, _ = await register_mentor(http, school, name="Dr Third", state="NY")
    (other,) = (await http.get(f"/v1/mentorship/mentors/{second}/inbox", headers=second_key)).json()["pending"]
    declined = await http.post(
        f"/v1/mentorship/matches/{other['match_id']}/decline", json={"note": "on leave"}, headers=second_key
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["match"]["status"] == "declined"
    assert declined.json()["next_proposal"]["mentor_id"] == third

    # Re-matching keeps the accepted match and the new proposal: nobody is left to assign.
    again = (await http.post("/v1/mentorship/rounds", headers=school.admin)).json()
    assert (again["cohort_size"], again["kept_matches"], again["proposals"]) == (0, 2, [])

    ended = await http.post(
        f"/v1/mentorship/matches/{offer['match_id']}/end", json={"feedback": "matched!", "rating": 5}, headers=first_key
    )
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    mine = (await http.get(f"/v1/students/{offer['student_id']}/mentor-matches", headers=school.admin)).json()
    assert [m["status"] for m in mine["matches"]] == ["ended"] and mine["matches"][0]["rating"] == 5

    accepted_student, declined_student = offer["student_id"], other["student_id"]
    records = await read_topic(stack.endpoints, MENTORSHIP_MATCHED.name, accepted_student, expect=3)
    events = [mentorship_events_pb2.MentorshipMatched.FromString(r.value) for r in records]
    assert [KIND[e.transition] for e in events] == ["proposed", "accepted", "ended"]
    assert {e.match_id for e in events} == {offer["match_id"]} and events[-1].rating == 5
    assert len({e.event_id for e in events}) == 3
    assert header_map(records[0].headers)["ce_type"] == "smartpick.events.v1.MentorshipMatched"
    assert events[0].score > 0 and events[0].reasons and events[0].tenant_id == school.school_id

    records = await read_topic(stack.endpoints, MENTORSHIP_MATCHED.name, declined_student, expect=3)
    events = [mentorship_events_pb2.MentorshipMatched.FromString(r.value) for r in records]
    assert [(KIND[e.transition], e.mentor_id) for e in events] == [
        ("proposed", second),
        ("declined", second),
        ("proposed", third),
    ]
    assert events[1].note == "on leave"


async def test_an_unusable_event_goes_to_the_dead_letter_topic(stack):
    key = str(uuid.uuid4())
    producer = AIOKafkaProducer(**stack.endpoints.kafka_options())
    await producer.start()
    try:
        headers = cloudevent_headers(
            event_id=key, event_type="smartpick.events.v1.RecommendationsGenerated", source="/tests"
        )
        await producer.send_and_wait(
            RECOMMENDATIONS_GENERATED.name, b"\xff\xff not protobuf", key=key.encode(), headers=headers
        )
    finally:
        await producer.stop()
    (parked,) = await read_topic(stack.endpoints, RECOMMENDATIONS_GENERATED_DLQ.name, key, expect=1)
    headers = header_map(parked.headers)
    assert "RecommendationsGenerated" in headers["x-dlq-reason"] and headers["x-dlq-group"] == "smartpick-mentorship"


async def test_mentorship_stays_inside_the_school(stack, http, new_school):
    school, other_school = await new_school(), await new_school()
    mentor, _ = await register_mentor(http, school, name="Dr Home")
    _, foreign_key = await register_mentor(http, other_school, name="Dr Away")
    student = await add_student(http, school)
    await ask_for_mentor(http, school, student)
    round_ = (await http.post("/v1/mentorship/rounds", headers=school.admin)).json()
    (proposal,) = round_["proposals"]
    await http.post(f"/v1/mentorship/rounds/{round_['round_id']}/publish", headers=school.admin)

    assert (
        await http.get(f"/v1/mentorship/rounds/{round_['round_id']}", headers=other_school.admin)
    ).status_code == 404
    assert (await http.get(f"/v1/mentorship/mentors/{mentor}", headers=other_school.admin)).status_code == 404
    suggestions = await http.get(f"/v1/students/{student}/mentor-suggestions", headers=other_school.admin)
    assert suggestions.status_code == 404
    stolen = await http.put(
        f"/v1/students/{student}/mentorship-request", json={"goals": ["research"]}, headers=other_school.admin
    )
    assert stolen.status_code == 404
    answer = await http.post(f"/v1/mentorship/matches/{proposal['match_id']}/accept", headers=foreign_key)
    assert answer.status_code == 404
    issued = await http.post(
        f"/v1/schools/{school.school_id}/api-keys",
        json={"role": "student", "student_id": student},
        headers=school.admin,
    )
    student_key = bearer(issued.json()["api_key"])
    assert (await http.post("/v1/mentorship/rounds", headers=student_key)).status_code == 403
    assert (
        await http.post(f"/v1/mentorship/matches/{proposal['match_id']}/accept", headers=student_key)
    ).status_code == 403
    bad = await http.post(
        "/v1/mentorship/mentors", json=mentor_body("Dr Bad", state="California"), headers=school.admin
    )
    assert bad.status_code == 422 and ["body", "state"] in [e["loc"] for e in bad.json()["detail"]]
