"""The mentorship service's use cases, one transaction each, between the gRPC entrypoint and the SQL:
the registry of mentors and students' requests (`registry`), and rounds and the match workflow
(`matching`). Requests arrive checked: the entrypoint parses and validates them; what only the data can
refuse is raised here as NotFound or Refused."""

import contextlib
from typing import Any

from smartpick_mentorship.adapters.repository import StoredRequest, mentee_from_request
from smartpick_mentorship.domain.model import Mentee, merge_signals
from smartpick_platform.unit_of_work import UnitOfWork, Work

MATCHING_LOCK = 0x534D_4154  # "SMAT": serializes every change of held slots across schools
Row = Any  # a row as the repository returns it (asyncpg.Record; a mapping in tests)


class NotFound(LookupError):
    """What was asked for does not exist, or is not visible to who asks."""


class Refused(Exception):
    """The request is well formed but the data's state does not allow it (a replaced round, a match that
    cannot take this step)."""


def mentee_of(tenant_id: str, student_id: str, stored: StoredRequest, excluded: frozenset[str]) -> Mentee:
    """The student as matching reads them: their request, their events merged in, `excluded` mentors out."""
    return merge_signals(mentee_from_request(tenant_id, student_id, stored.request), stored.signals, excluded)


def acting(
    uow: UnitOfWork, tenant: str | None = None, mentor: str | None = None, lock: bool = False
) -> contextlib.AbstractAsyncContextManager[Work]:
    """A use case's transaction acting for a school (None: for none, i.e. platform-wide mentors) and/or a
    mentor, whom row-level security holds it to; `lock` takes the matching lock first, for anything that
    changes held slots. The events it raises are written to the outbox in it."""
    return uow.tenant(tenant, acting_for={"app.mentor_id": mentor or ""}, lock=MATCHING_LOCK if lock else None)
