"""The retention purge on the real tables: only what is past its time goes, in bounded batches."""

import json
import uuid
from datetime import timedelta

import asyncpg
import pytest

from smartpick_gateway.adapters.repository import retention_purges
from smartpick_platform import db, outbox, retention

pytestmark = pytest.mark.integration


@pytest.fixture
async def pools(stack):
    opened = {name: await db.create_pool(stack.endpoints.database_urls[name]) for name in ("profile", "gateway")}
    yield opened
    for pool in opened.values():
        await pool.close()


async def add_outbox_row(conn: asyncpg.Connection, publish_age: timedelta | None, set_aside: bool = False) -> uuid.UUID:
    """A row published `publish_age` ago, or never (None); set aside rows carry their reason."""
    event_id = uuid.uuid4()
    await conn.execute(
        """INSERT INTO outbox (event_id, tenant_id, topic, message_key, payload, headers, create_time,
                               publish_time, set_aside_time, set_aside_reason)
           VALUES ($1, $2, 'retention.test', 'k', '\\x00', $3::jsonb, now() - interval '3 days',
                   now() - $4::interval, CASE WHEN $5 THEN now() END, CASE WHEN $5 THEN 'test' END)""",
        event_id,
        uuid.uuid4(),
        json.dumps([]),
        publish_age,
        set_aside,
    )
    return event_id


async def test_published_outbox_rows_past_retention_go_in_bounded_batches_and_the_rest_stays(pools):
    pool = pools["profile"]
    async with pool.acquire() as conn:
        old = [await add_outbox_row(conn, timedelta(days=2)) for _ in range(5)]
        recent = await add_outbox_row(conn, timedelta(hours=1))
        set_aside = await add_outbox_row(conn, None, set_aside=True)
    purge = outbox.retention(keep=timedelta(hours=24))
    deleted, more = await retention.purge(pool, purge, batch_rows=2, max_batches=2)
    assert deleted <= 4 and (more or deleted < 4)  # at most two batches of two in one round
    await retention.purge(pool, purge, batch_rows=2, max_batches=2)
    async with pool.acquire() as conn:
        left = {
            r[0]
            for r in await conn.fetch("SELECT event_id FROM outbox WHERE event_id = ANY($1)", [*old, recent, set_aside])
        }
    assert left == {recent, set_aside}


async def test_idempotency_records_past_their_window_and_ended_or_expired_sessions_are_purged(pools):
    """The rows are a school's, written and read back as that school (row-level security may hold there);
    the purge acts for every school at once."""
    pool = pools["gateway"]
    owner, school = f"retention-test-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    async with db.tenant_transaction(pool, school) as conn:
        for name, age in (("old", timedelta(hours=25)), ("fresh", timedelta(hours=1))):
            await conn.execute(
                """INSERT INTO idempotency_records
                     (key_id, idempotency_key, tenant_id, request_sha256, status_code, response, create_time)
                   VALUES ($1, $2, $3, '\\x00', 200, '{}', now() - $4::interval)""",
                owner,
                name,
                uuid.UUID(school),
                age,
            )
        code = f"code-{owner}"
        await conn.execute(
            """INSERT INTO sign_in_codes (code_id, code_sha256, tenant_id, role, issued_by, expire_time)
               VALUES ($1, $2, $3, 'advisor', 'test', now())""",
            code,
            uuid.uuid4().bytes,
            uuid.UUID(school),
        )
        for name, expires, ended in (("expired", -1, False), ("ended", 60, True), ("open", 60, False)):
            await conn.execute(
                """INSERT INTO sessions (session_id, secret_sha256, code_id, tenant_id, role, expire_time, end_time)
                   VALUES ($1, '\\x00', $2, $3, 'advisor', now() + $4::interval, CASE WHEN $5 THEN now() END)""",
                f"{owner}-{name}",
                code,
                uuid.UUID(school),
                timedelta(minutes=expires),
                ended,
            )
    for purge in retention_purges(timedelta(hours=24), timedelta(days=30)):
        await retention.purge(pool, purge, batch_rows=1000, max_batches=10)
    async with db.tenant_transaction(pool, school) as conn:
        records = await conn.fetch("SELECT idempotency_key FROM idempotency_records WHERE key_id = $1", owner)
        sessions = await conn.fetch("SELECT session_id FROM sessions WHERE session_id LIKE $1", f"{owner}-%")
    assert {r[0] for r in records} == {"fresh"}
    assert {r[0] for r in sessions} == {f"{owner}-open"}


async def add_code(conn: asyncpg.Connection, code_id: str, school: str, used: timedelta | None, expires: timedelta):
    """A code used `used` ago (None: never), expiring `expires` from now (negative: in the past)."""
    await conn.execute(
        """INSERT INTO sign_in_codes (code_id, code_sha256, tenant_id, role, issued_by, create_time, expire_time,
                                      use_time)
           VALUES ($1, $2, $3, 'advisor', 'test', now() - interval '90 days', now() + $4::interval,
                   now() - $5::interval)""",
        code_id,
        uuid.uuid4().bytes,
        uuid.UUID(school),
        expires,
        used,
    )


async def add_session(conn: asyncpg.Connection, code_id: str, school: str, ended: bool) -> None:
    await conn.execute(
        """INSERT INTO sessions (session_id, secret_sha256, code_id, tenant_id, role, expire_time, end_time)
           VALUES ($1, '\\x00', $2, $3, 'advisor', now() + interval '1 hour', CASE WHEN $4 THEN now() END)""",
        f"session-of-{code_id}",
        code_id,
        uuid.UUID(school),
        ended,
    )


async def test_sign_in_codes_go_a_window_after_their_use_or_expiry_once_no_session_names_them(pools):
    """Kept: a code not yet used, one used or expired within the window, one whose session is still open. Gone in
    the same round: old used and expired codes, and an old code whose ended session the sessions' purge takes."""
    pool, school = pools["gateway"], str(uuid.uuid4())
    day, window = timedelta(days=1), timedelta(days=30)
    codes = {
        "unused": (None, 3 * day),
        "used-recently": (2 * day, -day),
        "expired-recently": (None, -2 * day),
        "used-long-ago": (40 * day, -35 * day),
        "expired-long-ago": (None, -40 * day),
        "used-long-ago-session-open": (40 * day, -35 * day),
        "used-long-ago-session-ended": (40 * day, -35 * day),
    }
    ids = {name: f"{name}-{uuid.uuid4().hex[:8]}" for name in codes}
    async with db.tenant_transaction(pool, school) as conn:
        for name, (used, expires) in codes.items():
            await add_code(conn, ids[name], school, used, expires)
        await add_session(conn, ids["used-long-ago-session-open"], school, ended=False)
        await add_session(conn, ids["used-long-ago-session-ended"], school, ended=True)

    rounds = {}
    for purge in retention_purges(timedelta(hours=24), window):
        rounds[purge.what] = await retention.purge(pool, purge, batch_rows=1000, max_batches=10)
    async with db.tenant_transaction(pool, school) as conn:
        left = {
            r[0] for r in await conn.fetch("SELECT code_id FROM sign_in_codes WHERE tenant_id = $1", uuid.UUID(school))
        }
    kept = {"unused", "used-recently", "expired-recently", "used-long-ago-session-open"}
    assert left == {ids[name] for name in kept}
    assert rounds["sign-in codes"][0] >= len(codes) - len(kept)  # other tests' old codes may go too
