"""Helpers the integration tests share: API calls that set up data, and reading a topic back."""

import asyncio
import time
import uuid
from dataclasses import dataclass

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from devstack import Endpoints

from smartpick_platform.kafka import partition_count


async def within_one_minute_window(seconds: float) -> None:
    """Waits until the gateway's rate limits' clock-aligned minute has `seconds` left: a test counting
    requests exactly to a per-minute limit must not straddle two windows, where the sliding window counter
    weighs the earlier window's requests by less than one (smartpick_gateway.adapters.rate_limit)."""
    left = 60 - time.time() % 60
    if left < seconds:
        await asyncio.sleep(left + 0.05)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class School:
    school_id: str
    admin: dict[str, str]


async def add_student(http: httpx.AsyncClient, school: School) -> str:
    reply = await http.post(
        "/v1/students", json={"external_ref": uuid.uuid4().hex, "display_name": "Test Student"}, headers=school.admin
    )
    assert reply.status_code == 201, reply.text
    return reply.json()["student_id"]


def profile(step2: int = 250, research: int = 10, **overrides) -> dict:
    body = {
        "degree_type": "MD",
        "step2_ck_score": step2,
        "step1_result": "pass",
        "research_items": research,
        "preferences": {"specialties": ["Dermatology"], "preferred_states": ["CA"], "application_budget": 60},
    }
    body.update(overrides)
    return body


async def read_topic(
    endpoints: Endpoints, topic: str, key: str, expect: int, wait_seconds: float = 20, settle: float = 1.5
):
    """Every message with this key on the topic, read from the start by a plain consumer (no group), as the
    broker's admin.

    Returns once `expect` messages arrived and `settle` more seconds brought no others, or after wait_seconds."""
    consumer = AIOKafkaConsumer(**endpoints.kafka_options(), enable_auto_commit=False, isolation_level="read_committed")
    await consumer.start()
    try:
        count = await partition_count(endpoints.kafka_bootstrap, topic, endpoints.kafka_security())
        partitions = [TopicPartition(topic, p) for p in range(count)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        found = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        settled_at = None
        while loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                found += [r for r in records if r.key == key.encode()]
            if len(found) >= expect:
                settled_at = settled_at or loop.time()
                if loop.time() - settled_at >= settle:
                    break
        return found
    finally:
        await consumer.stop()


async def wait_for_recommendations(
    http: httpx.AsyncClient, student: str, headers: dict, version: int, wait_seconds: float = 60
):
    """Polls until the recommendations for `version` are ready; returns the body."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while loop.time() < deadline:
        reply = await http.get(f"/v1/students/{student}/recommendations", headers=headers)
        assert reply.status_code in (200, 202), reply.text
        body = reply.json()
        if reply.status_code == 200 and body["profile_version"] == version:
            return body
        await asyncio.sleep(0.3)
    raise TimeoutError(f"no recommendations for version {version} after {wait_seconds}s")
