"""The per-process key cache: trusted only while revocations reach the process, never holding a row read
before a revocation, never answering for an expired key."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from smartpick_gateway.adapters.repository import GatewayRepository
from smartpick_gateway.domain import auth


class FakePool:
    """Answers the key lookup from one row; `during_fetch` runs while the query is 'in flight'."""

    def __init__(self, row: dict):
        self.row = row
        self.fetches = 0
        self.during_fetch = lambda: None

    async def fetchrow(self, _query, _key_id):
        self.fetches += 1
        self.during_fetch()
        await asyncio.sleep(0)
        return self.row


def a_key(expires_in: timedelta = timedelta(days=1)) -> tuple[auth.NewKey, dict]:
    key = auth.new_key()
    row = {
        "key_id": key.key_id,
        "role": "advisor",
        "tenant_id": uuid.uuid4(),
        "student_id": None,
        "mentor_id": None,
        "secret_sha256": key.secret_sha256,
        "expire_time": datetime.now(UTC) + expires_in,
    }
    return key, row


def repository(row: dict, trusted: bool) -> tuple[GatewayRepository, FakePool]:
    pool = FakePool(row)
    repo = GatewayRepository(pool)
    repo.cache_trusted = lambda: trusted
    return repo, pool


async def test_without_a_listener_every_request_reads_the_database():
    key, row = a_key()
    repo, pool = repository(row, trusted=False)
    for _ in range(3):
        assert await repo.authenticate(*auth.parse_token(key.token)) is not None
    assert pool.fetches == 3


async def test_with_a_listener_a_key_is_read_once_until_it_is_forgotten():
    key, row = a_key()
    repo, pool = repository(row, trusted=True)
    for _ in range(3):
        assert await repo.authenticate(*auth.parse_token(key.token)) is not None
    assert pool.fetches == 1
    repo.forget_key(key.key_id)
    assert await repo.authenticate(*auth.parse_token(key.token)) is not None
    assert pool.fetches == 2


async def test_a_row_read_while_a_revocation_arrived_is_not_cached():
    key, row = a_key()
    repo, pool = repository(row, trusted=True)
    pool.during_fetch = lambda: repo.forget_key(key.key_id)  # the NOTIFY lands mid-query
    await repo.authenticate(*auth.parse_token(key.token))
    pool.during_fetch = lambda: None
    await repo.authenticate(*auth.parse_token(key.token))
    assert pool.fetches == 2


async def test_an_expired_key_and_a_wrong_secret_are_refused_even_from_the_cache():
    key, row = a_key(expires_in=timedelta(milliseconds=50))
    repo, _ = repository(row, trusted=True)
    key_id, secret = auth.parse_token(key.token)
    assert await repo.authenticate(key_id, secret + "x") is None
    assert await repo.authenticate(key_id, secret) is not None
    await asyncio.sleep(0.06)
    assert await repo.authenticate(key_id, secret) is None
