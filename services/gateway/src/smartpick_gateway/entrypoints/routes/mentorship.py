"""Mentorship: the mentor registry, students' requests and suggestions, matching rounds, and the consent
workflow (mentors accept or decline; any party ends a match). Everything is scoped to the caller's school;
the mentorship service enforces it again with row-level security."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from smartpick.mentorship.v1 import mentorship_pb2
from smartpick.profile.v1 import profile_pb2

from smartpick_gateway.domain import auth
from smartpick_gateway.entrypoints import schemas
from smartpick_gateway.entrypoints.dependencies import Caller, Components, Deps
from smartpick_gateway.entrypoints.errors import body_of
from smartpick_gateway.entrypoints.key_issuing import issue_key

router = APIRouter(tags=["mentorship"])

Goal = Literal["applications", "research", "interviews", "wellbeing"]
GOALS = {g: mentorship_pb2.MentorshipGoal.Value(f"MENTORSHIP_GOAL_{g.upper()}") for g in Goal.__args__}
GOAL_NAMES = {v: k for k, v in GOALS.items()}
STATUS = {v: k.removeprefix("MATCH_STATUS_").lower() for k, v in mentorship_pb2.MatchStatus.items()}
ROUND_STATUS = {v: k.removeprefix("ROUND_STATUS_").lower() for k, v in mentorship_pb2.RoundStatus.items()}
CRITERIA = {v: k.removeprefix("CRITERION_").lower() for k, v in mentorship_pb2.Criterion.items()}


class MentorIn(schemas.Body):
    display_name: str = Field(min_length=1, max_length=200)
    specialty: str = Field(min_length=1, max_length=200, description='NRMP specialty name, e.g. "Dermatology"')
    subspecialties: list[str] = []
    institution: str = ""
    state: str = Field("", description="Two-letter US state code where the mentor practices")
    research_interests: list[str] = []
    languages: list[str] = ["English"]
    goals: list[Goal] = Field(default_factory=lambda: list(GOALS), description="What the mentor helps with")
    capacity: schemas.Int32 = Field(description="Most mentees at once")
    availability_hours_per_month: schemas.Number = Field(2.0, description="Hours a month for each mentee")
    accepting_new_mentees: schemas.Flag = True
    accepts_other_schools: schemas.Flag = Field(False, description="Whether students of other schools may be matched")

    def to_proto(self) -> mentorship_pb2.MentorProfile:
        fields = self.model_dump()
        fields["goals"] = [GOALS[g] for g in self.goals]
        return mentorship_pb2.MentorProfile(**fields)


class MentorOut(MentorIn):
    mentor_id: str
    school_id: str | None = Field(description="None for platform-wide mentors")
    held_slots: int = Field(description="Slots in use: open proposals and accepted matches")
    created_at: str

    @classmethod
    def from_proto(cls, mentor: mentorship_pb2.Mentor) -> "MentorOut":
        profile = mentor.profile
        return cls(
            mentor_id=mentor.mentor_id,
            school_id=mentor.tenant_id or None,
            held_slots=mentor.held_slots,
            created_at=mentor.create_time.ToJsonString(),
            display_name=profile.display_name,
            specialty=profile.specialty,
            subspecialties=list(profile.subspecialties),
            institution=profile.institution,
            state=profile.state,
            research_interests=list(profile.research_interests),
            languages=list(profile.languages),
            goals=[GOAL_NAMES[g] for g in profile.goals],
            capacity=profile.capacity,
            availability_hours_per_month=profile.availability_hours_per_month,
            accepting_new_mentees=profile.accepting_new_mentees,
            accepts_other_schools=profile.accepts_other_schools,
        )


class MentorPage(BaseModel):
    mentors: list[MentorOut]
    next_page_token: str | None


class ReasonOut(BaseModel):
    criterion: str
    contribution: float = Field(description="The share of the 0-1 score this criterion gave")
    text: str

    @classmethod
    def from_proto(cls, reason: mentorship_pb2.MatchReason) -> "ReasonOut":
        return cls(criterion=CRITERIA[reason.criterion], contribution=round(reason.contribution, 4), text=reason.text)


class MatchOut(BaseModel):
    match_id: str
    student_id: str
    mentor_id: str
    mentor_name: str
    mentor_specialty: str
    round_id: str | None
    status: str = Field(description="draft, proposed, accepted, declined, ended or withdrawn")
    score: float = Field(description="Compatibility, 0-1")
    reasons: list[ReasonOut]
    note: str = Field(description="Why the mentor declined, or the feedback the match ended with")
    rating: int | None
    created_at: str
    updated_at: str

    @classmethod
    def from_proto(cls, match: mentorship_pb2.Match) -> "MatchOut":
        return cls(
            match_id=match.match_id,
            student_id=match.student_id,
            mentor_id=match.mentor_id,
            mentor_name=match.mentor_display_name,
            mentor_specialty=match.mentor_specialty,
            round_id=match.round_id or None,
            status=STATUS[match.status],
            score=round(match.score, 3),
            reasons=[ReasonOut.from_proto(r) for r in match.reasons],
            note=match.note,
            rating=match.rating or None,
            created_at=match.create_time.ToJsonString(),
            updated_at=match.update_time.ToJsonString(),
        )


class MenteeRequestIn(schemas.Body):
    goals: list[Goal] = Field(default_factory=lambda: ["applications"])
    preferred_specialties: list[str] = Field(
        default_factory=list, description="In order of preference; the profile's specialties are added after them"
    )
    subspecialties: list[str] = []
    research_interests: list[str] = []
    preferred_states: list[str] = Field(default_factory=list, description="Two-letter US state codes")
    preferred_institutions: list[str] = []
    languages: list[str] = Field(default_factory=list, description="Languages to be mentored in; empty means any")
    hours_per_month: float = 2.0

    def to_proto(self) -> mentorship_pb2.MenteeRequest:
        fields = self.model_dump()
        fields["goals"] = [GOALS[g] for g in self.goals]
        return mentorship_pb2.MenteeRequest(**fields)


class EffectiveRequestOut(BaseModel):
    specialties: list[str]
    states: list[str]
    institution_targets: list[str]
    profile_version: int = Field(description="Profile version whose ProfileUpdated was applied (0: none yet)")
    recommendations_profile_version: int = Field(description="Profile version of the recommendations applied")


class MenteeRequestOut(BaseModel):
    student_id: str
    request: MenteeRequestIn
    effective: EffectiveRequestOut = Field(description="The request completed by the student's latest events")

    @classmethod
    def from_proto(cls, student_id: uuid.UUID, request, effective) -> "MenteeRequestOut":
        return cls(
            student_id=str(student_id),
            request=MenteeRequestIn(
                goals=[GOAL_NAMES[g] for g in request.goals],
                preferred_specialties=list(request.preferred_specialties),
                subspecialties=list(request.subspecialties),
                research_interests=list(request.research_interests),
                preferred_states=list(request.preferred_states),
                preferred_institutions=list(request.preferred_institutions),
                languages=list(request.languages),
                hours_per_month=request.hours_per_month,
            ),
            effective=EffectiveRequestOut(
                specialties=list(effective.specialties),
                states=list(effective.states),
                institution_targets=list(effective.institution_targets),
                profile_version=effective.profile_version,
                recommendations_profile_version=effective.recommendations_profile_version,
            ),
        )


class SuggestionOut(BaseModel):
    mentor: MentorOut
    score: float
    reasons: list[ReasonOut]


class SuggestionsOut(BaseModel):
    student_id: str
    suggestions: list[SuggestionOut]


class MatchesOut(BaseModel):
    matches: list[MatchOut]


class RoundOut(BaseModel):
    round_id: str
    status: str = Field(description="draft (for review), published or withdrawn")
    cohort_size: int = Field(description="Students who asked for a mentor and had no open match")
    kept_matches: int = Field(description="Students who kept the proposed or accepted match they had")
    proposals: list[MatchOut]
    unassigned_student_ids: list[str]
    total_score: float
    created_at: str
    published_at: str | None

    @classmethod
    def from_proto(cls, round_: mentorship_pb2.Round) -> "RoundOut":
        return cls(
            round_id=round_.round_id,
            status=ROUND_STATUS[round_.status],
            cohort_size=round_.cohort_size,
            kept_matches=round_.kept_matches,
            proposals=[MatchOut.from_proto(m) for m in round_.proposals],
            unassigned_student_ids=list(round_.unassigned_student_ids),
            total_score=round(round_.total_score, 3),
            created_at=round_.create_time.ToJsonString(),
            published_at=round_.publish_time.ToJsonString() if round_.HasField("publish_time") else None,
        )


class InboxOut(BaseModel):
    pending: list[MatchOut] = Field(description="Proposals waiting for the mentor's answer")
    current: list[MatchOut] = Field(description="Accepted matches")


class DeclineIn(schemas.Body):
    note: str = Field("", max_length=2000)


class EndIn(schemas.Body):
    feedback: str = Field("", max_length=2000)
    rating: int | None = Field(None, ge=1, le=5)


class AnswerOut(BaseModel):
    match: MatchOut
    next_proposal: MatchOut | None = Field(None, description="After a decline: the student's next best mentor")


class PolicyIn(schemas.Body):
    weights: dict[str, schemas.Number] = Field(
        description="Weight per criterion: specialty, subspecialty, research, geography, institution, goals, "
        "availability, language (left out: 0)"
    )
    require_specialty_match: schemas.Flag = True
    require_shared_language: schemas.Flag = False
    min_score: schemas.Number = Field(0.0, description="Pairs scoring below this (0-1) are never proposed")


async def _mentor(deps: Components, caller: auth.Principal, mentor_id: uuid.UUID) -> mentorship_pb2.Mentor:
    scope = auth.mentorship_scope(caller)
    reply = await deps.mentorship.rpc.GetMentor(
        mentorship_pb2.GetMentorRequest(tenant_id=str(scope or ""), mentor_id=str(mentor_id))
    )
    return reply.mentor


async def _known_student(deps: Components, tenant: uuid.UUID, student_id: uuid.UUID) -> None:
    """404 unless the student is one of the school's (the mentorship service does not own students)."""
    await deps.profiles.rpc.GetStudent(profile_pb2.GetStudentRequest(tenant_id=str(tenant), student_id=str(student_id)))


# Mentors


@router.post("/v1/mentorship/mentors", status_code=201, response_model=MentorOut)
async def register_mentor(body: MentorIn, deps: Deps, caller: Caller):
    """Registers a mentor of the caller's school (school admins), or a platform-wide one (operators).
    Issue the mentor a key with POST /v1/mentorship/mentors/{mentor_id}/api-keys."""
    tenant = auth.require_can_register_mentor(caller)
    reply = await body_of(
        "profile",
        deps.mentorship.rpc.RegisterMentor(
            mentorship_pb2.RegisterMentorRequest(tenant_id=str(tenant or ""), profile=body.to_proto())
        ),
    )
    return MentorOut.from_proto(reply.mentor)


@router.get("/v1/mentorship/mentors", response_model=MentorPage)
async def list_mentors(
    deps: Deps,
    caller: Caller,
    specialty: schemas.QueryText = "",
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
    page_token: schemas.PageTokenText = None,
):
    """Mentors the caller's school may match with: its own, platform-wide ones, and other schools' mentors
    who take outside students."""
    scope = auth.mentorship_scope(caller)
    reply = await deps.mentorship.rpc.ListMentors(
        mentorship_pb2.ListMentorsRequest(
            tenant_id=str(scope or ""), specialty=specialty, page_size=page_size, page_token=page_token or ""
        )
    )
    return MentorPage(
        mentors=[MentorOut.from_proto(m) for m in reply.mentors], next_page_token=reply.next_page_token or None
    )


@router.get("/v1/mentorship/mentors/{mentor_id}", response_model=MentorOut)
async def get_mentor(mentor_id: uuid.UUID, deps: Deps, caller: Caller):
    return MentorOut.from_proto(await _mentor(deps, caller, mentor_id))


@router.put("/v1/mentorship/mentors/{mentor_id}", response_model=MentorOut)
async def update_mentor(mentor_id: uuid.UUID, body: MentorIn, deps: Deps, caller: Caller):
    """Replaces a registration (capacity, availability, interests...): the mentor or their school's admins."""
    mentor = await _mentor(deps, caller, mentor_id)
    owner = uuid.UUID(mentor.tenant_id) if mentor.tenant_id else None
    auth.require_can_manage_mentor(caller, mentor_id, owner)
    reply = await body_of(
        "profile",
        deps.mentorship.rpc.UpdateMentor(
            mentorship_pb2.UpdateMentorRequest(
                tenant_id=mentor.tenant_id, mentor_id=str(mentor_id), profile=body.to_proto()
            )
        ),
    )
    return MentorOut.from_proto(reply.mentor)


@router.post("/v1/mentorship/mentors/{mentor_id}/api-keys", status_code=201, response_model=schemas.ApiKeyOut)
async def create_mentor_key(mentor_id: uuid.UUID, deps: Deps, caller: Caller):
    """Issues the mentor's own key (shown once): the admins of the mentor's school, or operators for
    platform-wide mentors."""
    mentor = await _mentor(deps, caller, mentor_id)
    owner = uuid.UUID(mentor.tenant_id) if mentor.tenant_id else None
    if caller.role is auth.Role.MENTOR:
        raise auth.Forbidden("mentors cannot issue keys")
    auth.require_can_manage_mentor(caller, mentor_id, owner)
    label = f"mentor {mentor.profile.display_name}"
    return await issue_key(deps, auth.Role.MENTOR, owner, None, label, mentor_id=mentor_id)


@router.get("/v1/mentorship/mentors/{mentor_id}/inbox", response_model=InboxOut)
async def mentor_inbox(mentor_id: uuid.UUID, deps: Deps, caller: Caller):
    """The proposals waiting for the mentor's answer, and the mentor's current mentees."""
    auth.require_the_mentor(caller, mentor_id)
    reply = await deps.mentorship.rpc.ListMentorInbox(mentorship_pb2.ListMentorInboxRequest(mentor_id=str(mentor_id)))
    return InboxOut(
        pending=[MatchOut.from_proto(m) for m in reply.pending], current=[MatchOut.from_proto(m) for m in reply.current]
    )


async def _answer(deps: Components, caller: auth.Principal, match_id: uuid.UUID, decision: int, note: str = ""):
    if caller.role is not auth.Role.MENTOR:
        raise auth.Forbidden("only the mentor may answer a proposal; use the mentor's key")
    reply = await deps.mentorship.rpc.RespondToProposal(
        mentorship_pb2.RespondToProposalRequest(
            mentor_id=str(caller.mentor_id), match_id=str(match_id), decision=decision, note=note
        )
    )
    return AnswerOut(
        match=MatchOut.from_proto(reply.match),
        next_proposal=MatchOut.from_proto(reply.next_proposal) if reply.HasField("next_proposal") else None,
    )


@router.post("/v1/mentorship/matches/{match_id}/accept", response_model=AnswerOut)
async def accept_match(match_id: uuid.UUID, deps: Deps, caller: Caller):
    """The mentor accepts a proposal; accepting again changes nothing."""
    return await _answer(deps, caller, match_id, mentorship_pb2.DECISION_ACCEPT)


@router.post("/v1/mentorship/matches/{match_id}/decline", response_model=AnswerOut)
async def decline_match(match_id: uuid.UUID, deps: Deps, caller: Caller, body: DeclineIn | None = None):
    """The mentor declines: the slot is freed and the student is proposed their next best mentor at once."""
    return await _answer(deps, caller, match_id, mentorship_pb2.DECISION_DECLINE, body.note if body else "")


@router.post("/v1/mentorship/matches/{match_id}/end", response_model=MatchOut)
async def end_match(match_id: uuid.UUID, deps: Deps, caller: Caller, body: EndIn | None = None):
    """Ends a proposed or accepted match, with feedback: the mentor, the student, or the school's admins."""
    body = body or EndIn()
    request = mentorship_pb2.EndMatchRequest(match_id=str(match_id), feedback=body.feedback, rating=body.rating or 0)
    if caller.role is auth.Role.MENTOR:
        request.mentor_id = str(caller.mentor_id)
    elif caller.role is auth.Role.STUDENT:
        request.tenant_id, request.student_id = str(caller.tenant_id), str(caller.student_id)
    else:
        request.tenant_id = str(auth.require_own_school_admin(caller))
    reply = await deps.mentorship.rpc.EndMatch(request)
    return MatchOut.from_proto(reply.match)


# Students


@router.put("/v1/students/{student_id}/mentorship-request", response_model=MenteeRequestOut)
async def put_mentorship_request(student_id: uuid.UUID, body: MenteeRequestIn, deps: Deps, caller: Caller):
    """The student asks for a mentor (or changes what they ask). Their profile and recommendations keep
    the request current as they change."""
    tenant = auth.require_can_write_student(caller, student_id)
    await _known_student(deps, tenant, student_id)
    reply = await body_of(
        "request",
        deps.mentorship.rpc.UpsertMenteeRequest(
            mentorship_pb2.UpsertMenteeRequestRequest(
                tenant_id=str(tenant), student_id=str(student_id), request=body.to_proto()
            )
        ),
    )
    return MenteeRequestOut.from_proto(student_id, reply.request, reply.effective)


@router.get("/v1/students/{student_id}/mentorship-request", response_model=MenteeRequestOut)
async def get_mentorship_request(student_id: uuid.UUID, deps: Deps, caller: Caller):
    tenant = auth.require_can_read_student(caller, student_id)
    reply = await deps.mentorship.rpc.GetMenteeRequest(
        mentorship_pb2.GetMenteeRequestRequest(tenant_id=str(tenant), student_id=str(student_id))
    )
    return MenteeRequestOut.from_proto(student_id, reply.request, reply.effective)


@router.get("/v1/students/{student_id}/mentor-suggestions", response_model=SuggestionsOut)
async def mentor_suggestions(
    student_id: uuid.UUID, deps: Deps, caller: Caller, limit: Annotated[int, Query(ge=1, le=50)] = 5
):
    """The most compatible mentors with a free slot, best first, each with the reasons for its score."""
    tenant = auth.require_can_read_student(caller, student_id)
    reply = await deps.mentorship.rpc.SuggestMentors(
        mentorship_pb2.SuggestMentorsRequest(tenant_id=str(tenant), student_id=str(student_id), limit=limit)
    )
    return SuggestionsOut(
        student_id=str(student_id),
        suggestions=[
            SuggestionOut(
                mentor=MentorOut.from_proto(s.mentor),
                score=round(s.score, 3),
                reasons=[ReasonOut.from_proto(r) for r in s.reasons],
            )
            for s in reply.suggestions
        ],
    )


@router.get("/v1/students/{student_id}/mentor-matches", response_model=MatchesOut)
async def student_matches(student_id: uuid.UUID, deps: Deps, caller: Caller):
    """The student's matches, newest first: the current one, and past ones with how they ended."""
    tenant = auth.require_can_read_student(caller, student_id)
    await _known_student(deps, tenant, student_id)
    reply = await deps.mentorship.rpc.ListStudentMatches(
        mentorship_pb2.ListStudentMatchesRequest(tenant_id=str(tenant), student_id=str(student_id))
    )
    return MatchesOut(matches=[MatchOut.from_proto(m) for m in reply.matches])


# Rounds and the school's policy


@router.post("/v1/mentorship/rounds", status_code=201, response_model=RoundOut)
async def run_round(deps: Deps, caller: Caller):
    """Assigns every student of the school who asked for a mentor and has none, optimally under mentor
    capacities, as draft proposals to review. Accepted and proposed matches are kept."""
    tenant = auth.require_own_school_admin(caller)
    reply = await deps.mentorship.rpc.RunRound(mentorship_pb2.RunRoundRequest(tenant_id=str(tenant)))
    return RoundOut.from_proto(reply.round)


@router.get("/v1/mentorship/rounds/{round_id}", response_model=RoundOut)
async def get_round(round_id: uuid.UUID, deps: Deps, caller: Caller):
    tenant = auth.require_can_list_students(caller)
    reply = await deps.mentorship.rpc.GetRound(
        mentorship_pb2.GetRoundRequest(tenant_id=str(tenant), round_id=str(round_id))
    )
    return RoundOut.from_proto(reply.round)


@router.post("/v1/mentorship/rounds/{round_id}/publish", response_model=RoundOut)
async def publish_round(round_id: uuid.UUID, deps: Deps, caller: Caller):
    """Offers the round's proposals to their mentors; publishing again changes nothing."""
    tenant = auth.require_own_school_admin(caller)
    reply = await deps.mentorship.rpc.PublishRound(
        mentorship_pb2.PublishRoundRequest(tenant_id=str(tenant), round_id=str(round_id))
    )
    return RoundOut.from_proto(reply.round)


@router.get("/v1/mentorship/policy", response_model=PolicyIn)
async def get_policy(deps: Deps, caller: Caller):
    tenant = auth.require_can_list_students(caller)
    reply = await deps.mentorship.rpc.GetMatchingPolicy(mentorship_pb2.GetMatchingPolicyRequest(tenant_id=str(tenant)))
    return _policy_out(reply.policy)


@router.put("/v1/mentorship/policy", response_model=PolicyIn)
async def put_policy(body: PolicyIn, deps: Deps, caller: Caller):
    """The school's criterion weights and hard constraints for suggestions and rounds."""
    tenant = auth.require_own_school_admin(caller)
    reply = await body_of(
        "policy",
        deps.mentorship.rpc.UpdateMatchingPolicy(
            mentorship_pb2.UpdateMatchingPolicyRequest(
                tenant_id=str(tenant), policy=mentorship_pb2.MatchingPolicy(**body.model_dump())
            )
        ),
    )
    return _policy_out(reply.policy)


def _policy_out(policy: mentorship_pb2.MatchingPolicy) -> PolicyIn:
    return PolicyIn(
        weights=dict(policy.weights),
        require_specialty_match=policy.require_specialty_match,
        require_shared_language=policy.require_shared_language,
        min_score=policy.min_score,
    )
