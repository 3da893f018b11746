"""Least privilege in PostgreSQL, as a compromised service would try it: connected as its runtime role (the
role its processes use), it can change rows of its own school only, and can neither alter its tables nor
switch row-level security off; its statements and idle transactions are bounded by the settings' timeouts."""

import asyncio
import time
import uuid

import asyncpg
import pytest
from support import add_student, profile

from smartpick_platform import db, services

SERVICES = list(services.manifest().services)
# The gateway's tables that belong to a school (the other services' carried row-level security already).
GATEWAY_TENANT_TABLES = {"api_keys", "idempotency_records", "sign_in_codes", "sessions", "cohort_settings"}


async def connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url, timeout=10)


async def tables_with_rls(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relrowsecurity"
    )
    return sorted(r[0] for r in rows)


@pytest.mark.parametrize("service", SERVICES)
async def test_the_runtime_role_owns_nothing_and_cannot_bypass_row_level_security(stack, service):
    conn = await connect(stack.endpoints.database_urls[service])
    try:
        role = await conn.fetchrow(
            "SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = current_user"
        )
        assert not any(role.values()), dict(role)
        owned = await conn.fetchval(
            """SELECT count(*) FROM pg_class
               WHERE relnamespace = 'public'::regnamespace AND relowner = current_user::regrole"""
        )
        assert owned == 0
        guarded = await tables_with_rls(conn)
        assert guarded
        for table in guarded:
            policy = await conn.fetchval("SELECT policyname FROM pg_policies WHERE tablename = $1 LIMIT 1", table)
            for attempt in (
                f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
                f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
                f"DROP POLICY {policy} ON {table}",
                f"ALTER POLICY {policy} ON {table} USING (true)",
                f"ALTER TABLE {table} ADD COLUMN intruder text",
                f"TRUNCATE {table}",
                f"DROP TABLE {table}",
            ):
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute(attempt)
            # Switching row-level security off for the session is refused at the first query it would change.
            async with conn.transaction():
                await conn.execute("SET LOCAL row_security = off")
                with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
                    await conn.fetch(f"SELECT * FROM {table} LIMIT 1")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE intruder (id int)")
    finally:
        await conn.close()


@pytest.mark.parametrize("service", SERVICES)
async def test_the_migration_role_owns_every_table(stack, service):
    conn = await connect(stack.endpoints.migration_database_urls[service])
    try:
        others = await conn.fetch(
            "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' AND tableowner <> current_user"
        )
        assert [tuple(r) for r in others] == []
        role = await conn.fetchrow("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert not any(role.values()), dict(role)
    finally:
        await conn.close()


async def test_the_gateways_tables_of_a_school_refuse_other_schools(stack, http, new_school):
    """Two schools, each with an admin key, an idempotency record, a sign-in code, a session and a threshold:
    acting for one, the gateway's runtime role reads and writes none of the other's."""
    schools = [await new_school(), await new_school()]
    for school in schools:
        student = await add_student(http, school)
        reply = await http.put(
            f"/v1/students/{student}/profile",
            json=profile(),
            headers={**school.admin, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert reply.status_code == 202, reply.text
        code = await http.post(
            f"/v1/schools/{school.school_id}/sign-in-codes",
            json={"role": "advisor", "label": "rls"},
            headers=school.admin,
        )
        assert code.status_code == 201, code.text
        signed_in = await http.post("/v1/sessions", json={"code": code.json()["code"]})
        assert signed_in.status_code == 200, signed_in.text
        http.cookies.clear()
        threshold = await http.put("/v1/cohort/settings", json={"risk_threshold": 0.5}, headers=school.admin)
        assert threshold.status_code < 300, threshold.text
    own, other = (uuid.UUID(s.school_id) for s in schools)

    conn = await connect(stack.endpoints.database_urls["gateway"])
    try:
        assert set(await tables_with_rls(conn)) >= GATEWAY_TENANT_TABLES
        for table in sorted(GATEWAY_TENANT_TABLES):
            async with conn.transaction():
                await db.act_for(conn, own)
                seen = {r[0] for r in await conn.fetch(f"SELECT DISTINCT tenant_id FROM {table}")}
                assert seen == {own}, table
                assert await conn.fetchval(f"SELECT count(*) FROM {table} WHERE tenant_id = $1", other) == 0
                assert await conn.execute(f"UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = $1", other) == (
                    "UPDATE 0"
                )
            async with conn.transaction():
                await db.act_for(conn, None)  # acting for no school: only rows of none
                assert await conn.fetchval(f"SELECT count(*) FROM {table} WHERE tenant_id IS NOT NULL") == 0, table
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            async with conn.transaction():
                await db.act_for(conn, own)
                await conn.execute(
                    "INSERT INTO cohort_settings (tenant_id, risk_threshold) VALUES ($1, 0.4)", uuid.uuid4()
                )
    finally:
        await conn.close()


async def test_a_long_statement_is_cancelled_by_the_statement_timeout(stack, monkeypatch):
    monkeypatch.setenv("SMARTPICK_DATABASE_STATEMENT_TIMEOUT_SECONDS", "0.5")
    pool = await db.create_pool(stack.endpoints.database_urls["profile"], max_size=1)
    try:
        started = time.monotonic()
        with pytest.raises(asyncpg.QueryCanceledError, match="statement timeout"):
            await pool.fetchval("SELECT pg_sleep(5)")
        assert time.monotonic() - started < 3
        assert await pool.fetchval("SELECT 1") == 1  # the session goes on
    finally:
        await pool.close()


async def test_a_transaction_left_idle_is_ended_by_the_idle_timeout(stack, monkeypatch):
    monkeypatch.setenv("SMARTPICK_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS", "0.5")
    pool = await db.create_pool(stack.endpoints.database_urls["mentorship"], min_size=2, max_size=2)
    try:
        async with pool.acquire() as idle, pool.acquire() as watcher:
            await idle.execute("BEGIN")
            pid = await idle.fetchval("SELECT pg_backend_pid()")
            await asyncio.sleep(2)
            assert await watcher.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid) == 0
        assert await pool.fetchval("SELECT 1") == 1  # the pool opens a fresh session in its place
    finally:
        await pool.close()


async def test_the_services_runtime_sessions_have_the_default_timeouts(stack):
    pool = await db.create_pool(stack.endpoints.database_urls["ranking"], max_size=1)
    try:
        assert await pool.fetchval("SHOW statement_timeout") == "10s"
        assert await pool.fetchval("SHOW idle_in_transaction_session_timeout") == "1min"
    finally:
        await pool.close()


async def test_a_service_refuses_to_serve_as_the_role_that_owns_its_tables(stack, monkeypatch, tmp_path):
    monkeypatch.setenv("SMARTPICK_MIGRATIONS", "verify")
    owner_url = stack.endpoints.migration_database_urls["gateway"]
    with pytest.raises(db.PrivilegedRuntimeRole, match=r"owns .*api_keys"):
        await db.migrate(owner_url, tmp_path, migration_database_url=None)
