"""Ranking on the real stack: profile updates in, stored recommendations and RecommendationsGenerated out."""

import asyncio
import dataclasses
import uuid

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from devstack import Endpoints, ServiceProcess, free_port
from infra import TEST_STATE_DIR
from smartpick.events.v1 import profile_events_pb2, recommendation_events_pb2
from smartpick.profile.v1 import profile_pb2
from smartpick.ranking.v1 import ranking_pb2, ranking_pb2_grpc
from support import add_student, profile, read_topic, wait_for_recommendations

from smartpick_platform import caller_context, local_ca
from smartpick_platform.grpc_channel import connect
from smartpick_platform.kafka import cloudevent_headers, header_map
from smartpick_platform.kafka_access import ADMIN_USER
from smartpick_platform.topics import PROFILE_UPDATED, PROFILE_UPDATED_DLQ, RECOMMENDATIONS_GENERATED

pytestmark = pytest.mark.integration

PROFILE_UPDATED_TYPE = profile_events_pb2.ProfileUpdated.DESCRIPTOR.full_name


def synthetic_event(tenant_id: str, student_id: str, version: int, research: int) -> profile_events_pb2.ProfileUpdated:
    """A ProfileUpdated as the gateway would publish it, for tests that need control over order."""
    return profile_events_pb2.ProfileUpdated(
        event_id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        student_id=student_id,
        profile_version=version,
        profile=profile_pb2.ApplicantProfile(
            degree_type=profile_pb2.DEGREE_TYPE_MD,
            step2_ck_score=250,
            research_items=research,
            visa_need=profile_pb2.VISA_NEED_NONE,
            preferences=profile_pb2.Preferences(specialties=["Dermatology"], application_budget=30),
        ),
    )


async def publish(endpoints: Endpoints, messages: list[tuple[bytes, bytes]], user: str = ADMIN_USER) -> None:
    """ProfileUpdated messages as a producer keeping the contract sends them: with CloudEvents headers."""
    producer = AIOKafkaProducer(**endpoints.kafka_options(user), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for key, value in messages:
            headers = cloudevent_headers(event_id=str(uuid.uuid4()), event_type=PROFILE_UPDATED_TYPE, source="/tests")
            await producer.send_and_wait(PROFILE_UPDATED.name, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


async def ranking_stub(stack, school_id: str):
    """The ranking service as the gateway calls it, for an admin of the school."""
    caller_context.act_as(caller_context.CallerContext(role="school_admin", tenant_id=school_id))
    gateway = local_ca.identity(stack.endpoints.identity_dir, "gateway")
    channel = connect(gateway, f"127.0.0.1:{stack.ports.grpc['ranking']}", "ranking")
    return channel, ranking_pb2_grpc.RankingServiceStub(channel)


async def test_a_profile_update_leads_to_one_stored_list_and_one_event(stack, http, new_school):
    school = await new_school()
    student = await add_student(http, school)
    body = profile(step2=255, research=15)
    body["preferences"]["signaled_program_ids"] = []
    reply = await http.put(f"/v1/students/{student}/profile", json=body, headers=school.admin)
    assert reply.status_code == 202

    result = await wait_for_recommendations(http, student, school.admin, version=1)
    assert result["status"] == "ready" and result["model_version"]
    assert "public aggregate data" in result["estimate_note"]
    assert 0 < len(result["application_list"]) <= 60
    assert {p["specialty"] for p in result["application_list"]} == {"Dermatology"}
    probabilities = [c["match_probability"] for c in result["curve"]]
    assert probabilities == sorted(probabilities) and result["list_match_probability"] == pytest.approx(
        probabilities[-1]
    )
    first = result["application_list"][0]
    assert 0 <= first["match_probability"] <= first["interview_probability"] <= 1
    assert first["tier"] in {"reach", "target", "likely"}

    records = await read_topic(stack.endpoints, RECOMMENDATIONS_GENERATED.name, student, expect=1)
    assert len(records) == 1
    event = recommendation_events_pb2.RecommendationsGenerated.FromString(records[0].value)
    assert (event.profile_version, event.model_version) == (1, result["model_version"])
    assert event.specialties == ["Dermatology"] and len(event.application_list) == len(result["application_list"])
    assert header_map(records[0].headers)["ce_type"] == "smartpick.events.v1.RecommendationsGenerated"


async def test_an_older_event_after_a_newer_one_never_replaces_the_newer_result(stack, new_school):
    school = await new_school()
    student = str(uuid.uuid4())
    newer, older = synthetic_event(school.school_id, student, 2, 30), synthetic_event(school.school_id, student, 1, 2)
    await publish(
        stack.endpoints,
        [(student.encode(), newer.SerializeToString()), (student.encode(), older.SerializeToString())],
    )
    records = await read_topic(stack.endpoints, RECOMMENDATIONS_GENERATED.name, student, expect=2)
    assert [
        recommendation_events_pb2.RecommendationsGenerated.FromString(r.value).profile_version for r in records
    ] == [2, 1]
    channel, stub = await ranking_stub(stack, school.school_id)
    async with channel:
        latest = await stub.GetRecommendations(
            ranking_pb2.GetRecommendationsRequest(tenant_id=school.school_id, student_id=student), timeout=5
        )
    assert latest.recommendations.profile_version == 2


async def test_two_workers_share_the_partitions_and_store_each_version_once(stack, new_school):
    ports = dataclasses.replace(stack.ports, ops={**stack.ports.ops, "ranking-worker": free_port()})
    second = ServiceProcess("ranking-worker", stack.endpoints, ports, TEST_STATE_DIR / "logs").start().wait_ready()
    try:
        await asyncio.sleep(5)  # let the group rebalance onto two members
        school = await new_school()
        students = [str(uuid.uuid4()) for _ in range(40)]
        await publish(
            stack.endpoints,
            [(s.encode(), synthetic_event(school.school_id, s, 1, 5).SerializeToString()) for s in students],
        )
        conn = await asyncpg.connect(stack.endpoints.database_urls["ranking"])
        try:
            await conn.execute("SELECT set_config('app.tenant_id', $1, false)", school.school_id)
            for _ in range(120):
                stored = await conn.fetch("SELECT student_id, profile_version FROM recommendations")
                if len(stored) >= len(students):
                    break
                await asyncio.sleep(0.5)
        finally:
            await conn.close()
        assert sorted(str(r["student_id"]) for r in stored) == sorted(students)
        async with httpx.AsyncClient() as client:
            for port in (stack.ports.ops["ranking-worker"], ports.ops["ranking-worker"]):
                metrics = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
                assert 'smartpick_ranking_messages_total{outcome="recommended"}' in metrics, port
    finally:
        second.stop()


async def test_a_poison_message_goes_to_the_dead_letter_topic_and_the_stream_goes_on(stack, new_school):
    school = await new_school()
    garbage_key, bad_tenant_key, good = f"poison-{uuid.uuid4()}", str(uuid.uuid4()), str(uuid.uuid4())
    await publish(
        stack.endpoints,
        [
            (garbage_key.encode(), b"\xff\x00 not protobuf"),
            (bad_tenant_key.encode(), synthetic_event("not-a-uuid", bad_tenant_key, 1, 1).SerializeToString()),
            (good.encode(), synthetic_event(school.school_id, good, 1, 3).SerializeToString()),
        ],
    )
    for key, reason in [(garbage_key, "not a ProfileUpdated"), (bad_tenant_key, "tenant_id must be a UUID")]:
        # Every consumer group of the topic (ranking, mentorship) parks its own copy: wait for both.
        parked = await read_topic(stack.endpoints, PROFILE_UPDATED_DLQ.name, key, expect=2)
        ours = [header_map(r.headers) for r in parked if header_map(r.headers)["x-dlq-group"] == "smartpick-ranking"]
        assert len(ours) == 1
        headers = ours[0]
        assert reason in headers["x-dlq-reason"]
        assert headers["x-dlq-source"].startswith(PROFILE_UPDATED.name)
    produced = await read_topic(stack.endpoints, RECOMMENDATIONS_GENERATED.name, good, expect=1)
    assert len(produced) == 1


async def test_what_if_scores_without_storing(stack, http, new_school):
    school = await new_school()
    student = await add_student(http, school)
    reply = await http.post(
        f"/v1/students/{student}/what-if", json=profile(step2=262, research=25), headers=school.admin
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "what-if" and reply.json()["application_list"]
    bad = await http.post(f"/v1/students/{student}/what-if", json=profile(step2=400), headers=school.admin)
    assert bad.status_code == 422 and ["body", "step2_ck_score"] in [e["loc"] for e in bad.json()["detail"]]
    pending = await http.get(f"/v1/students/{student}/recommendations", headers=school.admin)
    assert pending.status_code == 404  # no profile was stored, so there is nothing to recommend


async def test_program_search_and_a_schools_own_facts(stack, http, new_school):
    school = await new_school()
    found = await http.get("/v1/programs", params={"specialty": "Dermatology", "state": "CA"}, headers=school.admin)
    assert found.status_code == 200
    programs = found.json()["programs"]
    assert programs and {p["state"] for p in programs} == {"CA"} and found.json()["total"] == len(programs)
    negative = await http.get("/v1/programs", params={"page_token": "-1"}, headers=school.admin)
    assert negative.status_code == 422 and "page_token" in negative.text
    near = await http.get(
        "/v1/programs",
        params={"specialty": "Dermatology", "near_lat": 34.05, "near_lon": -118.24, "within_miles": 30},
        headers=school.admin,
    )
    assert near.status_code == 200 and 0 < near.json()["total"] < found.json()["total"] + 1

    target = programs[0]["program_id"]
    csv_bad = f"program_id,sponsors_visa,img_share\n{target},maybe,0.2\n0000000000,yes,0.1\n"
    rejected = await http.put(
        "/v1/programs/facts", content=csv_bad, headers={**school.admin, "Content-Type": "text/csv"}
    )
    assert rejected.status_code == 422
    assert [(e["row"], e["column"]) for e in rejected.json()["errors"]] == [(1, "sponsors_visa"), (2, "program_id")]
    accepted = await http.put(
        "/v1/programs/facts",
        content=f"program_id,sponsors_visa,img_share\n{target},no,0.15\n",
        headers={**school.admin, "Content-Type": "text/csv"},
    )
    assert accepted.status_code == 200 and accepted.json() == {"updated_programs": 1, "rescoring_students": 0}
    mine = (
        await http.get(
            "/v1/programs", params={"q": programs[0]["name"][:20], "specialty": "Dermatology"}, headers=school.admin
        )
    ).json()
    ours = next(p for p in mine["programs"] if p["program_id"] == target)
    assert {
        "sponsors_visa": False,
        "sponsors_j1": False,
        "sponsors_h1b": False,
        "img_share": 0.15,
    }.items() <= ours.items()
    assert ours["fact_sources"][-1]["facts"] == "your school's facts"
    other = await new_school()
    theirs = (
        await http.get(
            "/v1/programs", params={"q": programs[0]["name"][:20], "specialty": "Dermatology"}, headers=other.admin
        )
    ).json()
    public = next(p for p in theirs["programs"] if p["program_id"] == target)
    assert public["img_share"] != 0.15 and public["fact_sources"] == programs[0]["fact_sources"]
    assert all(source["facts"] != "your school's facts" for source in public["fact_sources"])
