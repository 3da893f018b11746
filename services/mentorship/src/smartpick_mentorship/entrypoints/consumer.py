"""The mentorship member of the `smartpick-mentorship` consumer group: keeps each student's request current
from their ProfileUpdated and RecommendationsGenerated events.

It runs on the platform batch consumer (smartpick_platform.consumer: dispatch by event type, retries,
dead letters, one commit per batch after the work). Each event type's share of a batch is stored in one
tenant-scoped transaction per school (a part of the student's signals moves only forward in profile
version, so a redelivered or late event changes nothing). An event whose ids or version do not validate never
reaches the handlers (the platform consumer's checks, smartpick_platform.event_checks): it goes to the
dead-letter topic with the reason, as does one another school's data refuses (row-level security)."""

import functools
from collections.abc import Awaitable, Callable, Sequence

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import Counter
from smartpick.events.v1 import profile_events_pb2, recommendation_events_pb2

from smartpick_mentorship.adapters.repository import MentorshipRepository
from smartpick_mentorship.domain.model import unique
from smartpick_platform.consumer import BatchConsumer, Delivery, EventHandler
from smartpick_platform.telemetry import TRACE_HEADER, set_trace_id
from smartpick_platform.topics import (
    PROFILE_UPDATED,
    PROFILE_UPDATED_DLQ,
    RECOMMENDATIONS_GENERATED,
    RECOMMENDATIONS_GENERATED_DLQ,
)
from smartpick_platform.unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)

GROUP_ID = "smartpick-mentorship"
DEAD_LETTER = {PROFILE_UPDATED.name: PROFILE_UPDATED_DLQ, RECOMMENDATIONS_GENERATED.name: RECOMMENDATIONS_GENERATED_DLQ}
MESSAGES = Counter(
    "smartpick_mentorship_messages_total", "Events the mentorship consumer handled", ["topic", "outcome"]
)


class EventConsumer:
    """The platform batch consumer with one handler per event type; each stores its events in one
    transaction per school."""

    def __init__(self, uow: UnitOfWork, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer):
        self._uow = uow
        self.consumer = BatchConsumer(
            consumer,
            producer,
            GROUP_ID,
            topics=[PROFILE_UPDATED, RECOMMENDATIONS_GENERATED],
            dead_letters=DEAD_LETTER,
            handlers=[
                EventHandler(profile_events_pb2.ProfileUpdated, functools.partial(self._store, _profile_change)),
                EventHandler(
                    recommendation_events_pb2.RecommendationsGenerated,
                    functools.partial(self._store, _recommendations_change),
                ),
            ],
        )

    @property
    def running(self) -> bool:
        return self.consumer.running

    async def run(self) -> None:
        """Consumes until cancelled."""
        await self.consumer.run()

    async def _store(self, change: "Change", deliveries: Sequence[Delivery]) -> list[str | None]:
        """Stores the deliveries' changes, one transaction per school; a failure fails the whole call (the
        platform consumer retries, then tries each message alone)."""
        by_tenant: dict[str, list[tuple[int, Apply]]] = {}
        for index, delivery in enumerate(deliveries):
            set_trace_id(delivery.headers.get(TRACE_HEADER))
            tenant, apply = change(delivery.event)
            by_tenant.setdefault(tenant, []).append((index, apply))
        for tenant, changes in by_tenant.items():
            async with self._uow.tenant(tenant) as work:
                stored = [await apply(work.conn) for _, apply in changes]
            for (index, _), was_stored in zip(changes, stored, strict=True):
                MESSAGES.labels(deliveries[index].record.topic, "stored" if was_stored else "already_seen").inc()
        return [None] * len(deliveries)


Apply = Callable[[asyncpg.Connection], Awaitable[bool]]


Change = Callable[[object], tuple[str, Apply]]


def _profile_change(event: profile_events_pb2.ProfileUpdated) -> tuple[str, Apply]:
    """The school a ProfileUpdated belongs to and the change it makes to its student's signals."""
    tenant, student = event.tenant_id, event.student_id
    preferences = event.profile.preferences
    return tenant, functools.partial(
        MentorshipRepository.apply_profile,
        tenant_id=tenant,
        student_id=student,
        version=event.profile_version,
        specialties=unique(preferences.specialties),
        states=unique(s.upper() for s in preferences.preferred_states),
    )


def _recommendations_change(event: recommendation_events_pb2.RecommendationsGenerated) -> tuple[str, Apply]:
    tenant, student = event.tenant_id, event.student_id
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
