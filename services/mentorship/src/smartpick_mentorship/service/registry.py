"""Mentors, students' requests, suggestions and a school's matching policy."""

import uuid
from dataclasses import dataclass

from smartpick_mentorship.adapters.mentor_pools import MentorPools
from smartpick_mentorship.adapters.repository import MentorshipRepository, StoredRequest
from smartpick_mentorship.domain.assignment import suggest
from smartpick_mentorship.domain.model import Mentee, Policy, Suggestion
from smartpick_mentorship.domain.workflow import ACTIVE, MatchStatus
from smartpick_mentorship.service import NotFound, Row, acting, mentee_of
from smartpick_platform.unit_of_work import UnitOfWork

VISIBLE_TO_STUDENT = frozenset(MatchStatus) - {MatchStatus.DRAFT, MatchStatus.WITHDRAWN}


@dataclass(frozen=True)
class MenteeView:
    """A student's request as stored, and as matching reads it (their events merged in)."""

    stored: StoredRequest
    effective: Mentee


class Registry:
    def __init__(self, uow: UnitOfWork, repository: MentorshipRepository, pools: MentorPools):
        self._uow = uow
        self._repo = repository
        self._pools = pools

    async def register_mentor(self, tenant: str | None, fields: dict) -> Row:
        async with acting(self._uow, tenant) as work:
            conn = work.conn
            row = await self._repo.insert_mentor(conn, tenant, fields)
            return await self._repo.get_mentor(conn, row["mentor_id"])

    async def update_mentor(self, tenant: str | None, mentor_id: uuid.UUID, fields: dict) -> Row:
        async with acting(self._uow, tenant) as work:
            conn = work.conn
            if await self._repo.update_mentor(conn, mentor_id, fields) is None:
                raise NotFound(f"no mentor {mentor_id} of this school")
            return await self._repo.get_mentor(conn, mentor_id)

    async def get_mentor(self, tenant: str | None, mentor_id: uuid.UUID) -> Row:
        async with acting(self._uow, tenant) as work:
            conn = work.conn
            row = await self._repo.get_mentor(conn, mentor_id)
        if row is None:
            raise NotFound(f"no mentor {mentor_id} visible to this school")
        return row

    async def list_mentors(
        self, tenant: str | None, specialty: str, after: uuid.UUID | None, size: int
    ) -> tuple[list[Row], str]:
        """A page of mentors and the token of the next ('' after the last)."""
        async with acting(self._uow, tenant) as work:
            conn = work.conn
            rows = await self._repo.list_mentors(conn, specialty, after, size + 1)
        page = rows[:size]
        return page, str(page[-1]["mentor_id"]) if len(rows) > size else ""

    # Requests and suggestions

    async def upsert_request(self, tenant: str, student: str, request: dict) -> MenteeView:
        async with acting(self._uow, tenant) as work:
            conn = work.conn
            await self._repo.upsert_request(conn, tenant, student, request)
            stored = (await self._repo.requests(conn, student))[student]
        return MenteeView(stored, mentee_of(tenant, student, stored, frozenset()))

    async def get_request(self, tenant: str, student: str) -> MenteeView:
        async with acting(self._uow, tenant) as work:
            conn = work.conn
            stored = (await self._repo.requests(conn, student)).get(student)
        if stored is None:
            raise NotFound(f"student {student} has not asked for mentorship")
        return MenteeView(stored, mentee_of(tenant, student, stored, frozenset()))

    async def suggest(self, tenant: str, student: str, limit: int) -> list[tuple[Suggestion, Row, int]]:
        """The best mentors with a free slot, each with its registry row and the slots it holds now; mentors
        the student declined, ended with, or is matched with now are left out."""
        async with acting(self._uow, tenant) as work:
            conn = work.conn
            stored = (await self._repo.requests(conn, student)).get(student)
            if stored is None:
                raise NotFound(f"student {student} has not asked for mentorship")
            excluded = (await self._repo.closed_pairs(conn, student)).get(student, frozenset())
            current = await self._repo.student_matches(conn, uuid.UUID(student), ACTIVE)
            policy = await self._repo.policy(conn)
            encoded, held = await self._pools.get(conn, tenant)
        mentee = mentee_of(tenant, student, stored, excluded | {str(m["mentor_id"]) for m in current})
        return [
            (found, encoded.rows[found.mentor_id], held.get(found.mentor_id, 0))
            for found in suggest(mentee, encoded.pool, policy, held, limit)
        ]

    async def student_matches(self, tenant: str, student: uuid.UUID) -> list[Row]:
        """The student's matches an admin has published, newest first."""
        async with acting(self._uow, tenant) as work:
            conn = work.conn
            rows = await self._repo.student_matches(conn, student, VISIBLE_TO_STUDENT)
        return list(reversed(rows))

    async def policy(self, tenant: str) -> Policy:
        async with acting(self._uow, tenant) as work:
            conn = work.conn
            return await self._repo.policy(conn)

    async def save_policy(self, tenant: str, policy: Policy) -> Policy:
        async with acting(self._uow, tenant) as work:
            conn = work.conn
            await self._repo.save_policy(conn, tenant, policy)
        return policy
