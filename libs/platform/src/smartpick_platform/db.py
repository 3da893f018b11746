"""PostgreSQL access: schema migrations with yoyo, an asyncpg pool, and tenant-scoped transactions."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import structlog
from yoyo import get_backend, read_migrations

from smartpick_platform.settings import PlatformSettings

log = structlog.get_logger(__name__)


def _yoyo_url(database_url: str) -> str:
    scheme, rest = database_url.split("://", 1)
    if scheme not in ("postgresql", "postgres"):
        raise ValueError(f"database URL must start with postgresql://, got {scheme}://")
    return f"postgresql+psycopg://{rest}"


class PendingMigrations(RuntimeError):
    """The schema is behind the code: the service's migration Job has not run (SMARTPICK_MIGRATIONS=verify)."""


def apply_migrations(database_url: str, *migrations_dirs: Path) -> list[str]:
    """Applies the pending migrations of one service (its own, then shared ones such as the outbox's), under
    yoyo's lock so concurrent starts are safe."""
    backend = get_backend(_yoyo_url(database_url))
    migrations = read_migrations(*(str(d) for d in migrations_dirs))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    applied = [m.id for m in pending]
    log.info("migrations applied", applied=applied, total=len(migrations))
    return applied


def pending_migrations(database_url: str, *migrations_dirs: Path) -> list[str]:
    backend = get_backend(_yoyo_url(database_url))
    return [m.id for m in backend.to_apply(read_migrations(*(str(d) for d in migrations_dirs)))]


async def migrate(database_url: str, *migrations_dirs: Path) -> list[str]:
    """At a service's start: applies what is pending, or with SMARTPICK_MIGRATIONS=verify (where a migration
    Job runs before the rollout) changes nothing and refuses to start on a schema behind the code."""
    if PlatformSettings().migrations == "apply":
        return await asyncio.to_thread(apply_migrations, database_url, *migrations_dirs)
    pending = await asyncio.to_thread(pending_migrations, database_url, *migrations_dirs)
    if pending:
        raise PendingMigrations(f"migration(s) {', '.join(pending)} not applied: run the service's migration job")
    log.info("migrations verified: none pending")
    return []


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """A released connection needs no reset query: the pool still rolls back a transaction left open, and
    the services keep no session state on pooled connections (settings are transaction-local, locks are
    transaction-scoped). The outbox relay, the one user of LISTEN and a session lock, resets its own."""


async def create_pool(database_url: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose release costs no round trip (asyncpg's default reset is one query per release)."""
    return await asyncpg.create_pool(database_url, min_size=min_size, max_size=max_size, reset=_keep_session)


@contextlib.asynccontextmanager
async def tenant_transaction(pool: asyncpg.Pool, tenant_id: str) -> AsyncIterator[asyncpg.Connection]:
    """A transaction in which row-level security sees only `tenant_id`'s rows (app.tenant_id)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
        yield conn


async def is_ready(pool: asyncpg.Pool) -> bool:
    try:
        async with pool.acquire(timeout=1) as conn:
            return await conn.fetchval("SELECT 1") == 1
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
