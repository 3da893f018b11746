"""The one batch consumer of the platform: a consumer-group member that hands each batch to handlers by
event type and commits only after their effects are stored.

- Dispatch: a message's `ce_type` header picks its handler, which gets the batch's messages of that type,
  parsed, in partition order, and answers for each one: None (done) or the reason it can never be used.
- Unusable messages go to the dead-letter topic with the reason: a tombstone (no value), an unknown or
  missing event type, CloudEvents headers or shared fields that do not validate (smartpick_platform.
  event_checks: a tenant id not a UUID, a profile version out of range), bytes that do not parse, a message
  its handler refuses, and one that failed
  `max_attempts` times. They are sent once per batch, after the handlers ran (a batch retried does not
  send them again); the `x-dlq-source` header (topic:partition:offset) tells a redelivery after a crash.
- Retries: an outage (the database or the broker unreachable, a connection closed) is waited out with
  capped backoff, as long as it lasts. Any other failure of a handler is retried `max_attempts` times;
  then each of the batch's messages is tried alone, so the one at fault goes to the dead-letter topic and
  the others are stored.
- Commits: the handlers, the dead letters and the commit run under one lock, which the rebalance listener
  waits for, so a partition is handed over only between batches and no offset is ever committed ahead of
  the work done. Handlers must be idempotent (they may see a message again)."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from google.protobuf.message import DecodeError
from prometheus_client import Counter

from smartpick_platform import event_checks, kafka
from smartpick_platform.topics import Topic

log = structlog.get_logger(__name__)

MESSAGES = Counter("smartpick_consumer_messages_total", "Messages a batch consumer handled", ["group", "outcome"])
RETRIES = Counter("smartpick_consumer_retries_total", "Batches retried", ["group", "kind"])

# Failures of the surroundings, not of a message: waited out however long they last.
OUTAGE = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.TransactionRollbackError,
    KafkaError,
)


@dataclass(frozen=True)
class Delivery:
    """One message with its parsed event."""

    record: Any
    event: Any

    @property
    def headers(self) -> dict[str, str]:
        return kafka.header_map(self.record.headers)


Handle = Callable[[Sequence[Delivery]], Awaitable[Sequence[str | None]]]


@dataclass(frozen=True)
class EventHandler:
    """Handles the events of one protobuf message class, whose full name is the event type (`ce_type`):
    `handle` returns, per delivery, None or why it is unusable."""

    message_class: type
    handle: Handle

    @property
    def event_type(self) -> str:
        return self.message_class.DESCRIPTOR.full_name


def _described(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def backoff_seconds(attempt: int, first: float = 0.2, cap: float = 5.0) -> float:
    return min(cap, first * 2 ** max(0, attempt - 1))


class _WaitForBatch(ConsumerRebalanceListener):
    """Partitions move only between batches: the batch in hand commits itself first."""

    def __init__(self, processing: asyncio.Lock):
        self._processing = processing

    async def on_partitions_revoked(self, revoked):
        async with self._processing:
            log.info("partitions revoked", partitions=[f"{tp.topic}:{tp.partition}" for tp in revoked])

    async def on_partitions_assigned(self, assigned):
        log.info("partitions assigned", partitions=[f"{tp.topic}:{tp.partition}" for tp in assigned])


class BatchConsumer:
    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        group: str,
        topics: Sequence[Topic],
        dead_letters: dict[str, Topic],
        handlers: Sequence[EventHandler],
        batch_size: int = 200,
        max_attempts: int = 3,
        backoff: Callable[[int], float] = backoff_seconds,
    ):
        self.consumer = consumer
        self.producer = producer
        self.group = group
        self.topics = list(topics)
        self.dead_letters = dead_letters
        self.handlers = {h.event_type: h for h in handlers}
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.processing = asyncio.Lock()
        self.running = False

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Consumes until `stop` is set or the task is cancelled; an outage of the broker is waited out."""
        stop = stop or asyncio.Event()
        self.consumer.subscribe([t.name for t in self.topics], listener=_WaitForBatch(self.processing))
        outages = 0
        while not stop.is_set():
            self.running = True
            try:
                # Not under the lock: during a rebalance getmany waits for the new assignment, which waits
                # for the listener, which waits for the lock. No await comes between getmany and taking
                # the lock, so the listener cannot slip in; a partition revoked meanwhile is dropped.
                batch = await self.consumer.getmany(timeout_ms=500, max_records=self.batch_size)
                async with self.processing:
                    assigned = self.consumer.assignment()
                    batch = {tp: records for tp, records in batch.items() if records and tp in assigned}
                    if batch:
                        await self._process_or_rewind(batch)
                outages = 0
            except OUTAGE as error:
                outages += 1
                self.running = False
                RETRIES.labels(self.group, "outage").inc()
                log.warning("consumer waiting out an outage", group=self.group, error=repr(error), attempt=outages)
                await asyncio.sleep(self.backoff(outages))
        self.running = False

    async def _process_or_rewind(self, batch: dict[TopicPartition, list]) -> None:
        """A batch that could not be finished (its dead letters or its commit failed) is read again."""
        try:
            await self.process(batch)
        except BaseException:
            for partition, records in batch.items():
                if records and partition in self.consumer.assignment():
                    self.consumer.seek(partition, records[0].offset)
            raise

    async def process(self, batch: dict[TopicPartition, list]) -> None:
        """Handles one batch, parks what is unusable, then commits each partition past its last message."""
        by_type: dict[str, list[Delivery]] = {}
        unusable: list[tuple[Any, str]] = []
        for records in batch.values():
            for record in records:
                delivery, reason = self._parse(record)
                if reason is not None:
                    unusable.append((record, reason))
                else:
                    by_type.setdefault(delivery.headers["ce_type"], []).append(delivery)
        for event_type, deliveries in by_type.items():
            reasons = await self._handle(self.handlers[event_type], deliveries, self.max_attempts)
            unusable += [(d.record, r) for d, r in zip(deliveries, reasons, strict=True) if r is not None]
            MESSAGES.labels(self.group, "handled").inc(sum(r is None for r in reasons))
        if unusable:
            sent = [await self._dead_letter(record, reason) for record, reason in unusable]
            await asyncio.gather(*sent)
            MESSAGES.labels(self.group, "dead_lettered").inc(len(unusable))
        await self.consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items() if records})

    def _parse(self, record) -> tuple[Delivery | None, str | None]:
        if record.value is None:
            return None, "a tombstone (no value): events are never deleted by key"
        headers = kafka.header_map(record.headers)
        event_type = headers.get("ce_type")
        handler = self.handlers.get(event_type or "")
        if handler is None:
            return None, f"no handler for event type {event_type!r} (the ce_type header)"
        problem = event_checks.envelope_problem(headers)
        if problem is not None:
            return None, problem
        try:
            event = handler.message_class.FromString(record.value)
        except DecodeError as error:
            return None, f"not a {handler.message_class.DESCRIPTOR.name} message: {error}"
        problem = event_checks.event_problem(event)
        if problem is not None:
            return None, f"{handler.message_class.DESCRIPTOR.name}: {problem}"
        return Delivery(record, event), None

    async def _handle(
        self, handler: EventHandler, deliveries: list[Delivery], attempts: int, alone: bool = False
    ) -> list[str | None]:
        """The handler's answers; outages are waited out, other failures retried, then split up."""
        failures = outages = 0
        while True:
            try:
                reasons = list(await handler.handle(deliveries))
                if len(reasons) != len(deliveries):
                    raise RuntimeError(f"handler of {handler.event_type} answered {len(reasons)} of {len(deliveries)}")
                return reasons
            except OUTAGE as error:
                outages += 1
                RETRIES.labels(self.group, "outage").inc()
                log.warning("handler waiting out an outage", event_type=handler.event_type, error=repr(error))
                await asyncio.sleep(self.backoff(outages))
            except Exception as error:
                failures += 1
                RETRIES.labels(self.group, "failure").inc()
                log.warning(
                    "handler failed",
                    event_type=handler.event_type,
                    error=repr(error),
                    attempt=failures,
                    size=len(deliveries),
                )
                if failures >= attempts:
                    if alone:
                        return [f"failed in a batch {self.max_attempts} times, then alone: {_described(error)}"]
                    if len(deliveries) == 1:
                        return [f"failed {failures} times: {_described(error)}"]
                    # Which message is at fault is unknown: each alone, once, tells.
                    return [(await self._handle(handler, [d], 1, alone=True))[0] for d in deliveries]
                await asyncio.sleep(self.backoff(failures))

    async def _dead_letter(self, record, reason: str):
        dead_letter = self.dead_letters[record.topic]
        return await kafka.send_to_dead_letter(self.producer, record, dead_letter, reason, self.group)
