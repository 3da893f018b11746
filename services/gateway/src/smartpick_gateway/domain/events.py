"""The ProfileUpdated event a stored profile version gives rise to."""

import uuid
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from smartpick.events.v1 import profile_events_pb2
from smartpick.profile.v1 import profile_pb2

EVENT_NAMESPACE = uuid.UUID("5f0c6a52-3c1e-4d0b-9a8e-6b8f2f0f7a11")
PROFILE_UPDATED_TYPE = "smartpick.events.v1.ProfileUpdated"
EVENT_SOURCE = "/smartpick/gateway"


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
