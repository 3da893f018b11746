"""mentorship.v1.MentorshipService over gRPC: parses and checks requests, runs the domain inside one
transaction per call, stores every transition with its event in the outbox."""

import asyncio
import collections
import gc
import uuid
from dataclasses import dataclass

import asyncpg
import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from smartpick.mentorship.v1 import mentorship_pb2, mentorship_pb2_grpc

from smartpick_mentorship.adapters.repository import (
    MentorshipRepository,
    StoredRequest,
    mentee_from_request,
    mentor_from_row,
    reasons_from_json,
)
from smartpick_mentorship.domain.assignment import next_best, plan_round, suggest
from smartpick_mentorship.domain.events import MatchFacts, mentorship_matched, reason_proto
from smartpick_mentorship.domain.model import CRITERIA, Goal, Mentee, Policy, merge_signals, unique
from smartpick_mentorship.domain.scoring import MentorPool
from smartpick_mentorship.domain.validation import validate_mentor, validate_policy, validate_request
from smartpick_mentorship.domain.workflow import MatchStatus, TransitionRefused, event_id, step
from smartpick_platform.grpc_errors import abort_invalid, require_uuid
from smartpick_platform.telemetry import current_trace_id

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100
MAX_SUGGESTIONS = 50
DEFAULT_SUGGESTIONS = 5
MAX_NOTE = 2000
GOAL_OF_PROTO = {mentorship_pb2.MentorshipGoal.Value(f"MENTORSHIP_GOAL_{g.name}"): g for g in Goal}
PROTO_OF_GOAL = {g: v for v, g in GOAL_OF_PROTO.items()}
STATUS_PROTO = {s: mentorship_pb2.MatchStatus.Value(f"MATCH_STATUS_{s.name}") for s in MatchStatus}
ROUND_STATUS_PROTO = {
    "draft": mentorship_pb2.ROUND_STATUS_DRAFT,
    "published": mentorship_pb2.ROUND_STATUS_PUBLISHED,
    "withdrawn": mentorship_pb2.ROUND_STATUS_WITHDRAWN,
}


def _timestamp(value) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


async def _goals(context, field: str, values) -> list[Goal]:
    if any(v not in GOAL_OF_PROTO for v in values):
        await abort_invalid(context, {field: "use applications, research, interviews or wellbeing"})
    return list(dict.fromkeys(GOAL_OF_PROTO[v] for v in values))


async def _mentor_fields(context, profile: mentorship_pb2.MentorProfile) -> dict:
    fields = {
        "display_name": profile.display_name.strip(),
        "specialty": profile.specialty.strip(),
        "subspecialties": list(unique(profile.subspecialties)),
        "institution": profile.institution.strip(),
        "state": profile.state.strip(),
        "research_interests": list(unique(profile.research_interests)),
        "languages": list(unique(profile.languages)),
        "goals": [g.value for g in await _goals(context, "profile.goals", profile.goals)],
        "capacity": profile.capacity,
        "availability_hours_per_month": profile.availability_hours_per_month,
        "accepting_new_mentees": profile.accepting_new_mentees,
        "accepts_other_schools": profile.accepts_other_schools,
    }
    if errors := validate_mentor(fields):
        await abort_invalid(context, {f"profile.{field}": why for field, why in errors.items()})
    return fields


def mentor_proto(row, held: int | None = None) -> mentorship_pb2.Mentor:
    mentor = mentor_from_row(row)
    return mentorship_pb2.Mentor(
        mentor_id=mentor.mentor_id,
        tenant_id=mentor.tenant_id or "",
        profile=mentorship_pb2.MentorProfile(
            display_name=mentor.display_name,
            specialty=mentor.specialty,
            subspecialties=mentor.subspecialties,
            institution=mentor.institution,
            state=mentor.state,
            research_interests=mentor.research_interests,
            languages=mentor.languages,
            goals=[PROTO_OF_GOAL[g] for g in mentor.goals],
            capacity=mentor.capacity,
            availability_hours_per_month=mentor.availability_hours_per_month,
            accepting_new_mentees=mentor.accepting_new_mentees,
            accepts_other_schools=mentor.accepts_other_schools,
        ),
        held_slots=row["held"] if held is None else held,
        create_time=_timestamp(row["create_time"]),
    )


def match_proto(row) -> mentorship_pb2.Match:
    return mentorship_pb2.Match(
        match_id=str(row["match_id"]),
        tenant_id=str(row["tenant_id"]),
        student_id=str(row["student_id"]),
        mentor_id=str(row["mentor_id"]),
        round_id=str(row["round_id"] or ""),
        status=STATUS_PROTO[MatchStatus(row["status"])],
        score=row["score"],
        reasons=[reason_proto(r) for r in reasons_from_json(row["reasons"])],
        note=row["note"],
        rating=row["rating"],
        create_time=_timestamp(row["create_time"]),
        update_time=_timestamp(row["update_time"]),
        mentor_display_name=row["mentor_display_name"] or "",
        mentor_specialty=row["mentor_specialty"] or "",
    )


def facts(row, note: str = "", rating: int = 0) -> MatchFacts:
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


def request_from_proto(request: mentorship_pb2.MenteeRequest) -> dict:
    return {
        "goals": [GOAL_OF_PROTO[g].value for g in request.goals if g in GOAL_OF_PROTO],
        "preferred_specialties": list(unique(request.preferred_specialties)),
        "subspecialties": list(unique(request.subspecialties)),
        "research_interests": list(unique(request.research_interests)),
        "preferred_states": list(unique(request.preferred_states)),
        "preferred_institutions": list(unique(request.preferred_institutions)),
        "languages": list(unique(request.languages)),
        "hours_per_month": request.hours_per_month or 2.0,
    }


def request_proto(stored: dict) -> mentorship_pb2.MenteeRequest:
    return mentorship_pb2.MenteeRequest(
        goals=[PROTO_OF_GOAL[Goal(g)] for g in stored["goals"]],
        preferred_specialties=stored["preferred_specialties"],
        subspecialties=stored["subspecialties"],
        research_interests=stored["research_interests"],
        preferred_states=stored["preferred_states"],
        preferred_institutions=stored["preferred_institutions"],
        languages=stored["languages"],
        hours_per_month=stored["hours_per_month"],
    )


def mentee_of(tenant_id: str, student_id: str, stored: StoredRequest, excluded: frozenset[str]) -> Mentee:
    return merge_signals(mentee_from_request(tenant_id, student_id, stored.request), stored.signals, excluded)


def effective_proto(mentee: Mentee, stored: StoredRequest) -> mentorship_pb2.EffectiveRequest:
    return mentorship_pb2.EffectiveRequest(
        specialties=mentee.specialties,
        states=mentee.states,
        institution_targets=mentee.institution_targets,
        profile_version=stored.profile_version,
        recommendations_profile_version=stored.recommendations_version,
    )


def round_proto(row, matches) -> mentorship_pb2.Round:
    return mentorship_pb2.Round(
        round_id=str(row["round_id"]),
        tenant_id=str(row["tenant_id"]),
        status=ROUND_STATUS_PROTO[row["status"]],
        cohort_size=row["cohort_size"],
        kept_matches=row["kept_matches"],
        proposals=[match_proto(m) for m in matches],
        unassigned_student_ids=[str(s) for s in row["unassigned"]],
        total_score=row["total_score"],
        create_time=_timestamp(row["create_time"]),
        publish_time=_timestamp(row["publish_time"]),
    )


def policy_proto(policy: Policy) -> mentorship_pb2.MatchingPolicy:
    return mentorship_pb2.MatchingPolicy(
        weights={str(c): policy.weights.get(c, 0.0) for c in CRITERIA},
        require_specialty_match=policy.require_specialty_match,
        require_shared_language=policy.require_shared_language,
        min_score=policy.min_score,
    )


@dataclass(frozen=True)
class EncodedPool:
    fingerprint: tuple
    pool: MentorPool
    rows: dict[str, asyncpg.Record]


class MentorPools:
    """The encoded pool of the mentors each school may match with, kept in memory and rebuilt only when the
    school's registry fingerprint changes: a suggestion then costs a few small queries, not a re-encoding."""

    def __init__(self, repository: MentorshipRepository, schools: int = 256):
        self._repo = repository
        self._schools = schools
        self._pools: collections.OrderedDict[str, EncodedPool] = collections.OrderedDict()

    async def get(self, conn, tenant: str) -> tuple[EncodedPool, dict[str, int]]:
        """The school's pool and the slots every mentor holds now, read in the caller's transaction."""
        fingerprint = await self._repo.registry_fingerprint(conn)
        cached = self._pools.get(tenant)
        if cached is None or cached.fingerprint != fingerprint:
            rows = await self._repo.visible_mentor_rows(conn)
            cached = EncodedPool(
                fingerprint,
                MentorPool([mentor_from_row(r) for r in rows]),
                {str(r["mentor_id"]): r for r in rows},
            )
            self._pools[tenant] = cached
            # Long-lived: take everything alive now out of the cyclic collector's generations, or a full
            # collection re-scans the pools' objects inside a suggestion call (measured: p99 48 ms -> 9 ms).
            # A replaced pool has no reference cycles, so reference counting still frees it.
            gc.freeze()
            if len(self._pools) > self._schools:
                self._pools.popitem(last=False)
        self._pools.move_to_end(tenant)
        return cached, await self._repo.held(conn)


class MentorshipServicer(mentorship_pb2_grpc.MentorshipServiceServicer):
    def __init__(self, repository: MentorshipRepository):
        self._repo = repository
        self._pools = MentorPools(repository)

    async def _tenant(self, context, value: str, required: bool = True) -> str | None:
        if not value and not required:
            return None
        return str(await require_uuid(context, "tenant_id", value))

    # Registry

    async def RegisterMentor(self, request, context):
        tenant = await self._tenant(context, request.tenant_id, required=False)
        fields = await _mentor_fields(context, request.profile)
        async with self._repo.scope(tenant) as conn:
            row = await self._repo.insert_mentor(conn, tenant, fields)
            row = await self._repo.get_mentor(conn, row["mentor_id"])
        return mentorship_pb2.RegisterMentorResponse(mentor=mentor_proto(row))

    async def UpdateMentor(self, request, context):
        tenant = await self._tenant(context, request.tenant_id, required=False)
        mentor_id = await require_uuid(context, "mentor_id", request.mentor_id)
        fields = await _mentor_fields(context, request.profile)
        async with self._repo.scope(tenant) as conn:
            if await self._repo.update_mentor(conn, mentor_id, fields) is None:
                await context.abort(grpc.StatusCode.NOT_FOUND, f"no mentor {mentor_id} of this school")
            row = await self._repo.get_mentor(conn, mentor_id)
        return mentorship_pb2.UpdateMentorResponse(mentor=mentor_proto(row))

    async def GetMentor(self, request, context):
        tenant = await self._tenant(context, request.tenant_id, required=False)
        mentor_id = await require_uuid(context, "mentor_id", request.mentor_id)
        async with self._repo.scope(tenant) as conn:
            row = await self._repo.get_mentor(conn, mentor_id)
        if row is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no mentor {mentor_id} visible to this school")
        return mentorship_pb2.GetMentorResponse(mentor=mentor_proto(row))

    async def ListMentors(self, request, context):
        tenant = await self._tenant(context, request.tenant_id, required=False)
        if not 0 <= request.page_size <= MAX_PAGE_SIZE:
            await abort_invalid(context, {"page_size": f"0-{MAX_PAGE_SIZE}"})
        size = request.page_size or DEFAULT_PAGE_SIZE
        after = await require_uuid(context, "page_token", request.page_token) if request.page_token else None
        async with self._repo.scope(tenant) as conn:
            rows = await self._repo.list_mentors(conn, request.specialty.strip(), after, size + 1)
        page = rows[:size]
        token = str(page[-1]["mentor_id"]) if len(rows) > size else ""
        return mentorship_pb2.ListMentorsResponse(mentors=[mentor_proto(r) for r in page], next_page_token=token)

    # Requests and suggestions

    async def UpsertMenteeRequest(self, request, context):
        tenant = await self._tenant(context, request.tenant_id)
        student = str(await require_uuid(context, "student_id", request.student_id))
        await _goals(context, "request.goals", request.request.goals)
        stored = request_from_proto(request.request)
        if errors := validate_request(stored):
            await abort_invalid(context, {f"request.{field}": why for field, why in errors.items()})
        async with self._repo.scope(tenant) as conn:
            await self._repo.upsert_request(conn, tenant, student, stored)
            found = (await self._repo.requests(conn, student))[student]
        mentee = mentee_of(tenant, student, found, frozenset())
        return mentorship_pb2.UpsertMenteeRequestResponse(
            request=request_proto(found.request), effective=effective_proto(mentee, found)
        )

    async def GetMenteeRequest(self, request, context):
        tenant = await self._tenant(context, request.tenant_id)
        student = str(await require_uuid(context, "student_id", request.student_id))
        async with self._repo.scope(tenant) as conn:
            found = (await self._repo.requests(conn, student)).get(student)
        if found is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"student {student} has not asked for mentorship")
        mentee = mentee_of(tenant, student, found, frozenset())
        return mentorship_pb2.GetMenteeRequestResponse(
            request=request_proto(found.request), effective=effective_proto(mentee, found)
        )

    async def SuggestMentors(self, request, context):
        tenant = await self._tenant(context, request.tenant_id)
        student = str(await require_uuid(context, "student_id", request.student_id))
        if not 0 <= request.limit <= MAX_SUGGESTIONS:
            await abort_invalid(context, {"limit": f"1-{MAX_SUGGESTIONS}"})
        async with self._repo.scope(tenant) as conn:
            found = (await self._repo.requests(conn, student)).get(student)
            if found is None:
                await context.abort(grpc.StatusCode.NOT_FOUND, f"student {student} has not asked for mentorship")
            excluded = (await self._repo.closed_pairs(conn, student)).get(student, frozenset())
            current = await self._repo.matches(
                conn, "x.student_id = $1 AND x.status = ANY($2::text[])", uuid.UUID(student), ["proposed", "accepted"]
            )
            policy = await self._repo.policy(conn)
            encoded, held = await self._pools.get(conn, tenant)
        mentee = mentee_of(tenant, student, found, excluded | {str(m["mentor_id"]) for m in current})
        found_suggestions = suggest(mentee, encoded.pool, policy, held, request.limit or DEFAULT_SUGGESTIONS)
        return mentorship_pb2.SuggestMentorsResponse(
            suggestions=[
                mentorship_pb2.Suggestion(
                    mentor=mentor_proto(encoded.rows[s.mentor_id], held.get(s.mentor_id, 0)),
                    score=s.score,
                    reasons=[reason_proto(r) for r in s.reasons],
                )
                for s in found_suggestions
            ]
        )

    async def ListStudentMatches(self, request, context):
        tenant = await self._tenant(context, request.tenant_id)
        student = await require_uuid(context, "student_id", request.student_id)
        async with self._repo.scope(tenant) as conn:
            rows = await self._repo.matches(
                conn, "x.student_id = $1 AND NOT x.status = ANY($2::text[])", student, ["draft", "withdrawn"]
            )
        return mentorship_pb2.ListStudentMatchesResponse(matches=[match_proto(r) for r in reversed(rows)])

    # Rounds

    async def RunRound(self, request, context):
        tenant = await self._tenant(context, request.tenant_id)
        async with self._repo.scope(tenant, lock=True) as conn:
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
            drafts = [
                {
                    "match_id": str(uuid.uuid4()),
                    "tenant_id": tenant,
                    "student_id": p.student_id,
                    "mentor_id": p.mentor_id,
                    "round_id": round_id,
                    "status": MatchStatus.DRAFT.value,
                    "score": p.score,
                    "reasons": p.reasons,
                    "profile_version": requests[p.student_id].profile_version,
                }
                for p in plan.proposals
            ]
            await self._repo.insert_matches(conn, drafts)
            await self._repo.change_load(conn, collections.Counter(d["mentor_id"] for d in drafts))
            await self._repo.record_transitions(
                conn, [(tenant, d["match_id"], d["mentor_id"], None, "draft", None) for d in drafts]
            )
            return mentorship_pb2.RunRoundResponse(round=await self._round(conn, uuid.UUID(round_id)))

    async def _withdraw_drafts(self, conn, tenant: str) -> None:
        """A new round replaces the school's unpublished one: its drafts give their slots back."""
        rounds = await self._repo.draft_rounds(conn)
        if not rounds:
            return
        drafts = await self._repo.matches(conn, "x.round_id = ANY($1::uuid[]) AND x.status = 'draft'", rounds)
        await self._repo.set_status(conn, [d["match_id"] for d in drafts], MatchStatus.WITHDRAWN)
        await self._repo.change_load(
            conn, {m: -n for m, n in collections.Counter(str(d["mentor_id"]) for d in drafts).items()}
        )
        await self._repo.record_transitions(
            conn, [(tenant, d["match_id"], d["mentor_id"], "draft", "withdrawn", None) for d in drafts]
        )
        await self._repo.set_round_status(conn, rounds, "withdrawn")

    async def _round(self, conn, round_id: uuid.UUID) -> mentorship_pb2.Round:
        row = await self._repo.get_round(conn, round_id)
        matches = await self._repo.matches(conn, "x.round_id = $1", round_id)
        return round_proto(row, matches)

    async def GetRound(self, request, context):
        tenant = await self._tenant(context, request.tenant_id)
        round_id = await require_uuid(context, "round_id", request.round_id)
        async with self._repo.scope(tenant) as conn:
            if await self._repo.get_round(conn, round_id) is None:
                await context.abort(grpc.StatusCode.NOT_FOUND, f"no round {round_id} in this school")
            return mentorship_pb2.GetRoundResponse(round=await self._round(conn, round_id))

    async def PublishRound(self, request, context):
        tenant = await self._tenant(context, request.tenant_id)
        round_id = await require_uuid(context, "round_id", request.round_id)
        async with self._repo.scope(tenant) as conn:
            row = await self._repo.get_round(conn, round_id, for_update=True)
            if row is None:
                await context.abort(grpc.StatusCode.NOT_FOUND, f"no round {round_id} in this school")
            if row["status"] == "withdrawn":
                await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "a newer round replaced this one")
            if row["status"] == "draft":
                drafts = await self._repo.matches(conn, "x.round_id = $1 AND x.status = 'draft'", round_id)
                await self._move(conn, drafts, MatchStatus.PROPOSED)
                await self._repo.set_round_status(conn, [round_id], "published")
            return mentorship_pb2.PublishRoundResponse(round=await self._round(conn, round_id))

    async def _move(self, conn, rows, target: MatchStatus, note: str = "", rating: int = 0) -> bool:
        """Moves matches to `target`: stores the status, each transition and its event, frees slots.

        Returns False when there was nothing to do (every match already there)."""
        changes = [(row, step(MatchStatus(row["status"]), target)) for row in rows]
        changes = [(row, s) for row, s in changes if s.changed]
        if not changes:
            return False
        await self._repo.set_status(conn, [row["match_id"] for row, _ in changes], target, note, rating)
        events = [mentorship_matched(facts(row, note, rating), s.event, current_trace_id()) for row, s in changes]
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
        await self._repo.publish(conn, [e for e, (_, s) in zip(events, changes, strict=True) if s.event])
        freed = collections.Counter(str(row["mentor_id"]) for row, s in changes if s.frees_slot)
        await self._repo.change_load(conn, {m: -n for m, n in freed.items()})
        return True

    # The mentor's side

    async def ListMentorInbox(self, request, context):
        mentor = await require_uuid(context, "mentor_id", request.mentor_id)
        async with self._repo.scope(mentor_id=str(mentor)) as conn:
            rows = await self._repo.matches(
                conn, "x.mentor_id = $1 AND x.status = ANY($2::text[])", mentor, ["proposed", "accepted"]
            )
        return mentorship_pb2.ListMentorInboxResponse(
            pending=[match_proto(r) for r in rows if r["status"] == "proposed"],
            current=[match_proto(r) for r in rows if r["status"] == "accepted"],
        )

    async def _school_of_match(self, context, mentor: uuid.UUID, match_id: uuid.UUID) -> str:
        """The school of a match offered to this mentor; NOT_FOUND for drafts and other mentors' matches."""
        async with self._repo.scope(mentor_id=str(mentor)) as conn:
            row = await self._repo.get_match(conn, match_id)
        if row is None or row["mentor_id"] != mentor or row["status"] == MatchStatus.DRAFT:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no match {match_id} for this mentor")
        return str(row["tenant_id"])

    async def RespondToProposal(self, request, context):
        mentor = await require_uuid(context, "mentor_id", request.mentor_id)
        match_id = await require_uuid(context, "match_id", request.match_id)
        targets = {
            mentorship_pb2.DECISION_ACCEPT: MatchStatus.ACCEPTED,
            mentorship_pb2.DECISION_DECLINE: MatchStatus.DECLINED,
        }
        if request.decision not in targets:
            await abort_invalid(context, {"decision": "accept or decline"})
        if len(request.note) > MAX_NOTE:
            await abort_invalid(context, {"note": f"at most {MAX_NOTE} characters"})
        target = targets[request.decision]
        tenant = await self._school_of_match(context, mentor, match_id)
        async with self._repo.scope(tenant, str(mentor), lock=target is MatchStatus.DECLINED) as conn:
            row = await self._repo.get_match(conn, match_id, for_update=True)
            try:
                changed = await self._move(conn, [row], target, note=request.note.strip())
            except TransitionRefused as refused:
                await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(refused))
            next_row = None
            if changed and target is MatchStatus.DECLINED:
                next_row = await self._propose_next_best(conn, tenant, str(row["student_id"]), row["round_id"])
            row = await self._repo.get_match(conn, match_id)
        return mentorship_pb2.RespondToProposalResponse(
            match=match_proto(row), next_proposal=match_proto(next_row) if next_row else None
        )

    async def _propose_next_best(self, conn, tenant: str, student: str, round_id):
        """After a decline: offers the student the best mentor left, at once (the round was published)."""
        found = (await self._repo.requests(conn, student)).get(student)
        if found is None:
            return None
        excluded = (await self._repo.closed_pairs(conn, student)).get(student, frozenset())
        encoded, held = await self._pools.get(conn, tenant)
        best = next_best(mentee_of(tenant, student, found, excluded), encoded.pool, await self._repo.policy(conn), held)
        if best is None:
            return None
        match_id = str(uuid.uuid4())
        await self._repo.insert_matches(
            conn,
            [
                {
                    "match_id": match_id,
                    "tenant_id": tenant,
                    "student_id": student,
                    "mentor_id": best.mentor_id,
                    "round_id": str(round_id) if round_id else "",
                    "status": MatchStatus.DRAFT.value,
                    "score": best.score,
                    "reasons": best.reasons,
                    "profile_version": found.profile_version,
                }
            ],
        )
        await self._repo.change_load(conn, {best.mentor_id: 1})
        await self._repo.record_transitions(conn, [(tenant, match_id, best.mentor_id, None, "draft", None)])
        draft = await self._repo.get_match(conn, uuid.UUID(match_id), for_update=True)
        await self._move(conn, [draft], MatchStatus.PROPOSED)
        return await self._repo.get_match(conn, uuid.UUID(match_id))

    async def EndMatch(self, request, context):
        match_id = await require_uuid(context, "match_id", request.match_id)
        if not 0 <= request.rating <= 5:
            await abort_invalid(context, {"rating": "1-5, or 0 for none"})
        if len(request.feedback) > MAX_NOTE:
            await abort_invalid(context, {"feedback": f"at most {MAX_NOTE} characters"})
        mentor = await require_uuid(context, "mentor_id", request.mentor_id) if request.mentor_id else None
        student = await require_uuid(context, "student_id", request.student_id) if request.student_id else None
        if mentor is not None:
            tenant = await self._school_of_match(context, mentor, match_id)
        else:
            tenant = await self._tenant(context, request.tenant_id)
        async with self._repo.scope(tenant, str(mentor) if mentor else None, lock=True) as conn:
            row = await self._repo.get_match(conn, match_id, for_update=True)
            if (
                row is None
                or (mentor is not None and row["mentor_id"] != mentor)
                or (student is not None and row["student_id"] != student)
            ):
                await context.abort(grpc.StatusCode.NOT_FOUND, f"no match {match_id} here")
            try:
                await self._move(conn, [row], MatchStatus.ENDED, request.feedback.strip(), request.rating)
            except TransitionRefused as refused:
                await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(refused))
            row = await self._repo.get_match(conn, match_id)
        return mentorship_pb2.EndMatchResponse(match=match_proto(row))

    # Policy

    async def GetMatchingPolicy(self, request, context):
        tenant = await self._tenant(context, request.tenant_id)
        async with self._repo.scope(tenant) as conn:
            policy = await self._repo.policy(conn)
        return mentorship_pb2.GetMatchingPolicyResponse(policy=policy_proto(policy))

    async def UpdateMatchingPolicy(self, request, context):
        tenant = await self._tenant(context, request.tenant_id)
        given = request.policy
        weights = dict(given.weights)
        if errors := validate_policy(weights, given.min_score):
            await abort_invalid(context, {f"policy.{field}": why for field, why in errors.items()})
        policy = Policy(
            weights={c: weights.get(str(c), 0.0) for c in CRITERIA},
            require_specialty_match=given.require_specialty_match,
            require_shared_language=given.require_shared_language,
            min_score=given.min_score,
        )
        async with self._repo.scope(tenant) as conn:
            await self._repo.save_policy(conn, tenant, policy)
        return mentorship_pb2.UpdateMatchingPolicyResponse(policy=policy_proto(policy))
