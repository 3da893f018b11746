"""mentorship.v1.MentorshipService over gRPC: parses and checks each request, calls its use case
(`service.registry`, `service.matching`) and answers with the result as protobuf (`protos`), or with the
status the use case's refusal maps to."""

import contextlib
from collections.abc import AsyncIterator

import grpc
from smartpick.mentorship.v1 import mentorship_pb2, mentorship_pb2_grpc

from smartpick_mentorship.domain.events import reason_proto
from smartpick_mentorship.domain.model import CRITERIA, Goal, Policy, unique
from smartpick_mentorship.domain.validation import validate_mentor, validate_policy, validate_request
from smartpick_mentorship.domain.workflow import MatchStatus
from smartpick_mentorship.entrypoints.protos import (
    GOAL_OF_PROTO,
    effective_proto,
    match_proto,
    mentor_proto,
    policy_proto,
    request_from_proto,
    request_proto,
    round_proto,
)
from smartpick_mentorship.service import NotFound, Refused
from smartpick_mentorship.service.matching import Matching
from smartpick_mentorship.service.registry import Registry
from smartpick_platform.grpc_errors import abort_invalid, require_uuid

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100
MAX_SUGGESTIONS = 50
DEFAULT_SUGGESTIONS = 5
MAX_NOTE = 2000


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


@contextlib.asynccontextmanager
async def _answered(context) -> AsyncIterator[None]:
    """A use case's refusals as gRPC statuses: NotFound as NOT_FOUND, Refused as FAILED_PRECONDITION."""
    try:
        yield
    except NotFound as missing:
        await context.abort(grpc.StatusCode.NOT_FOUND, str(missing))
    except Refused as refused:
        await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(refused))


DECISIONS = {
    mentorship_pb2.DECISION_ACCEPT: MatchStatus.ACCEPTED,
    mentorship_pb2.DECISION_DECLINE: MatchStatus.DECLINED,
}


class MentorshipServicer(mentorship_pb2_grpc.MentorshipServiceServicer):
    def __init__(self, registry: Registry, matching: Matching):
        self._registry = registry
        self._matching = matching

    async def _tenant(self, context, value: str, required: bool = True) -> str | None:
        if not value and not required:
            return None
        return str(await require_uuid(context, "tenant_id", value))

    # Registry

    async def RegisterMentor(self, request, context):
        tenant = await self._tenant(context, request.tenant_id, required=False)
        fields = await _mentor_fields(context, request.profile)
        row = await self._registry.register_mentor(tenant, fields)
        return mentorship_pb2.RegisterMentorResponse(mentor=mentor_proto(row))

    async def UpdateMentor(self, request, context):
        tenant = await self._tenant(context, request.tenant_id, required=False)
        mentor_id = await require_uuid(context, "mentor_id", request.mentor_id)
        fields = await _mentor_fields(context, request.profile)
        async with _answered(context):
            row = await self._registry.update_mentor(tenant, mentor_id, fields)
        return mentorship_pb2.UpdateMentorResponse(mentor=mentor_proto(row))

    async def GetMentor(self, request, context):
        tenant = await self._tenant(context, request.tenant_id, required=False)
        mentor_id = await require_uuid(context, "mentor_id", request.mentor_id)
        async with _answered(context):
            row = await self._registry.get_mentor(tenant, mentor_id)
        return mentorship_pb2.GetMentorResponse(mentor=mentor_proto(row))

    async def ListMentors(self, request, context):
        tenant = await self._tenant(context, request.tenant_id, required=False)
        if not 0 <= request.page_size <= MAX_PAGE_SIZE:
            await abort_invalid(context, {"page_size": f"0-{MAX_PAGE_SIZE}"})
        after = await require_uuid(context, "page_token", request.page_token) if request.page_token else None
        page, token = await self._registry.list_mentors(
            tenant, request.specialty.strip(), after, request.page_size or DEFAULT_PAGE_SIZE
        )
        return mentorship_pb2.ListMentorsResponse(mentors=[mentor_proto(r) for r in page], next_page_token=token)

    # Requests and suggestions

    async def UpsertMenteeRequest(self, request, context):
        tenant = await self._tenant(context, request.tenant_id)
        student = str(await require_uuid(context, "student_id", request.student_id))
        await _goals(context, "request.goals", request.request.goals)
        stored = request_from_proto(request.request)
        if errors := validate_request(stored):
            await abort_invalid(context, {f"request.{field}": why for field, why in errors.items()})
        view = await self._registry.upsert_request(tenant, student, stored)
        return mentorship_pb2.UpsertMenteeRequestResponse(
            request=request_proto(view.stored.request), effective=effective_proto(view.effective, view.stored)
        )

    async def GetMenteeRequest(self, request, context):
        tenant = await self._tenant(context, request.tenant_id)
        student = str(await require_uuid(context, "student_id", request.student_id))
        async with _answered(context):
            view = await self._registry.get_request(tenant, student)
        return mentorship_pb2.GetMenteeRequestResponse(
            request=request_proto(view.stored.request), effective=effective_proto(view.effective, view.stored)
        )

    async def SuggestMentors(self, request, context):
        tenant = await self._tenant(context, request.tenant_id)
        student = str(await require_uuid(context, "student_id", request.student_id))
        if not 0 <= request.limit <= MAX_SUGGESTIONS:
            await abort_invalid(context, {"limit": f"1-{MAX_SUGGESTIONS}"})
        async with _answered(context):
            found = await self._registry.suggest(tenant, student, request.limit or DEFAULT_SUGGESTIONS)
        return mentorship_pb2.SuggestMentorsResponse(
            suggestions=[
                mentorship_pb2.Suggestion(
                    mentor=mentor_proto(row, held), score=s.score, reasons=[reason_proto(r) for r in s.reasons]
                )
                for s, row, held in found
            ]
        )

    async def ListStudentMatches(self, request, context):
        tenant = await self._tenant(context, request.tenant_id)
        student = await require_uuid(context, "student_id", request.student_id)
        rows = await self._registry.student_matches(tenant, student)
        return mentorship_pb2.ListStudentMatchesResponse(matches=[match_proto(r) for r in rows])

    # Rounds

    async def RunRound(self, request, context):
        tenant = await self._tenant(context, request.tenant_id)
        return mentorship_pb2.RunRoundResponse(round=round_proto(await self._matching.run_round(tenant)))

    async def GetRound(self, request, context):
        tenant = await self._tenant(context, request.tenant_id)
        round_id = await require_uuid(context, "round_id", request.round_id)
        async with _answered(context):
            view = await self._matching.get_round(tenant, round_id)
        return mentorship_pb2.GetRoundResponse(round=round_proto(view))

    async def PublishRound(self, request, context):
        tenant = await self._tenant(context, request.tenant_id)
        round_id = await require_uuid(context, "round_id", request.round_id)
        async with _answered(context):
            view = await self._matching.publish_round(tenant, round_id)
        return mentorship_pb2.PublishRoundResponse(round=round_proto(view))

    # The mentor's side

    async def ListMentorInbox(self, request, context):
        mentor = await require_uuid(context, "mentor_id", request.mentor_id)
        pending, current = await self._matching.mentor_inbox(mentor)
        return mentorship_pb2.ListMentorInboxResponse(
            pending=[match_proto(r) for r in pending], current=[match_proto(r) for r in current]
        )

    async def RespondToProposal(self, request, context):
        mentor = await require_uuid(context, "mentor_id", request.mentor_id)
        match_id = await require_uuid(context, "match_id", request.match_id)
        if request.decision not in DECISIONS:
            await abort_invalid(context, {"decision": "accept or decline"})
        if len(request.note) > MAX_NOTE:
            await abort_invalid(context, {"note": f"at most {MAX_NOTE} characters"})
        async with _answered(context):
            row, next_row = await self._matching.respond(
                mentor, match_id, DECISIONS[request.decision], request.note.strip()
            )
        return mentorship_pb2.RespondToProposalResponse(
            match=match_proto(row), next_proposal=match_proto(next_row) if next_row else None
        )

    async def EndMatch(self, request, context):
        match_id = await require_uuid(context, "match_id", request.match_id)
        if not 0 <= request.rating <= 5:
            await abort_invalid(context, {"rating": "1-5, or 0 for none"})
        if len(request.feedback) > MAX_NOTE:
            await abort_invalid(context, {"feedback": f"at most {MAX_NOTE} characters"})
        mentor = await require_uuid(context, "mentor_id", request.mentor_id) if request.mentor_id else None
        student = await require_uuid(context, "student_id", request.student_id) if request.student_id else None
        tenant = None if mentor is not None else await self._tenant(context, request.tenant_id)
        async with _answered(context):
            row = await self._matching.end_match(
                match_id, request.feedback.strip(), request.rating, tenant=tenant, mentor=mentor, student=student
            )
        return mentorship_pb2.EndMatchResponse(match=match_proto(row))

    # Policy

    async def GetMatchingPolicy(self, request, context):
        tenant = await self._tenant(context, request.tenant_id)
        return mentorship_pb2.GetMatchingPolicyResponse(policy=policy_proto(await self._registry.policy(tenant)))

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
        saved = await self._registry.save_policy(tenant, policy)
        return mentorship_pb2.UpdateMatchingPolicyResponse(policy=policy_proto(saved))
