"""The shared database helpers against the real PostgreSQL: pooled connections skip asyncpg's reset query,
so nothing a request leaves on a connection may reach the next one."""

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaProducer

from smartpick_platform import db
from smartpick_platform.outbox import DEFAULT_LOCK_ID, OutboxRelay


@pytest.fixture
async def one_connection_pool(stack):
    """A pool of exactly one connection, so every acquire gets the connection the last user released."""
    pool = await db.create_pool(stack.endpoints.database_urls["gateway"], min_size=1, max_size=1)
    yield pool
    await pool.close()


async def test_a_tenant_scope_ends_with_its_transaction(one_connection_pool):
    tenant = str(uuid.uuid4())
    async with db.tenant_transaction(one_connection_pool, tenant) as conn:
        assert await conn.fetchval("SELECT current_setting('app.tenant_id', true)") == tenant
    async with one_connection_pool.acquire() as conn:
        assert await conn.fetchval("SELECT current_setting('app.tenant_id', true)") in (None, "")


async def test_a_transaction_left_open_is_rolled_back_on_release(one_connection_pool):
    async with one_connection_pool.acquire() as conn:
        await conn.execute("BEGIN")
        await conn.execute("SELECT set_config('app.tenant_id', 'leaked', true)")
    async with one_connection_pool.acquire() as conn:
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT current_setting('app.tenant_id', true)") in (None, "")


async def test_the_outbox_relay_gives_back_its_connection_without_its_lock_or_listen(stack, one_connection_pool):
    producer = AIOKafkaProducer(**stack.endpoints.kafka_options())
    await producer.start()
    # A lock id of its own: the running gateway's relay holds the default one in this database.
    relay = OutboxRelay(one_connection_pool, producer, lock_id=DEFAULT_LOCK_ID + 1, poll_seconds=0.1)
    task = asyncio.create_task(relay.run())
    try:
        for _ in range(100):
            if relay.active:
                break
            await asyncio.sleep(0.05)
        assert relay.active
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()
    async with one_connection_pool.acquire() as conn:
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        locks = await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1", backend)
        listening = await conn.fetch("SELECT pg_listening_channels()")
    assert locks == 0 and listening == []
