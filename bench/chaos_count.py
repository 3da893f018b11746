"""What a chaos run counts once the stack has drained: versions stored, events on the topics, dead letters,
open mentor matches, and the backlogs (outbox rows not yet published, the ranking group's lag) it waits on."""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from smartpick.events.v1 import profile_events_pb2, recommendation_events_pb2

from smartpick_platform.kafka import header_map, partition_count, security_options
from smartpick_platform.topics import (
    PROFILE_UPDATED,
    PROFILE_UPDATED_DLQ,
    RECOMMENDATIONS_GENERATED,
    RECOMMENDATIONS_GENERATED_DLQ,
)

RANKING_GROUP = "smartpick-ranking"
Version = tuple[str, int]  # (student id, profile version)


@dataclass
class Topics:
    """What the run's schools put on the topics: per (student, version), the distinct event ids."""

    profile_updated: dict[Version, set[str]] = field(default_factory=lambda: defaultdict(set))
    recommendations: dict[Version, set[str]] = field(default_factory=lambda: defaultdict(set))


async def end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(**security_options(), bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(await partition_count(bootstrap, topic))]
        return await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()


async def dead_letters(bootstrap: str) -> int:
    """Messages on both dead-letter topics (the run's count is the difference before and after)."""
    total = 0
    for topic in (PROFILE_UPDATED_DLQ, RECOMMENDATIONS_GENERATED_DLQ):
        total += sum((await end_offsets(bootstrap, topic.name)).values())
    return total


async def read_events(bootstrap: str, topic: str, message_class, tenants: set[str], into: dict) -> None:
    """Every message of `topic` from the start up to its current end, kept if it belongs to `tenants`."""
    ends = await end_offsets(bootstrap, topic)
    consumer = AIOKafkaConsumer(
        **security_options(), bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        remaining = {tp for tp, end in ends.items() if end > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000, max_records=5000)
            for tp, records in batch.items():
                for record in records:
                    event = message_class.FromString(record.value)
                    if event.tenant_id in tenants:
                        into[(event.student_id, event.profile_version)].add(header_map(record.headers)["ce_id"])
                    if record.offset + 1 >= ends[tp]:
                        remaining.discard(tp)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()


async def read_topics(bootstrap: str, tenants: set[str]) -> Topics:
    found = Topics()
    await read_events(
        bootstrap, PROFILE_UPDATED.name, profile_events_pb2.ProfileUpdated, tenants, found.profile_updated
    )
    await read_events(
        bootstrap,
        RECOMMENDATIONS_GENERATED.name,
        recommendation_events_pb2.RecommendationsGenerated,
        tenants,
        found.recommendations,
    )
    return found


async def stored_versions(profile_db: str, tenants: set[str]) -> set[Version]:
    """Every profile version the profile service stored for the run's schools (read as each school: RLS)."""
    conn = await asyncpg.connect(profile_db)
    try:
        stored: set[Version] = set()
        for tenant in tenants:
            async with conn.transaction():
                await conn.execute("SELECT set_config('app.tenant_id', $1, true)", tenant)
                rows = await conn.fetch("SELECT student_id, version FROM profile_versions")
            stored |= {(str(r["student_id"]), r["version"]) for r in rows}
        return stored
    finally:
        await conn.close()


async def open_matches(mentorship_db: str, tenants: set[str]) -> dict[Version, int]:
    """Per (student, profile version), the mentor matches open (draft, proposed or accepted) for the run's
    schools: two for one version is a duplicate a student and a mentor would see."""
    conn = await asyncpg.connect(mentorship_db)
    try:
        found: dict[Version, int] = {}
        for tenant in tenants:
            async with conn.transaction():
                await conn.execute("SELECT set_config('app.tenant_id', $1, true)", tenant)
                rows = await conn.fetch(
                    """SELECT student_id, profile_version, count(*) AS open FROM matches
                       WHERE status IN ('draft', 'proposed', 'accepted') GROUP BY student_id, profile_version"""
                )
            found |= {(str(r["student_id"]), r["profile_version"]): r["open"] for r in rows}
        return found
    finally:
        await conn.close()


async def outbox_backlog(profile_db: str) -> int:
    conn = await asyncpg.connect(profile_db, timeout=3)
    try:
        return await conn.fetchval("SELECT count(*) FROM outbox WHERE publish_time IS NULL AND set_aside_time IS NULL")
    finally:
        await conn.close()


async def outbox_set_aside(profile_db: str, tenants: set[str]) -> int:
    conn = await asyncpg.connect(profile_db, timeout=3)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE set_aside_time IS NOT NULL AND tenant_id = ANY($1::uuid[])",
            [uuid.UUID(t) for t in tenants],
        )
    finally:
        await conn.close()


async def ranking_lag(bootstrap: str) -> int:
    """Messages of ProfileUpdated the ranking group has not committed yet."""
    ends = await end_offsets(bootstrap, PROFILE_UPDATED.name)
    admin = AIOKafkaAdminClient(**security_options(), bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(RANKING_GROUP)
    finally:
        await admin.close()
    return sum(end - (committed[tp].offset if tp in committed else 0) for tp, end in ends.items())
