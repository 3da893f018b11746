"""The mentorship member of the `smartpick-mentorship` consumer group: keeps each student's request current
from their ProfileUpdated and RecommendationsGenerated events.

A batch is stored in one tenant-scoped transaction per school (a part of the student's signals moves only
forward in profile version, so a redelivered or late event changes nothing); messages that cannot be used
go to the dead-letter topic with the reason; the batch's offsets are committed once, after all of that."""

import asyncio
import functools
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from google.protobuf.message import DecodeError
from prometheus_client import Counter
from smartpick.events.v1 import profile_events_pb2, recommendation_events_pb2
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from smartpick_mentorship.adapters.repository import MentorshipRepository
from smartpick_mentorship.domain.model import unique
from smartpick_platform import kafka
from smartpick_platform.telemetry import TRACE_HEADER, set_trace_id
from smartpick_platform.topics import (
    PROFILE_UPDATED,
    PROFILE_UPDATED_DLQ,
    RECOMMENDATIONS_GENERATED,
    RECOMMENDATIONS_GENERATED_DLQ,
)

log = structlog.get_logger(__name__)

GROUP_ID = "smartpick-mentorship"
DEAD_LETTER = {PROFILE_UPDATED.name: PROFILE_UPDATED_DLQ, RECOMMENDATIONS_GENERATED.name: RECOMMENDATIONS_GENERATED_DLQ}
MESSAGES = Counter(
    "smartpick_mentorship_messages_total", "Events the mentorship consumer handled", ["topic", "outcome"]
)


class Unusable(Exception):
    """The message can never be processed: it goes to the dead-letter topic."""


def _ids(event) -> tuple[str, str]:
    try:
        tenant, student = str(uuid.UUID(event.tenant_id)), str(uuid.UUID(event.student_id))
    except ValueError as error:
        raise Unusable(f"tenant_id and student_id must be UUIDs: {error}") from error
    if event.profile_version <= 0:
        raise Unusable(f"profile_version must be positive, got {event.profile_version}")
    return tenant, student


def _parse(message_class, value: bytes):
    try:
        return message_class.FromString(value or b"")
    except DecodeError as error:
        raise Unusable(f"not a {message_class.DESCRIPTOR.name} message: {error}") from error


class EventConsumer:
    def __init__(self, repository: MentorshipRepository, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer):
        self._repo = repository
        self._consumer = consumer
        self._producer = producer
        self._processing = asyncio.Lock()
        self.running = False

    async def run(self) -> None:
        """Consumes until cancelled; a database or Kafka outage is retried with backoff from the last commit."""
        kafka.subscribe(self._consumer, [PROFILE_UPDATED, RECOMMENDATIONS_GENERATED], self._processing)
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type((OSError, asyncpg.PostgresError, KafkaError)),
            wait=wait_exponential(multiplier=0.2, max=10),
        ):
            with attempt:
                self.running = True
                try:
                    await self._consume()
                finally:
                    self.running = False

    async def _consume(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=500, max_records=200)
            if batch:
                async with self._processing:
                    await self.store(batch)

    async def store(self, batch: dict[TopicPartition, list]) -> None:
        """Stores a batch in one transaction per school, parks the unusable messages, then commits once.

        On a failure nothing of the batch is committed and every one of its partitions is read again from
        its last commit once the outage is over (what was stored already is then seen as such)."""
        by_tenant: dict[str, list[tuple[str, Apply]]] = {}
        deliveries = []
        for records in batch.values():
            for record in records:
                try:
                    tenant, apply = _signal(record)
                except Unusable as unusable:
                    MESSAGES.labels(record.topic, "dead_lettered").inc()
                    deliveries.append(
                        await kafka.send_to_dead_letter(
                            self._producer, record, DEAD_LETTER[record.topic], str(unusable), GROUP_ID
                        )
                    )
                    continue
                by_tenant.setdefault(tenant, []).append((record.topic, apply))
        try:
            for tenant, changes in by_tenant.items():
                async with self._repo.scope(tenant) as conn:
                    stored = [(topic, await apply(conn)) for topic, apply in changes]
                for topic, was_stored in stored:
                    MESSAGES.labels(topic, "stored" if was_stored else "already_seen").inc()
            await asyncio.gather(*deliveries)
        except Exception:
            for partition in batch:
                committed = await self._consumer.committed(partition)
                if committed is None:
                    await self._consumer.seek_to_beginning(partition)
                else:
                    self._consumer.seek(partition, committed)
            raise
        await self._consumer.commit({partition: records[-1].offset + 1 for partition, records in batch.items()})


Apply = Callable[[asyncpg.Connection], Awaitable[bool]]


def _signal(record) -> tuple[str, Apply]:
    """The school a message belongs to and the change it makes to its student's signals."""
    set_trace_id(kafka.header_map(record.headers).get(TRACE_HEADER))
    if record.topic == PROFILE_UPDATED.name:
        event = _parse(profile_events_pb2.ProfileUpdated, record.value)
        tenant, student = _ids(event)
        preferences = event.profile.preferences
        return tenant, functools.partial(
            MentorshipRepository.apply_profile,
            tenant_id=tenant,
            student_id=student,
            version=event.profile_version,
            specialties=unique(preferences.specialties),
            states=unique(s.upper() for s in preferences.preferred_states),
        )
    event = _parse(recommendation_events_pb2.RecommendationsGenerated, record.value)
    tenant, student = _ids(event)
    programs = event.application_list
    return tenant, functools.partial(
        MentorshipRepository.apply_recommendations,
        tenant_id=tenant,
        student_id=student,
        version=event.profile_version,
        specialties=unique([*event.specialties, *(p.specialty for p in programs)]),
        states=unique(p.state.upper() for p in programs),
        programs=unique(p.name for p in programs),
    )
