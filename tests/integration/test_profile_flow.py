"""The main flow on the real stack: HTTP -> gateway -> profile service (gRPC; version and event in one
transaction, its outbox) -> relay -> Kafka."""

import asyncio
import uuid

import asyncpg
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from smartpick.events.v1 import profile_events_pb2
from smartpick.profile.v1 import profile_pb2, profile_pb2_grpc
from support import add_student, bearer, profile, read_topic

from smartpick_platform import caller_context, local_ca
from smartpick_platform.grpc_channel import connect
from smartpick_platform.kafka import header_map
from smartpick_platform.topics import PROFILE_UPDATED

pytestmark = pytest.mark.integration


def decode(record) -> profile_events_pb2.ProfileUpdated:
    return profile_events_pb2.ProfileUpdated.FromString(record.value)


async def test_every_service_is_ready_and_serves_grpc_health(stack, http):
    assert (await http.get("/readyz")).json()["checks"] == {"database": True, "profile_service": True}
    gateway = local_ca.identity(stack.endpoints.identity_dir, "gateway")
    for service, port in stack.ports.grpc.items():
        async with connect(gateway, f"127.0.0.1:{port}", service) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING, service
        async with httpx.AsyncClient() as client:
            metrics = await client.get(f"http://127.0.0.1:{stack.ports.ops[service]}/metrics")
            assert metrics.status_code == 200 and "python_info" in metrics.text


async def test_each_profile_version_publishes_exactly_one_event_in_order(stack, http, new_school):
    school = await new_school()
    student = await add_student(http, school)
    versions = []
    for research in (5, 6, 7):
        reply = await http.put(f"/v1/students/{student}/profile", json=profile(research=research), headers=school.admin)
        assert reply.status_code == 202, reply.text
        versions.append(reply.json()["version"])
    assert versions == [1, 2, 3]

    records = await read_topic(stack.endpoints, PROFILE_UPDATED.name, student, expect=3)
    events = [decode(r) for r in records]
    assert [e.profile_version for e in events] == [1, 2, 3]
    assert [e.profile.research_items for e in events] == [5, 6, 7]
    assert {e.tenant_id for e in events} == {school.school_id}
    assert len({r.partition for r in records}) == 1
    headers = header_map(records[0].headers)
    assert headers["ce_id"] == events[0].event_id
    assert headers["ce_type"] == "smartpick.events.v1.ProfileUpdated"
    assert headers["ce_specversion"] == "1.0"
    assert headers["content-type"] == "application/protobuf"
    assert {"ce_source", "ce_time", "traceparent"} <= headers.keys()

    stored = await http.get(f"/v1/students/{student}/profile", headers=school.admin)
    assert stored.json()["version"] == 3 and stored.json()["profile"]["research_items"] == 7
    first = await http.get(f"/v1/students/{student}/profile", params={"version": 1}, headers=school.admin)
    assert first.json()["profile"]["research_items"] == 5


async def test_an_unchanged_save_makes_no_new_version_or_event(stack, http, new_school):
    school = await new_school()
    student = await add_student(http, school)
    first = await http.put(f"/v1/students/{student}/profile", json=profile(), headers=school.admin)
    again = await http.put(f"/v1/students/{student}/profile", json=profile(), headers=school.admin)
    assert (first.json()["version"], first.json()["created"]) == (1, True)
    assert (again.json()["version"], again.json()["created"]) == (1, False)
    records = await read_topic(stack.endpoints, PROFILE_UPDATED.name, student, expect=1)
    assert len(records) == 1


async def test_a_retried_request_with_the_same_idempotency_key_makes_no_second_event(stack, http, new_school):
    school = await new_school()
    student = await add_student(http, school)
    headers = {**school.admin, "Idempotency-Key": "save-1"}
    first = await http.put(f"/v1/students/{student}/profile", json=profile(research=3), headers=headers)
    retry = await http.put(f"/v1/students/{student}/profile", json=profile(research=3), headers=headers)
    assert first.status_code == retry.status_code == 202
    assert retry.json() == first.json()
    assert retry.headers.get("Idempotent-Replay") == "true"

    reused = await http.put(f"/v1/students/{student}/profile", json=profile(research=4), headers=headers)
    assert reused.status_code == 422 and reused.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]

    records = await read_topic(stack.endpoints, PROFILE_UPDATED.name, student, expect=1)
    assert [decode(r).profile_version for r in records] == [1]


async def test_concurrent_retries_with_one_key_store_one_version(stack, http, new_school):
    school = await new_school()
    student = await add_student(http, school)
    headers = {**school.admin, "Idempotency-Key": "burst"}
    replies = await asyncio.gather(
        *[http.put(f"/v1/students/{student}/profile", json=profile(), headers=headers) for _ in range(5)]
    )
    assert {r.status_code for r in replies} == {202}
    assert {r.json()["version"] for r in replies} == {1}
    records = await read_topic(stack.endpoints, PROFILE_UPDATED.name, student, expect=1)
    assert len(records) == 1


def _upsert_request(school, student: str, research: int, request_id: str) -> profile_pb2.UpsertProfileRequest:
    return profile_pb2.UpsertProfileRequest(
        tenant_id=school.school_id,
        student_id=student,
        profile=profile_pb2.ApplicantProfile(
            degree_type=profile_pb2.DEGREE_TYPE_MD,
            research_items=research,
            preferences=profile_pb2.Preferences(specialties=["Dermatology"], application_budget=30),
        ),
        request_id=request_id,
    )


async def _upserts_after_a_wait_for_the_lock(stack, school, student: str, requests) -> list:
    """The calls, each made while the test holds the student's row lock, so every one waits for it; the
    lock is let go once all are waiting. Returns each call's reply, or its error."""
    caller_context.act_as(caller_context.CallerContext(role="school_admin", tenant_id=school.school_id))
    gateway = local_ca.identity(stack.endpoints.identity_dir, "gateway")
    holder = await asyncpg.connect(stack.endpoints.database_urls["profile"])
    try:
        async with connect(gateway, f"127.0.0.1:{stack.ports.grpc['profile']}", "profile") as channel:
            stub = profile_pb2_grpc.ProfileServiceStub(channel)
            async with holder.transaction():
                await holder.execute("SELECT set_config('app.tenant_id', $1, true)", school.school_id)
                await holder.execute("SELECT 1 FROM students WHERE student_id = $1 FOR UPDATE", uuid.UUID(student))
                calls = [asyncio.ensure_future(stub.UpsertProfile(r, timeout=20)) for r in requests]
                for _ in range(200):
                    if await holder.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted") >= len(requests):
                        break
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError("the saves never waited for the student's lock")
            return await asyncio.gather(*calls, return_exceptions=True)
    finally:
        await holder.close()


async def test_retries_of_one_save_that_waited_for_the_lock_all_get_its_version(stack, http, new_school):
    """Retries with one request id racing each other: one stores the version, the others wait for its lock
    and must answer the same version (once a TypeError: the latest version was read from a stale snapshot)."""
    school = await new_school()
    student = await add_student(http, school)
    replies = await _upserts_after_a_wait_for_the_lock(
        stack, school, student, [_upsert_request(school, student, 4, "raced-retry")] * 3
    )
    assert not [r for r in replies if isinstance(r, BaseException)], replies
    assert [r.profile_version.version for r in replies] == [1, 1, 1]
    assert sorted(r.created for r in replies) == [False, False, True]
    assert len({r.event_id for r in replies}) == 1
    records = await read_topic(stack.endpoints, PROFILE_UPDATED.name, student, expect=1)
    assert [decode(r).event_id for r in records] == [replies[0].event_id]


async def test_two_first_saves_of_one_student_racing_get_versions_one_and_two(stack, http, new_school):
    school = await new_school()
    student = await add_student(http, school)
    requests = [_upsert_request(school, student, 4, "first-a"), _upsert_request(school, student, 5, "first-b")]
    replies = await _upserts_after_a_wait_for_the_lock(stack, school, student, requests)
    assert not [r for r in replies if isinstance(r, BaseException)], replies
    assert sorted(r.profile_version.version for r in replies) == [1, 2]
    assert all(r.created for r in replies)
    records = await read_topic(stack.endpoints, PROFILE_UPDATED.name, student, expect=2)
    assert [decode(r).profile_version for r in records] == [1, 2]


async def test_a_version_stored_for_a_gateway_that_died_before_answering_still_publishes(stack, http, new_school):
    """The gateway's one step is the profile service's call: here it is made, and the gateway "dies" before
    it answers or records anything. The version's event is in the profile service's outbox all the same."""
    school = await new_school()
    student = await add_student(http, school)
    caller_context.act_as(caller_context.CallerContext(role="school_admin", tenant_id=school.school_id))
    gateway = local_ca.identity(stack.endpoints.identity_dir, "gateway")
    async with connect(gateway, f"127.0.0.1:{stack.ports.grpc['profile']}", "profile") as channel:
        reply = await profile_pb2_grpc.ProfileServiceStub(channel).UpsertProfile(
            profile_pb2.UpsertProfileRequest(
                tenant_id=school.school_id,
                student_id=student,
                profile=profile_pb2.ApplicantProfile(
                    degree_type=profile_pb2.DEGREE_TYPE_MD,
                    preferences=profile_pb2.Preferences(specialties=["Dermatology"], application_budget=30),
                ),
                request_id="gateway-died",
            ),
            timeout=10,
        )
    assert reply.created and reply.profile_version.version == 1
    records = await read_topic(stack.endpoints, PROFILE_UPDATED.name, student, expect=1)
    assert [decode(r).event_id for r in records] == [reply.event_id]
    conn = await asyncpg.connect(stack.endpoints.database_urls["profile"])
    try:
        row = await conn.fetchrow(
            "SELECT publish_time, topic FROM outbox WHERE event_id = $1", uuid.UUID(reply.event_id)
        )
    finally:
        await conn.close()
    assert row["topic"] == PROFILE_UPDATED.name and row["publish_time"] is not None


async def test_killing_the_profile_service_after_an_answer_loses_nothing(stack, http, new_school):
    """SIGKILL of the profile service right after 202s: each acknowledged version reaches Kafka once it is back."""
    school = await new_school()
    student = await add_student(http, school)
    replies = [
        await http.put(f"/v1/students/{student}/profile", json=profile(research=r), headers=school.admin)
        for r in (1, 2, 3)
    ]
    assert [r.status_code for r in replies] == [202] * 3
    stack.processes["profile"].kill()
    stack.processes["profile"].start().wait_ready()
    records = await read_topic(stack.endpoints, PROFILE_UPDATED.name, student, expect=3)
    # At least once: a row sent just before the kill and not yet marked is sent again, with the same event
    # id, which readers are idempotent on. What a reader keeps is each version once, in order.
    distinct = list({decode(r).event_id: decode(r) for r in records}.values())
    assert [e.profile_version for e in distinct] == [1, 2, 3]
    assert [e.event_id for e in distinct] == [r.json()["event_id"] for r in replies]


async def test_a_huge_body_gets_413_and_an_over_long_list_gets_422(stack, http, new_school):
    school = await new_school()
    student = await add_student(http, school)
    ids = [f"{i:010d}" for i in range(100_000)]
    huge = profile(preferences={"specialties": ["Dermatology"], "application_budget": 60, "signaled_program_ids": ids})
    reply = await http.put(f"/v1/students/{student}/profile", json=huge, headers=school.admin)
    assert reply.status_code == 413, reply.text
    many = profile(
        preferences={"specialties": ["Dermatology"], "application_budget": 60, "signaled_program_ids": ids[:101]}
    )
    reply = await http.put(f"/v1/students/{student}/profile", json=many, headers=school.admin)
    assert reply.status_code == 422
    assert ["body", "preferences", "signaled_program_ids"] in [e["loc"] for e in reply.json()["detail"]]


async def test_another_schools_key_cannot_reach_the_students(stack, http, new_school):
    school_a, school_b = await new_school(), await new_school()
    student = await add_student(http, school_a)
    await http.put(f"/v1/students/{student}/profile", json=profile(), headers=school_a.admin)

    for method, path in [
        ("GET", f"/v1/students/{student}"),
        ("GET", f"/v1/students/{student}/profile"),
        ("PUT", f"/v1/students/{student}/profile"),
        ("GET", f"/v1/schools/{school_a.school_id}"),
    ]:
        reply = await http.request(method, path, json=profile() if method == "PUT" else None, headers=school_b.admin)
        assert reply.status_code in (403, 404), (method, path, reply.status_code)
    listed = await http.get("/v1/students", headers=school_b.admin)
    assert student not in {s["student_id"] for s in listed.json()["students"]}
    denied = await http.post(
        f"/v1/schools/{school_a.school_id}/api-keys", json={"role": "advisor"}, headers=school_b.admin
    )
    assert denied.status_code == 404


async def test_a_student_key_reaches_only_that_student(stack, http, new_school):
    school = await new_school()
    me, other = await add_student(http, school), await add_student(http, school)
    issued = await http.post(
        f"/v1/schools/{school.school_id}/api-keys", json={"role": "student", "student_id": me}, headers=school.admin
    )
    assert issued.status_code == 201, issued.text
    mine = bearer(issued.json()["api_key"])
    assert (await http.put(f"/v1/students/{me}/profile", json=profile(), headers=mine)).status_code == 202
    assert (await http.get(f"/v1/students/{other}/profile", headers=mine)).status_code == 404
    assert (await http.get("/v1/students", headers=mine)).status_code == 403


async def test_requests_without_a_valid_key_get_401(http):
    assert (await http.get("/v1/students")).status_code == 401
    assert (await http.get("/v1/students", headers=bearer("spk_nope_nope"))).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (profile(step2=400), ["body", "step2_ck_score"]),
        (profile(degree_type="PhD"), ["body", "degree_type"]),
        (profile(comlex_level2_score=600), ["body", "comlex_level2_score"]),
        (profile(research=-2), ["body", "research_items"]),
        (profile(unknown_field=1), ["body", "unknown_field"]),
        (
            profile(preferences={"specialties": ["Dermatology"], "application_budget": 0}),
            ["body", "preferences", "application_budget"],
        ),
    ],
)
async def test_bad_input_gets_422_naming_the_field(stack, http, new_school, body, field):
    school = await new_school()
    student = await add_student(http, school)
    reply = await http.put(f"/v1/students/{student}/profile", json=body, headers=school.admin)
    assert reply.status_code == 422, reply.text
    assert field in [error["loc"] for error in reply.json()["detail"]], reply.json()


async def test_a_malformed_student_id_gets_422(http, new_school):
    school = await new_school()
    reply = await http.get("/v1/students/not-a-uuid/profile", headers=school.admin)
    assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == ["path", "student_id"]


async def test_openapi_is_served(http):
    spec = (await http.get("/openapi.json")).json()
    assert "/v1/students/{student_id}/profile" in spec["paths"]
