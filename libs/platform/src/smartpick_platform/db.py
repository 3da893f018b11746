"""PostgreSQL access: schema migrations with yoyo, an asyncpg pool, and tenant-scoped transactions.

Two roles per service database (docs/operations.md, "Database roles"): the migration role owns the tables and
applies the migrations; the runtime role, which the service's processes connect as, owns nothing, cannot
bypass row-level security, and holds only the DML grants `apply_migrations` gives it."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncpg
import psycopg
import structlog
from psycopg import sql
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


class PrivilegedRuntimeRole(RuntimeError):
    """The role a service serves as could undo row-level security: it owns tables (and so could alter them or
    switch their policies off), or is a superuser, or has BYPASSRLS."""


# yoyo's bookkeeping: the runtime role reads it (to verify nothing is pending) and never writes it.
YOYO_TABLES = ("_yoyo_migration", "_yoyo_log", "_yoyo_version", "yoyo_lock")


def runtime_grants(runtime_role: str, database: str) -> list[sql.Composed]:
    """What the runtime role may do in the service's database: connect (no other role of another service may),
    and read and write rows of the service's tables (row-level security still applies). No TRUNCATE,
    REFERENCES or TRIGGER, no CREATE."""
    role = sql.Identifier(runtime_role)
    return [
        sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), role),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(role),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role),
        sql.SQL("REVOKE INSERT, UPDATE, DELETE ON {} FROM {}").format(
            sql.SQL(", ").join(map(sql.Identifier, YOYO_TABLES)), role
        ),
    ]


def _grant(migration_url: str, runtime_role: str) -> None:
    """Gives the runtime role its grants on every table (each run re-applies them, so a table a migration
    added is covered)."""
    with psycopg.connect(migration_url, autocommit=True) as conn:
        database = conn.execute("SELECT current_database()").fetchone()[0]
        for statement in runtime_grants(runtime_role, database):
            conn.execute(statement)


def check_runtime_role(database_url: str) -> None:
    """Refuses to serve as a role that could undo row-level security (PrivilegedRuntimeRole says how to fix)."""
    with psycopg.connect(database_url) as conn:
        role, superuser, bypassrls = conn.execute(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        owned = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"
            )
        ]
    problems = [name for name, present in (("is a superuser", superuser), ("has BYPASSRLS", bypassrls)) if present]
    if owned:
        problems.append(
            f"owns {', '.join(sorted(owned))} (as a superuser: REASSIGN OWNED BY {role} TO <its migration role>)"
        )
    if problems:
        raise PrivilegedRuntimeRole(
            f"the service's database role {role} {'; '.join(problems)}: connect as its runtime role instead"
        )


def apply_migrations(migration_url: str, *migrations_dirs: Path, runtime_role: str) -> list[str]:
    """Applies the pending migrations of one service (its own, then shared ones such as the outbox's) as the
    migration role, under yoyo's lock so concurrent starts are safe; then grants `runtime_role` its DML."""
    backend = get_backend(_yoyo_url(migration_url))
    migrations = read_migrations(*(str(d) for d in migrations_dirs))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
        _grant(migration_url, runtime_role)
    applied = [m.id for m in pending]
    log.info("migrations applied", applied=applied, total=len(migrations), runtime_role=runtime_role)
    return applied


def pending_migrations(database_url: str, *migrations_dirs: Path) -> list[str]:
    backend = get_backend(_yoyo_url(database_url))
    return [m.id for m in backend.to_apply(read_migrations(*(str(d) for d in migrations_dirs)))]


def role_of(database_url: str) -> str:
    """The role a database URL logs in as."""
    user = urlsplit(database_url).username
    if not user:
        raise ValueError("the database URL names no user: postgresql://<role>:<password>@<host>/<database>")
    return unquote(user)


async def migrate(database_url: str, *migrations_dirs: Path, migration_database_url: str | None) -> list[str]:
    """At a service's start: applies what is pending as the migration role (migration_database_url) and grants
    the runtime role (database_url's) its DML; or, with SMARTPICK_MIGRATIONS=verify (where a migration Job
    runs before the rollout), changes nothing and refuses to start on a schema behind the code. Either way it
    then refuses to serve as a role that could undo row-level security."""
    if PlatformSettings().migrations == "apply":
        if not migration_database_url:
            raise ValueError(
                "SMARTPICK_MIGRATIONS=apply needs SMARTPICK_<SERVICE>_MIGRATION_DATABASE_URL, the migration role's "
                "URL: set it, or run the service's migration job and start with SMARTPICK_MIGRATIONS=verify"
            )
        applied = await asyncio.to_thread(
            apply_migrations, migration_database_url, *migrations_dirs, runtime_role=role_of(database_url)
        )
    else:
        pending = await asyncio.to_thread(pending_migrations, database_url, *migrations_dirs)
        if pending:
            raise PendingMigrations(f"migration(s) {', '.join(pending)} not applied: run the service's migration job")
        log.info("migrations verified: none pending")
        applied = []
    await asyncio.to_thread(check_runtime_role, database_url)
    return applied


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """A released connection needs no reset query: the pool still rolls back a transaction left open, and
    the services keep no session state on pooled connections (settings are transaction-local, locks are
    transaction-scoped). The outbox relay, the one user of LISTEN and a session lock, resets its own."""


def connection_limits(settings: PlatformSettings) -> dict[str, str]:
    """The bounds every runtime session runs under (PostgreSQL takes milliseconds; 0 turns one off): a
    statement past its time is cancelled, a transaction left idle is ended with its session."""
    return {
        "statement_timeout": str(round(settings.database_statement_timeout_seconds * 1000)),
        "idle_in_transaction_session_timeout": str(round(settings.database_idle_in_transaction_timeout_seconds * 1000)),
    }


async def create_pool(database_url: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool of runtime sessions under the settings' timeouts, whose release costs no round trip (asyncpg's
    default reset is one query per release)."""
    return await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        reset=_keep_session,
        server_settings=connection_limits(PlatformSettings()),
    )


async def act_for(
    conn: asyncpg.Connection, tenant_id: str | uuid.UUID | None, acting_for: Mapping[str, str] | None = None
) -> None:
    """Row-level security sees `tenant_id`'s rows (app.tenant_id) until the transaction ends; None names no
    school, for rows that belong to none (the platform's own). `acting_for`: further settings it reads (e.g.
    {"app.mentor_id": ...}), set in the same statement."""
    settings = {"app.tenant_id": "" if tenant_id is None else str(tenant_id), **(acting_for or {})}
    calls = ", ".join(f"set_config(${2 * i + 1}, ${2 * i + 2}, true)" for i in range(len(settings)))
    await conn.execute(f"SELECT {calls}", *(part for pair in settings.items() for part in pair))


@contextlib.asynccontextmanager
async def tenant_transaction(
    pool: asyncpg.Pool, tenant_id: str | uuid.UUID | None, acting_for: Mapping[str, str] | None = None
) -> AsyncIterator[asyncpg.Connection]:
    """A transaction in which row-level security sees only `tenant_id`'s rows (app.tenant_id), and whatever
    else `acting_for` names."""
    async with pool.acquire() as conn, conn.transaction():
        await act_for(conn, tenant_id, acting_for)
        yield conn


async def is_ready(pool: asyncpg.Pool) -> bool:
    try:
        async with pool.acquire(timeout=1) as conn:
            return await conn.fetchval("SELECT 1") == 1
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
