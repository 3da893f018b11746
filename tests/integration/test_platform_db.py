"""The shared database helpers against the real PostgreSQL: pooled connections skip asyncpg's reset query,
so nothing a request leaves on a connection may reach the next one."""

import uuid

import pytest

from smartpick_platform import db


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


async def test_an_error_in_a_tenant_transaction_rolls_it_back(one_connection_pool):
    tenant = str(uuid.uuid4())
    async with one_connection_pool.acquire() as conn:
        await conn.execute("CREATE TEMP TABLE rolled (n int)")  # the session's own, kept across its transactions
    with pytest.raises(ZeroDivisionError):
        async with db.tenant_transaction(one_connection_pool, tenant) as conn:
            await conn.execute("INSERT INTO rolled VALUES (1)")
            raise ZeroDivisionError
    async with db.tenant_transaction(one_connection_pool, tenant) as conn:
        assert await conn.fetchval("SELECT count(*) FROM rolled") == 0
        await conn.execute("INSERT INTO rolled VALUES (2)")
    async with one_connection_pool.acquire() as conn:
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT count(*) FROM rolled") == 1  # the second committed
