"""Restarts of the infrastructure under the running stack: after PostgreSQL goes down (as in a crash) and
comes back, the relays publish again and the whole flow answers, with no service restarted by hand.
Runs last in the session (file name order), as it interrupts every service's database."""

import asyncio
import time
import uuid

import httpx
import pytest
from support import add_student, profile, read_topic, wait_for_recommendations
from test_outbox_relay import TOPIC, Scratch, wait_until

from smartpick_platform import db
from smartpick_platform.kafka import ensure_topics
from smartpick_platform.topics import PROFILE_UPDATED

pytestmark = pytest.mark.integration


async def test_after_a_postgresql_crash_and_restart_the_relays_and_the_flow_go_on(stack, backend, http, new_school):
    school = await new_school()
    student = await add_student(http, school)
    await ensure_topics(stack.endpoints.kafka_bootstrap, [TOPIC], security=stack.endpoints.kafka_security())
    pool = await db.create_pool(stack.endpoints.database_urls["profile"], max_size=4)
    scratch = Scratch(stack, pool)
    await scratch.create()
    try:
        relay = await scratch.relay()
        await wait_until(lambda: _is(relay.active), what="the scratch relay active")

        backend.stop_part("postgres", immediate=True)
        await asyncio.sleep(3)
        backend.start_part("postgres")
        restarted = time.monotonic()

        # The relay was never restarted: it must take its lock again and publish what is written now.
        event_id = await _write_when_up(scratch)
        await wait_until(lambda: _published(scratch, event_id), seconds=30, what="the relay publishing again")
        # And the services' own relays and pools: a profile saved now reaches Kafka and gets its ranking.
        reply = await _put_when_up(http, student, school.admin)
        records = await read_topic(stack.endpoints, PROFILE_UPDATED.name, student, expect=1)
        assert len(records) == 1 and reply.json()["version"] == 1
        await wait_for_recommendations(http, student, school.admin, version=1, wait_seconds=60)
        print(f"flow recovered {time.monotonic() - restarted:.1f}s after PostgreSQL came back")
        for name, process in stack.processes.items():
            assert process.process.poll() is None, f"{name} exited"
    finally:
        await scratch.close()
        await scratch.drop()
        await pool.close()


async def _is(value: bool) -> bool:
    return value


async def _published(scratch: Scratch, event_id: uuid.UUID) -> bool:
    row = await scratch.row(event_id)
    return row is not None and row["publish_time"] is not None


async def _write_when_up(scratch: Scratch, seconds: float = 30) -> uuid.UUID:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return await scratch.write(b"after the restart", uuid.uuid4().hex)
        except Exception:  # the pool reconnecting: any error until the database answers
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _put_when_up(http: httpx.AsyncClient, student: str, headers: dict, seconds: float = 30) -> httpx.Response:
    """A client retrying with one Idempotency-Key until the stack answers 202 again."""
    deadline = time.monotonic() + seconds
    keyed = {**headers, "Idempotency-Key": f"after-restart-{student}"}
    while True:
        reply = await http.put(f"/v1/students/{student}/profile", json=profile(), headers=keyed)
        if reply.status_code == 202 or time.monotonic() > deadline:
            assert reply.status_code == 202, reply.text
            return reply
        await asyncio.sleep(0.5)
