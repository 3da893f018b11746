"""The outbox relay against the real PostgreSQL and Kafka, on a scratch outbox table and topic of its own:
a row Kafka refuses is set aside and the rest go on; a lost lock session stops the relay that held it; the
relay gives its connection back with no lock or LISTEN on it; a PostgreSQL restart is waited out. The
PostgreSQL restart runs last in the session (file name order)."""

import asyncio
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY
from support import read_topic

from smartpick_platform import db
from smartpick_platform.kafka import ensure_topics
from smartpick_platform.outbox import DEFAULT_LOCK_ID, OutboxMessage, OutboxRelay, write_outbox
from smartpick_platform.topics import Topic

pytestmark = pytest.mark.integration

TOPIC = Topic("smartpick.test.outbox-relay", 1, 60 * 60 * 1000, "scratch topic of the relay tests")


async def wait_until(condition, seconds: float = 20, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{what} not met after {seconds}s")


class Scratch:
    """An outbox table, NOTIFY channel and lock id no service uses, in the profile service's database."""

    def __init__(self, stack, pool: asyncpg.Pool):
        self.stack = stack
        self.pool = pool
        suffix = uuid.uuid4().hex[:8]
        self.table, self.channel, self.lock_id = f"outbox_test_{suffix}", f"outbox_test_{suffix}", DEFAULT_LOCK_ID + 7
        self.producers: list[AIOKafkaProducer] = []
        self.tasks: list[asyncio.Task] = []

    async def create(self) -> None:
        """Made as a migration would make it: by the migration role, with the runtime role's DML granted."""
        runtime_role = db.role_of(self.stack.endpoints.database_urls["profile"])
        await self._as_migration_role(
            f"CREATE TABLE {self.table} (LIKE outbox INCLUDING ALL)",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON {self.table} TO {runtime_role}",
        )

    async def drop(self) -> None:
        await self._as_migration_role(f"DROP TABLE IF EXISTS {self.table}")

    async def _as_migration_role(self, *statements: str) -> None:
        conn = await asyncpg.connect(self.stack.endpoints.migration_database_urls["profile"])
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def relay(self, **options) -> OutboxRelay:
        producer = AIOKafkaProducer(**self.stack.endpoints.kafka_options(), enable_idempotence=True, acks="all")
        await producer.start()
        self.producers.append(producer)
        relay = OutboxRelay(self.pool, producer, self.table, self.channel, self.lock_id, poll_seconds=0.1, **options)
        self.tasks.append(asyncio.create_task(relay.run()))
        return relay

    async def write(self, payload: bytes, key: str) -> uuid.UUID:
        event_id = uuid.uuid4()
        message = OutboxMessage(
            event_id, str(uuid.uuid4()), TOPIC.name, key, payload, [("ce_id", str(event_id).encode())]
        )
        async with self.pool.acquire() as conn:
            await write_outbox(conn, [message], self.table, self.channel)
        return event_id

    async def row(self, event_id: uuid.UUID) -> asyncpg.Record:
        return await self.pool.fetchrow(
            f"SELECT publish_time, set_aside_time, set_aside_reason FROM {self.table} WHERE event_id = $1", event_id
        )

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for producer in self.producers:
            await producer.stop()


@pytest.fixture
async def scratch(stack):
    await ensure_topics(stack.endpoints.kafka_bootstrap, [TOPIC], security=stack.endpoints.kafka_security())
    pool = await db.create_pool(stack.endpoints.database_urls["profile"], max_size=4)
    made = Scratch(stack, pool)
    await made.create()
    try:
        yield made
    finally:
        await made.close()
        await made.drop()
        await pool.close()


def set_aside_count() -> float:
    return REGISTRY.get_sample_value("smartpick_outbox_set_aside_total", {"topic": TOPIC.name}) or 0.0


async def test_the_relay_gives_back_its_connection_without_its_lock_or_listen(stack):
    """Pooled connections skip asyncpg's reset query (`db.create_pool`), so the relay ends its lock session
    itself: the one connection of a pool comes back holding no advisory lock and listening to nothing."""
    pool = await db.create_pool(stack.endpoints.database_urls["profile"], min_size=1, max_size=1)
    alone = Scratch(stack, pool)
    await alone.create()
    try:
        relay = await alone.relay()
        await wait_until(lambda: is_true(relay.active), what="the relay active")
        await alone.close()
        async with pool.acquire() as conn:
            backend = await conn.fetchval("SELECT pg_backend_pid()")
            locks = await conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1", backend
            )
            listening = await conn.fetch("SELECT pg_listening_channels()")
        assert locks == 0 and listening == []
    finally:
        await alone.drop()
        await pool.close()


async def test_a_row_kafka_refuses_is_set_aside_and_the_rows_behind_it_go_out(stack, scratch):
    before = set_aside_count()
    key = uuid.uuid4().hex
    too_large = await scratch.write(b"x" * 2_000_000, key)
    fine = await scratch.write(b"small", key)
    await scratch.relay()
    await wait_until(lambda: _published(scratch, fine), what="the row behind the refused one published")
    refused = await scratch.row(too_large)
    assert refused["publish_time"] is None and refused["set_aside_time"] is not None
    assert "MessageSizeTooLarge" in refused["set_aside_reason"]
    assert set_aside_count() == before + 1
    records = await read_topic(stack.endpoints, TOPIC.name, key, expect=1)
    assert [r.value for r in records] == [b"small"]


async def _published(scratch: Scratch, event_id: uuid.UUID) -> bool:
    row = await scratch.row(event_id)
    return row is not None and row["publish_time"] is not None


async def test_a_relay_whose_lock_session_dies_stops_publishing_and_another_takes_over(stack, scratch):
    first = await scratch.relay()
    await wait_until(lambda: is_true(first.active), what="the first relay active")
    second = await scratch.relay()
    await asyncio.sleep(0.5)
    assert not second.active
    holder = await scratch.pool.fetchval(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted", scratch.lock_id
    )
    await scratch.pool.execute("SELECT pg_terminate_backend($1)", holder)

    async def handed_over() -> bool:
        return first.active != second.active and await holder_changed(scratch, holder)

    await wait_until(handed_over, what="the lock handed over to one relay")
    # The relay whose session died may still call itself active until its next check, before its next batch
    # (poll_seconds 0.1): the one-batch overlap the design allows. Past ten polls, never both.
    await asyncio.sleep(1.0)
    for _ in range(20):
        assert not (first.active and second.active)
        await asyncio.sleep(0.1)
    event_id = await scratch.write(b"after the hand-over", uuid.uuid4().hex)
    await wait_until(lambda: _published(scratch, event_id), what="a row written after the hand-over published")


async def is_true(value: bool) -> bool:
    return value


async def holder_changed(scratch: Scratch, old_pid: int) -> bool:
    pid = await scratch.pool.fetchval(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted", scratch.lock_id
    )
    return pid is not None and pid != old_pid
