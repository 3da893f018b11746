"""Rounds and the match workflow. Every change of a match stores its status, its transition and its
MentorshipMatched event in the outbox in one transaction (the data's owner writes its event), and anything
that changes held slots takes the matching lock first (`service.acting`)."""

import asyncio
import collections
import uuid
from dataclasses import dataclass
from typing import Any

from smartpick_mentorship.adapters.mentor_pools import MentorPools
from smartpick_mentorship.adapters.repository import MentorshipRepository, reasons_from_json
from smartpick_mentorship.domain.assignment import next_best, plan_round
from smartpick_mentorship.domain.events import MatchFacts, mentorship_matched
from smartpick_mentorship.domain.workflow import ACTIVE, MatchStatus, TransitionRefused, event_id, step
from smartpick_mentorship.service import NotFound, Refused, Row, acting, mentee_of
from smartpick_platform.telemetry import current_trace_id
from smartpick_platform.unit_of_work import UnitOfWork, Work


@dataclass(frozen=True)
class RoundView:
    round: Row
    matches: list[Row]


def match_facts(row: Row, note: str = "", rating: int = 0) -> MatchFacts:
    return MatchFacts(
        match_id=str(row["match_id"]),
        tenant_id=str(row["tenant_id"]),
        student_id=str(row["student_id"]),
        mentor_id=str(row["mentor_id"]),
        round_id=str(row["round_id"] or ""),
        score=row["score"],
        reasons=reasons_from_json(row["reasons"]),
        profile_version=row["profile_version"],
        note=note or row["note"],
        rating=rating or row["rating"],
    )


class Matching:
    def __init__(self, uow: UnitOfWork, repository: MentorshipRepository, pools: MentorPools):
        self._uow = uow
        self._repo = repository
        self._pools = pools

    async def run_round(self, tenant: str) -> RoundView:
        """A draft round over every student who asked and has no open match; it replaces the school's
        unpublished round, whose drafts give their slots back."""
        async with acting(self._uow, tenant, lock=True) as work:
            conn = work.conn
            await self._withdraw_drafts(conn, tenant)
            policy = await self._repo.policy(conn)
            encoded, held = await self._pools.get(conn, tenant)
            requests = await self._repo.requests(conn)
            closed = await self._repo.closed_pairs(conn)
            kept = await self._repo.students_with_open_match(conn) & requests.keys()
            mentees = [mentee_of(tenant, s, r, closed.get(s, frozenset())) for s, r in requests.items()]
            plan = await asyncio.to_thread(plan_round, mentees, encoded.pool, policy, held, kept)
            round_id = str(uuid.uuid4())
            await self._repo.insert_round(
                conn,
                {
                    "round_id": round_id,
                    "tenant_id": tenant,
                    "cohort_size": len(mentees) - len(kept),
                    "kept_matches": len(kept),
                    "unassigned": plan.unassigned,
                    "total_score": plan.total_score,
                },
            )
            versions = {p.student_id: requests[p.student_id].profile_version for p in plan.proposals}
            await self._draft(
                conn, tenant, round_id, [(p.student_id, p, versions[p.student_id]) for p in plan.proposals]
            )
            return await self._round(conn, uuid.UUID(round_id))

    async def _draft(self, conn, tenant: str, round_id: str, proposals: list[tuple[str, Any, int]]) -> list[str]:
        """Stores (student, proposal, profile version) as draft matches holding their mentors' slots."""
        drafts = [
            {
                "match_id": str(uuid.uuid4()),
                "tenant_id": tenant,
                "student_id": student,
                "mentor_id": proposal.mentor_id,
                "round_id": round_id,
                "status": MatchStatus.DRAFT.value,
                "score": proposal.score,
                "reasons": proposal.reasons,
                "profile_version": version,
            }
            for student, proposal, version in proposals
        ]
        await self._repo.insert_matches(conn, drafts)
        await self._repo.change_load(conn, collections.Counter(d["mentor_id"] for d in drafts))
        await self._repo.record_transitions(
            conn, [(tenant, d["match_id"], d["mentor_id"], None, "draft", None) for d in drafts]
        )
        return [d["match_id"] for d in drafts]

    async def _withdraw_drafts(self, conn, tenant: str) -> None:
        rounds = await self._repo.draft_rounds(conn)
        if not rounds:
            return
        drafts = await self._repo.round_matches(conn, rounds, MatchStatus.DRAFT)
        await self._repo.set_status(conn, [d["match_id"] for d in drafts], MatchStatus.WITHDRAWN)
        await self._repo.change_load(
            conn, {m: -n for m, n in collections.Counter(str(d["mentor_id"]) for d in drafts).items()}
        )
        await self._repo.record_transitions(
            conn, [(tenant, d["match_id"], d["mentor_id"], "draft", "withdrawn", None) for d in drafts]
        )
        await self._repo.set_round_status(conn, rounds, "withdrawn")

    async def _round(self, conn, round_id: uuid.UUID) -> RoundView:
        return RoundView(await self._repo.get_round(conn, round_id), await self._repo.round_matches(conn, [round_id]))

    async def get_round(self, tenant: str, round_id: uuid.UUID) -> RoundView:
        async with acting(self._uow, tenant) as work:
            conn = work.conn
            if await self._repo.get_round(conn, round_id) is None:
                raise NotFound(f"no round {round_id} in this school")
            return await self._round(conn, round_id)

    async def publish_round(self, tenant: str, round_id: uuid.UUID) -> RoundView:
        """Offers every draft of the round to its mentor; publishing a published round changes nothing."""
        async with acting(self._uow, tenant) as work:
            conn = work.conn
            row = await self._repo.get_round(conn, round_id, for_update=True)
            if row is None:
                raise NotFound(f"no round {round_id} in this school")
            if row["status"] == "withdrawn":
                raise Refused("a newer round replaced this one")
            if row["status"] == "draft":
                drafts = await self._repo.round_matches(conn, [round_id], MatchStatus.DRAFT)
                await self._move(work, drafts, MatchStatus.PROPOSED)
                await self._repo.set_round_status(conn, [round_id], "published")
            return await self._round(conn, round_id)

    async def _move(self, work: Work, rows: list[Row], target: MatchStatus, note: str = "", rating: int = 0) -> bool:
        """Moves matches to `target`: stores the status, each transition and its event, frees slots.
        Raises TransitionRefused for a step the workflow does not allow; False when every match was there."""
        changes = [(row, step(MatchStatus(row["status"]), target)) for row in rows]
        changes = [(row, s) for row, s in changes if s.changed]
        if not changes:
            return False
        conn = work.conn
        await self._repo.set_status(conn, [row["match_id"] for row, _ in changes], target, note, rating)
        await self._repo.record_transitions(
            conn,
            [
                (
                    row["tenant_id"],
                    row["match_id"],
                    row["mentor_id"],
                    row["status"],
                    target.value,
                    event_id(str(row["match_id"]), s.event) if s.event else None,
                )
                for row, s in changes
            ],
        )
        trace = current_trace_id()
        for row, s in changes:
            if s.event:
                work.raise_event(mentorship_matched(match_facts(row, note, rating), s.event, trace))
        freed = collections.Counter(str(row["mentor_id"]) for row, s in changes if s.frees_slot)
        await self._repo.change_load(conn, {m: -n for m, n in freed.items()})
        return True

    # The mentor's side

    async def mentor_inbox(self, mentor: uuid.UUID) -> tuple[list[Row], list[Row]]:
        """(proposals waiting for the mentor's answer, accepted matches)."""
        async with acting(self._uow, mentor=str(mentor)) as work:
            rows = await self._repo.mentor_matches(work.conn, mentor, ACTIVE)
        return (
            [r for r in rows if r["status"] == MatchStatus.PROPOSED],
            [r for r in rows if r["status"] == MatchStatus.ACCEPTED],
        )

    async def _school_of_match(self, mentor: uuid.UUID, match_id: uuid.UUID) -> str:
        """The school of a match offered to this mentor; drafts and other mentors' matches are not found."""
        async with acting(self._uow, mentor=str(mentor)) as work:
            row = await self._repo.get_match(work.conn, match_id)
        if row is None or row["mentor_id"] != mentor or row["status"] == MatchStatus.DRAFT:
            raise NotFound(f"no match {match_id} for this mentor")
        return str(row["tenant_id"])

    async def respond(
        self, mentor: uuid.UUID, match_id: uuid.UUID, answer: MatchStatus, note: str
    ) -> tuple[Row, Row | None]:
        """The mentor accepts or declines; after a decline the student is offered the best mentor left at
        once. Returns the match and that next proposal (None if there is none)."""
        tenant = await self._school_of_match(mentor, match_id)
        async with acting(self._uow, tenant, str(mentor), lock=answer is MatchStatus.DECLINED) as work:
            conn = work.conn
            row = await self._repo.get_match(conn, match_id, for_update=True)
            try:
                changed = await self._move(work, [row], answer, note=note)
            except TransitionRefused as refused:
                raise Refused(str(refused)) from refused
            next_row = None
            if changed and answer is MatchStatus.DECLINED:
                next_row = await self._propose_next_best(work, tenant, str(row["student_id"]), row["round_id"])
            return await self._repo.get_match(conn, match_id), next_row

    async def _propose_next_best(self, work: Work, tenant: str, student: str, round_id) -> Row | None:
        conn = work.conn
        stored = (await self._repo.requests(conn, student)).get(student)
        if stored is None:
            return None
        excluded = (await self._repo.closed_pairs(conn, student)).get(student, frozenset())
        encoded, held = await self._pools.get(conn, tenant)
        policy = await self._repo.policy(conn)
        best = next_best(mentee_of(tenant, student, stored, excluded), encoded.pool, policy, held)
        if best is None:
            return None
        (match_id,) = await self._draft(
            conn, tenant, str(round_id) if round_id else "", [(student, best, stored.profile_version)]
        )
        draft = await self._repo.get_match(conn, uuid.UUID(match_id), for_update=True)
        await self._move(work, [draft], MatchStatus.PROPOSED)
        return await self._repo.get_match(conn, uuid.UUID(match_id))

    async def end_match(
        self,
        match_id: uuid.UUID,
        feedback: str,
        rating: int,
        tenant: str | None = None,
        mentor: uuid.UUID | None = None,
        student: uuid.UUID | None = None,
    ) -> Row:
        """Ends a match for its mentor, or for its school (its admin, or its student when `student` is
        given); a match that is not theirs is not found."""
        if mentor is not None:
            tenant = await self._school_of_match(mentor, match_id)
        async with acting(self._uow, tenant, str(mentor) if mentor else None, lock=True) as work:
            conn = work.conn
            row = await self._repo.get_match(conn, match_id, for_update=True)
            if (
                row is None
                or (mentor is not None and row["mentor_id"] != mentor)
                or (student is not None and row["student_id"] != student)
            ):
                raise NotFound(f"no match {match_id} here")
            try:
                await self._move(work, [row], MatchStatus.ENDED, feedback, rating)
            except TransitionRefused as refused:
                raise Refused(str(refused)) from refused
            return await self._repo.get_match(conn, match_id)
