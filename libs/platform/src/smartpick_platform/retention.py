"""Retention: a periodic purge of rows past their time (published outbox rows, idempotency records, ended
sessions), so that no table grows for ever.

Each round deletes at most `max_batches` batches of `batch_rows` rows per table, each batch its own short
statement (rows another transaction holds are skipped, not waited on), so a backlog is worked off over a few
rounds rather than in one long lock; a round logs what it purged and whether rows remain. Any number of
replicas may purge at once. A database outage costs a round, logged, never the process."""

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import structlog
from prometheus_client import Counter

log = structlog.get_logger(__name__)

PURGED = Counter("smartpick_retention_purged_rows_total", "Rows the retention purge deleted", ["what"])
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
TRANSIENT = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


@dataclass(frozen=True)
class TablePurge:
    """Rows of `table` whose `row_time` (an SQL expression over its columns, written in code) is older than
    `keep` ago. A NULL row_time (an outbox row not yet published) is never purged."""

    what: str
    table: str
    row_time: str
    keep: timedelta

    def __post_init__(self):
        if not _IDENTIFIER.match(self.table):
            raise ValueError(f"not a plain SQL identifier: {self.table!r}")

    @property
    def statement(self) -> str:
        return f"""WITH gone AS (
                     DELETE FROM {self.table} WHERE ctid = ANY(ARRAY(
                       SELECT ctid FROM {self.table} WHERE {self.row_time} < now() - $2::interval
                       LIMIT $1 FOR UPDATE SKIP LOCKED))
                     RETURNING 1)
                   SELECT count(*) FROM gone"""


@dataclass(frozen=True)
class FunctionPurge:
    """A purge the database defines as a function `function(batch_rows, keep) RETURNS bigint` (one whose rows
    row-level security would otherwise hide from a purge that acts for no tenant)."""

    what: str
    function: str
    keep: timedelta

    def __post_init__(self):
        if not _IDENTIFIER.match(self.function):
            raise ValueError(f"not a plain SQL identifier: {self.function!r}")

    @property
    def statement(self) -> str:
        return f"SELECT {self.function}($1, $2::interval)"


# Either way, a statement that deletes at most $1 rows older than $2 ago and returns how many it deleted.
Purge = TablePurge | FunctionPurge


async def purge(pool: asyncpg.Pool, what: Purge, batch_rows: int, max_batches: int) -> tuple[int, bool]:
    """One round of one purge: (rows deleted, whether a full last batch suggests more remain)."""
    deleted, more = 0, False
    for _ in range(max_batches):
        batch = await pool.fetchval(what.statement, batch_rows, what.keep, timeout=30)
        deleted += batch
        more = batch == batch_rows
        if not more:
            break
    PURGED.labels(what.what).inc(deleted)
    return deleted, more


async def run_retention(
    pool: asyncpg.Pool,
    purges: Sequence[Purge],
    interval_seconds: float,
    batch_rows: int = 5000,
    max_batches: int = 10,
) -> None:
    """Purges every `interval_seconds` until cancelled, the first round at once."""
    while True:
        for what in purges:
            try:
                deleted, more = await purge(pool, what, batch_rows, max_batches)
            except TRANSIENT as error:
                log.warning("retention purge failed; next round retries", what=what.what, error=repr(error))
                continue
            if deleted:
                log.info("retention purged", what=what.what, rows=deleted, more_remain=more)
        await asyncio.sleep(interval_seconds)
