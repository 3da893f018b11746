"""The transactional outbox: a service writes its events to a table of its own database in the same
transaction as the change they report, and a relay publishes that table to Kafka.

The table lives once, here: `MIGRATIONS` (applied by every service that publishes, beside its own). Its
columns: `id bigserial` (publish order), `event_id uuid UNIQUE`, `tenant_id uuid`, `topic`, `message_key`,
`payload bytea`, `headers jsonb` ([[name, value], ...]), `create_time`, `publish_time` (NULL until Kafka
acknowledged the row), and `set_aside_time`, `set_aside_reason` for a row Kafka refuses for good.

One relay at a time holds a PostgreSQL advisory lock (any number of replicas may run one) and reads every
batch on the session that holds the lock: a session-level advisory lock lasts as long as its session, so a
batch read there proves the lock still held, and a relay whose session died fails its next read and stops.
Two relays overlap by one batch at most, and only when the lock's session died mid-batch. It wakes on NOTIFY
from the transaction that wrote the rows, and polls as a fallback. A row is marked published as soon as
Kafka acknowledged it (acks=all), so a crash at any point re-sends rather than loses; the event id lets
consumers drop the duplicate. Rows go out in id order, keyed, so one key's events keep their order. A row
Kafka can never take (larger than a message may be, say) is set aside with its reason, a log line naming it
and a metric, instead of holding up every row behind it.
Database and Kafka outages (a PostgreSQL restart included) are waited out with capped backoff."""

import asyncio
import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer, errors
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge, Histogram
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from smartpick_platform.retention import TablePurge

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations" / "outbox"
DEFAULT_TABLE = "outbox"
DEFAULT_CHANNEL = "smartpick_outbox"
DEFAULT_LOCK_ID = 0x5350_4F42  # "SPOB": advisory locks are per database, so one id serves every service
SESSION_CHECK_SECONDS = 5  # a batch read on the lock's session that takes longer: the session is taken as lost
PUBLISHED = Counter("smartpick_outbox_published_total", "Outbox events published to Kafka", ["topic"])
SET_ASIDE = Counter("smartpick_outbox_set_aside_total", "Outbox events Kafka refused for good", ["topic"])
PENDING = Gauge("smartpick_outbox_pending", "Outbox events not yet published")
DELAY = Histogram(
    "smartpick_outbox_pickup_delay_seconds",
    "Age of an outbox event when the relay picks it up",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def retention(table: str = DEFAULT_TABLE, keep: timedelta = timedelta(hours=24)) -> TablePurge:
    """The outbox's purge: rows Kafka acknowledged more than `keep` ago (rows set aside stay for a person)."""
    return TablePurge(f"published {table} rows", _identifier(table), "publish_time", keep)


# What a relay waits out: a database or broker outage, a connection closed under it, a lost lock.
TRANSIENT = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, KafkaError)


def _identifier(name: str) -> str:
    """Table and channel names are interpolated into SQL, so only plain lower-case identifiers pass."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


@dataclass(frozen=True)
class OutboxMessage:
    event_id: uuid.UUID
    tenant_id: str
    topic: str
    key: str
    payload: bytes
    headers: list[tuple[str, bytes]]


async def write_outbox(
    conn: asyncpg.Connection,
    messages: list[OutboxMessage],
    table: str = DEFAULT_TABLE,
    channel: str = DEFAULT_CHANNEL,
) -> None:
    """Inserts the messages in the caller's transaction (a known event id is skipped) and wakes the relay
    when that transaction commits. One statement: outside a transaction it is atomic on its own."""
    if not messages:
        return
    await conn.execute(
        f"""WITH written AS (
                INSERT INTO {_identifier(table)} (event_id, tenant_id, topic, message_key, payload, headers)
                SELECT event_id, tenant_id, topic, message_key, payload, headers
                FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::bytea[], $6::jsonb[])
                     WITH ORDINALITY AS m(event_id, tenant_id, topic, message_key, payload, headers, position)
                ORDER BY position
                ON CONFLICT (event_id) DO NOTHING)
            SELECT pg_notify($7, '')""",
        [m.event_id for m in messages],
        [uuid.UUID(m.tenant_id) for m in messages],
        [m.topic for m in messages],
        [m.key for m in messages],
        [m.payload for m in messages],
        [json.dumps([[k, v.decode()] for k, v in m.headers]) for m in messages],
        _identifier(channel),
    )


# What Kafka refuses about the message itself, so that no retry can help. Everything else (a broker down, a
# timeout, a missing permission) is about the surroundings and is retried: a row is never set aside for an
# outage. (aiokafka marks KafkaTimeoutError not retriable, which is why this list is explicit.)
REFUSED_FOR_GOOD = (
    errors.MessageSizeTooLargeError,
    errors.RecordTooLargeError,
    errors.RecordListTooLargeError,
    errors.InvalidTopicError,
    errors.CorruptRecordException,
    errors.InvalidTimestampError,
)


def _is_permanent(error: BaseException) -> bool:
    return isinstance(error, REFUSED_FOR_GOOD)


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        table: str = DEFAULT_TABLE,
        channel: str = DEFAULT_CHANNEL,
        lock_id: int = DEFAULT_LOCK_ID,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
    ):
        self._pool = pool
        self._producer = producer
        self._table = _identifier(table)
        self._channel = _identifier(channel)
        self._lock_id = lock_id
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self.active = False

    async def run(self) -> None:
        """Runs until cancelled; waits out database and Kafka outages with capped backoff."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(TRANSIENT),
            wait=wait_exponential(multiplier=0.2, max=5),
            before_sleep=lambda state: log.warning(
                "outbox relay waiting", table=self._table, error=repr(state.outcome.exception())
            ),
        ):
            with attempt:
                await self._run_while_leader()

    async def _run_while_leader(self) -> None:
        lock_conn = await self._pool.acquire()
        try:
            # Polls a database lock held by another replica's relay: there is no event to wait on.
            while not await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", self._lock_id):  # noqa: ASYNC110
                await asyncio.sleep(self._poll_seconds)
            await lock_conn.add_listener(self._channel, self._on_notify)
            self.active = True
            log.info("outbox relay active", table=self._table)
            while True:
                self._wake.clear()
                if await self.publish_batch(lock_conn) < self._batch_size:
                    try:
                        await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
                    except TimeoutError:
                        pass
        finally:
            self.active = False
            # Ending the session drops its LISTEN and its lock, and works on a connection already broken
            # (a reset would raise there); the pool opens a fresh one in its place.
            lock_conn.terminate()
            await self._pool.release(lock_conn)

    def _on_notify(self, *_args) -> None:
        self._wake.set()

    async def publish_batch(self, conn: asyncpg.Connection) -> int:
        """Publishes the oldest rows waiting, read on `conn` (the lock's session); returns how many were
        taken (published or set aside).

        Rows Kafka acknowledged are marked published even when others of the batch failed; a row Kafka
        refuses for good is set aside; a transient failure is raised once the rest is marked."""
        rows = await conn.fetch(
            f"""SELECT id, event_id, topic, message_key, payload, headers,
                       extract(epoch FROM now() - create_time) AS age
                FROM {self._table} WHERE publish_time IS NULL AND set_aside_time IS NULL
                ORDER BY id LIMIT $1""",
            self._batch_size,
            timeout=SESSION_CHECK_SECONDS,
        )
        if not rows:
            PENDING.set(0)
            return 0
        sent, refused = [], []
        for row in rows:
            try:
                delivery = await self._producer.send(
                    row["topic"],
                    value=row["payload"],
                    key=row["message_key"].encode(),
                    headers=[(k, v.encode()) for k, v in json.loads(row["headers"])],
                )
            except KafkaError as error:  # refused before sending: too large, unknown topic name
                if not _is_permanent(error):
                    raise
                refused.append((row, error))
                continue
            sent.append((row, delivery))
        results = await asyncio.gather(*(delivery for _, delivery in sent), return_exceptions=True)
        delivered = [row for (row, _), result in zip(sent, results, strict=True) if not isinstance(result, Exception)]
        failed = [
            (row, result) for (row, _), result in zip(sent, results, strict=True) if isinstance(result, Exception)
        ]
        refused += [(row, error) for row, error in failed if _is_permanent(error)]
        await self._mark(conn, delivered, refused)
        transient = [error for _, error in failed if not _is_permanent(error)]
        if transient:
            raise transient[0]
        await self._count_pending(conn, len(rows))
        return len(rows)

    async def _mark(self, conn: asyncpg.Connection, delivered: list, refused: list) -> None:
        if delivered:
            await conn.execute(
                f"UPDATE {self._table} SET publish_time = now() WHERE id = ANY($1::bigint[])",
                [row["id"] for row in delivered],
            )
        for row in delivered:
            PUBLISHED.labels(row["topic"]).inc()
            DELAY.observe(float(row["age"]))
        for row, error in refused:
            reason = f"{type(error).__name__}: {error}"[:1000]
            await conn.execute(
                f"UPDATE {self._table} SET set_aside_time = now(), set_aside_reason = $2 WHERE id = $1",
                row["id"],
                reason,
            )
            SET_ASIDE.labels(row["topic"]).inc()
            log.error(
                "outbox row set aside: Kafka refuses it for good",
                outbox_id=row["id"],
                event_id=str(row["event_id"]),
                topic=row["topic"],
                bytes=len(row["payload"]),
                reason=reason,
            )
        log.debug("outbox published", count=len(delivered), set_aside=len(refused))

    async def _count_pending(self, conn: asyncpg.Connection, taken: int) -> None:
        # A short batch took every row that was waiting; only a full one needs counting what is left.
        if taken == self._batch_size:
            PENDING.set(
                await conn.fetchval(
                    f"SELECT count(*) FROM {self._table} WHERE publish_time IS NULL AND set_aside_time IS NULL"
                )
            )
        else:
            PENDING.set(0)
