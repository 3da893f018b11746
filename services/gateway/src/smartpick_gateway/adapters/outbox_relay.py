"""Publishes the outbox to Kafka in insertion order, so a student's events keep their order.

One relay at a time holds a PostgreSQL advisory lock (any number of gateways may run one); it wakes on
NOTIFY from the request that wrote the row, and polls as a fallback. A row is marked published only
after Kafka acknowledged it (acks=all), so a crash at any point re-sends rather than loses; the event
id lets consumers drop the duplicate."""

import asyncio
import json

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge, Histogram
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from smartpick_gateway.adapters.repository import OUTBOX_CHANNEL

log = structlog.get_logger(__name__)

RELAY_LOCK_ID = 0x5350_4F42  # "SPOB": the one advisory lock that makes a single relay active
PUBLISHED = Counter("smartpick_outbox_published_total", "Outbox events published to Kafka", ["topic"])
PENDING = Gauge("smartpick_outbox_pending", "Outbox events not yet published")
DELAY = Histogram(
    "smartpick_outbox_pickup_delay_seconds",
    "Age of an outbox event when the relay picks it up",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class OutboxRelay:
    def __init__(
        self, pool: asyncpg.Pool, producer: AIOKafkaProducer, batch_size: int = 500, poll_seconds: float = 1.0
    ):
        self._pool = pool
        self._producer = producer
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
            # Polls a database lock held by another gateway's relay: there is no event to wait on.
            while not await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK_ID):  # noqa: ASYNC110
                await asyncio.sleep(self._poll_seconds)
            await lock_conn.add_listener(OUTBOX_CHANNEL, self._on_notify)
            self.active = True
            log.info("outbox relay active")
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
                await lock_conn.remove_listener(OUTBOX_CHANNEL, self._on_notify)
                await lock_conn.execute("SELECT pg_advisory_unlock($1)", RELAY_LOCK_ID)

    def _on_notify(self, *_args) -> None:
        self._wake.set()

    async def publish_batch(self) -> int:
        """Publishes the oldest unpublished rows; returns how many."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT id, topic, message_key, payload, headers, extract(epoch FROM now() - create_time) AS age
                   FROM outbox WHERE publish_time IS NULL ORDER BY id LIMIT $1""",
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
                "UPDATE outbox SET publish_time = now() WHERE id = ANY($1::bigint[])", [row["id"] for row in rows]
            )
            for row in rows:
                PUBLISHED.labels(row["topic"]).inc()
                DELAY.observe(float(row["age"]))
            PENDING.set(await conn.fetchval("SELECT count(*) FROM outbox WHERE publish_time IS NULL"))
            log.debug("outbox published", count=len(rows))
            return len(rows)
