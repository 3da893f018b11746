"""What the platform batch consumer checks of every event before a handler sees it: the CloudEvents envelope
and the fields the events of smartpick.events.v1 share. A message that fails goes to the dead-letter topic
with the first reason found, and the partition moves on.

Authentication and ACLs keep strangers off the topics. These checks stop a client that may write a topic (a
compromised or buggy producer) from planting an event no producer of the platform would write: a
ProfileUpdated of version 2^62 would make every later real version look old to the consumers that keep the
newest, and freeze that student's data; a tenant id that is not a UUID names no school.

Unknown fields are accepted: a newer producer may add fields within v1 (backward-compatible changes only)."""

import uuid
from collections.abc import Mapping

from google.protobuf.message import Message

from smartpick_platform.kafka import CE_SPECVERSION, CONTENT_TYPE

# A profile gets one version per change a person saves; a student saving every minute for two years makes about
# a million. The profile service never writes a version past it (smartpick_profile.domain).
MAX_PROFILE_VERSION = 1_000_000
# Fields every event carries, each a UUID in its canonical text form (lowercase, hyphenated).
ID_FIELDS = ("event_id", "tenant_id", "student_id")
REQUIRED_HEADERS = ("ce_id", "ce_type", "ce_source", "ce_specversion", "content-type")


def _canonical_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def envelope_problem(headers: Mapping[str, str]) -> str | None:
    """Why the CloudEvents headers are not those of the contract (docs/events.md), or None."""
    missing = [name for name in REQUIRED_HEADERS if not headers.get(name)]
    if missing:
        return f"missing CloudEvents header(s) {', '.join(missing)}"
    if headers["ce_specversion"] != CE_SPECVERSION:
        return f"ce_specversion must be {CE_SPECVERSION!r}, got {headers['ce_specversion'][:40]!r}"
    if headers["content-type"] != CONTENT_TYPE:
        return f"content-type must be {CONTENT_TYPE!r}, got {headers['content-type'][:60]!r}"
    return None


def event_problem(event: Message) -> str | None:
    """Why the event's shared fields do not validate (ids not canonical UUIDs, a version out of range), or None."""
    fields = event.DESCRIPTOR.fields_by_name
    for name in ID_FIELDS:
        if name in fields and not _canonical_uuid(getattr(event, name)):
            return f"{name} must be a UUID (lowercase, hyphenated), got {getattr(event, name)[:60]!r}"
    if "profile_version" in fields and not 1 <= event.profile_version <= MAX_PROFILE_VERSION:
        return f"profile_version must be between 1 and {MAX_PROFILE_VERSION}, got {event.profile_version}"
    return None
