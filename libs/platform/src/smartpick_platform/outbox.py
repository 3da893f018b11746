"""The transactional outbox: a service writes its events to a table of its own database in the same
transaction as the change they report, and a relay publishes that table to Kafka.

The table (one per service database) has these columns; see a service's migrations for the DDL:
`id bigserial` (publish order), `event_id uuid UNIQUE`, `tenant_id uuid`, `topic`, `message_key`,
`payload bytea`, `headers jsonb` ([[name, value], ...]), `create_time`, `publish_time` (NULL until sent).

One relay at a time holds a PostgreSQL advisory lock (any number of replicas may run one); it wakes on
NOTIFY from the transaction that wrote the rows, and polls as a fallback. A row is marked published only
after Kafka acknowledged it (acks=all), so a crash at any point re-sends rather than loses; the event id
lets consumers drop the duplicate. Rows go out in id order, keyed, so one key's events keep their order."""

import asyncio
import json
import re
import uuid
from dataclasses import dataclass

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge, Histogram
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

log = structlog.get_logger(__name__)

DEFAULT_TABLE = "outbox"
DEFAULT_CHANNEL = "smartpick_outbox"
DEFAULT_LOCK_ID = 0x5350_4F42  # "SPOB": advisory locks are per database, so one id serves every service
PUBLISHED = Counter("smartpick_outbox_published_total", "Outbox events published to Kafka", ["topic"])
PENDING = Gauge("smartpick_outbox_pending", "Outbox events not yet published")
DELAY = Histogram(
    "smartpick_outbox_pickup_delay_seconds",
    "Age of an outbox event when the relay picks it up",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


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
        """Runs until cancelled; survives database and Kafka outages by retrying with backoff."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type((OSError, asyncpg.PostgresError, KafkaError)),
            wait=wait_exponential(multiplier=0.2, max=10),
        ):
            with attempt:
                await self._run_while_leader()

    async def _run_while_leader(self) -> None:
        async with self._pool.acquire() as lock_conn:
            # Polls a database lock held by another replica's relay: there is no event to wait on.
            while not await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", self._lock_id):  # noqa: ASYNC110
                await asyncio.sleep(self._poll_seconds)
            await lock_conn.add_listener(self._channel, self._on_notify)
            self.active = True
            log.info("outbox relay active", table=self._table)
            try:
                while True:
                    self._wake.clear()
                    if await self.publish_batch() < self._batch_size:
                        try:
                            await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
                        except TimeoutError:
                            pass
            finally:
                self.active = False
                # Drops the LISTEN and the session lock before the connection goes back to the pool.
                await lock_conn.reset()

    def _on_notify(self, *_args) -> None:
        self._wake.set()

    async def publish_batch(self) -> int:
        """Publishes the oldest unpublished rows; returns how many."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                f"""SELECT id, topic, message_key, payload, headers,
                           extract(epoch FROM now() - create_time) AS age
                    FROM {self._table} WHERE publish_time IS NULL ORDER BY id LIMIT $1""",
                self._batch_size,
            )
            if not rows:
                PENDING.set(0)
                return 0
            deliveries = [
                await self._producer.send(
                    row["topic"],
                    value=row["payload"],
                    key=row["message_key"].encode(),
                    headers=[(k, v.encode()) for k, v in json.loads(row["headers"])],
                )
                for row in rows
            ]
            await asyncio.gather(*deliveries)
            await conn.execute(
                f"UPDATE {self._table} SET publish_time = now() WHERE id = ANY($1::bigint[])",
                [row["id"] for row in rows],
            )
            for row in rows:
                PUBLISHED.labels(row["topic"]).inc()
                DELAY.observe(float(row["age"]))
            # A short batch took every row that was waiting; only a full one needs counting what is left.
            if len(rows) == self._batch_size:
                PENDING.set(await conn.fetchval(f"SELECT count(*) FROM {self._table} WHERE publish_time IS NULL"))
            else:
                PENDING.set(0)
            log.debug("outbox published", count=len(rows))
            return len(rows)
