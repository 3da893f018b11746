"""mentorship.v1 messages to and from what the use cases take and return (rows, requests, policies)."""

from google.protobuf.timestamp_pb2 import Timestamp
from smartpick.mentorship.v1 import mentorship_pb2

from smartpick_mentorship.adapters.repository import StoredRequest, mentor_from_row, reasons_from_json
from smartpick_mentorship.domain.events import reason_proto
from smartpick_mentorship.domain.model import CRITERIA, Goal, Mentee, Policy, unique
from smartpick_mentorship.domain.workflow import MatchStatus
from smartpick_mentorship.service.matching import RoundView

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


def effective_proto(mentee: Mentee, stored: StoredRequest) -> mentorship_pb2.EffectiveRequest:
    return mentorship_pb2.EffectiveRequest(
        specialties=mentee.specialties,
        states=mentee.states,
        institution_targets=mentee.institution_targets,
        profile_version=stored.profile_version,
        recommendations_profile_version=stored.recommendations_version,
    )


def round_proto(view: RoundView) -> mentorship_pb2.Round:
    row, matches = view.round, view.matches
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
