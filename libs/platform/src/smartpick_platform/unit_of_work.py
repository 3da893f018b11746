"""One unit of work for every use case that changes data: it opens the tenant transaction, collects the
events the use case raises, and writes them to the outbox in that same transaction. The data and its event
commit together or not at all, so no event is ever a second write somewhere else.

Use cases depend on the `UnitOfWork` protocol; `PostgresUnitOfWork` is the real one, and a test hands in a
fake that keeps what was committed in memory."""

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import asyncpg

from smartpick_platform.db import tenant_transaction
from smartpick_platform.outbox import OutboxMessage, write_outbox


class Work:
    """What a use case holds while its transaction is open: the connection its adapters run SQL on, and
    the events raised so far."""

    def __init__(self, conn: Any):
        self.conn = conn
        self.events: list[OutboxMessage] = []

    def raise_event(self, message: OutboxMessage) -> None:
        self.events.append(message)


class UnitOfWork(Protocol):
    def tenant(
        self, tenant_id: str | None, *, acting_for: Mapping[str, str] | None = None, lock: int | None = None
    ) -> contextlib.AbstractAsyncContextManager[Work]: ...


class PostgresUnitOfWork:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    @contextlib.asynccontextmanager
    async def tenant(
        self, tenant_id: str | None, *, acting_for: Mapping[str, str] | None = None, lock: int | None = None
    ) -> AsyncIterator[Work]:
        """A tenant-scoped transaction (None: for no school); on a clean exit its events are written in it,
        then it commits. An exception rolls back the change and its events alike. `acting_for`: further
        settings row-level security reads (e.g. {"app.mentor_id": ...}); `lock`: a transaction-scoped
        advisory lock taken first, for changes that must not interleave."""
        async with tenant_transaction(self.pool, tenant_id, acting_for) as conn:
            if lock is not None:
                await conn.execute("SELECT pg_advisory_xact_lock($1)", lock)
            work = Work(conn)
            yield work
            await write_outbox(conn, work.events)
