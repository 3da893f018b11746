"""The mentorship service's use cases, one transaction each, between the gRPC entrypoint and the SQL:
the registry of mentors and students' requests (`registry`), and rounds and the match workflow
(`matching`). Requests arrive checked: the entrypoint parses and validates them; what only the data can
refuse is raised here as NotFound or Refused."""

from typing import Any

from smartpick_mentorship.adapters.repository import StoredRequest, mentee_from_request
from smartpick_mentorship.domain.model import Mentee, merge_signals

Row = Any  # a row as the repository returns it (asyncpg.Record; a mapping in tests)


class NotFound(LookupError):
    """What was asked for does not exist, or is not visible to who asks."""


class Refused(Exception):
    """The request is well formed but the data's state does not allow it (a replaced round, a match that
    cannot take this step)."""


def mentee_of(tenant_id: str, student_id: str, stored: StoredRequest, excluded: frozenset[str]) -> Mentee:
    """The student as matching reads them: their request, their events merged in, `excluded` mentors out."""
    return merge_signals(mentee_from_request(tenant_id, student_id, stored.request), stored.signals, excluded)
