"""The ProfileUpdated event a stored profile version gives rise to, ready for the outbox."""

import uuid
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from smartpick.events.v1 import profile_events_pb2
from smartpick.profile.v1 import profile_pb2

from smartpick_platform.kafka import cloudevent_headers
from smartpick_platform.outbox import OutboxMessage
from smartpick_platform.telemetry import current_trace_id
from smartpick_platform.topics import PROFILE_UPDATED

EVENT_NAMESPACE = uuid.UUID("5f0c6a52-3c1e-4d0b-9a8e-6b8f2f0f7a11")
PROFILE_UPDATED_TYPE = "smartpick.events.v1.ProfileUpdated"
EVENT_SOURCE = "/smartpick/profile"


def profile_event_id(tenant_id: str, student_id: str, version: int) -> uuid.UUID:
    """One id per (tenant, student, version): recording the same version twice makes the same event."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{tenant_id}/{student_id}/{version}")


def profile_updated(
    version: profile_pb2.ProfileVersion, now: datetime | None = None
) -> profile_events_pb2.ProfileUpdated:
    occur_time = Timestamp()
    occur_time.FromDatetime(now or datetime.now(UTC))
    return profile_events_pb2.ProfileUpdated(
        event_id=str(profile_event_id(version.tenant_id, version.student_id, version.version)),
        tenant_id=version.tenant_id,
        student_id=version.student_id,
        profile_version=version.version,
        profile=version.profile,
        occur_time=occur_time,
    )


def profile_updated_message(version: profile_pb2.ProfileVersion) -> OutboxMessage:
    """The outbox row of a new version's ProfileUpdated, keyed by student so one student's events keep order."""
    event = profile_updated(version)
    return OutboxMessage(
        event_id=uuid.UUID(event.event_id),
        tenant_id=version.tenant_id,
        topic=PROFILE_UPDATED.name,
        key=version.student_id,
        payload=event.SerializeToString(),
        headers=cloudevent_headers(
            event_id=event.event_id,
            event_type=PROFILE_UPDATED_TYPE,
            source=EVENT_SOURCE,
            time=event.occur_time.ToDatetime(),
            trace_id=current_trace_id(),
        ),
    )
