"""The MentorshipMatched event one transition of a match publishes, ready for the outbox."""

from dataclasses import dataclass
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from smartpick.events.v1 import mentorship_events_pb2
from smartpick.mentorship.v1 import mentorship_pb2

from smartpick_mentorship.domain.model import Reason
from smartpick_mentorship.domain.workflow import Transition, event_id
from smartpick_platform.kafka import cloudevent_headers
from smartpick_platform.outbox import OutboxMessage
from smartpick_platform.topics import MENTORSHIP_MATCHED

MENTORSHIP_MATCHED_TYPE = "smartpick.events.v1.MentorshipMatched"
EVENT_SOURCE = "/smartpick/mentorship"
TRANSITIONS = {
    Transition.PROPOSED: mentorship_events_pb2.MENTORSHIP_TRANSITION_PROPOSED,
    Transition.ACCEPTED: mentorship_events_pb2.MENTORSHIP_TRANSITION_ACCEPTED,
    Transition.DECLINED: mentorship_events_pb2.MENTORSHIP_TRANSITION_DECLINED,
    Transition.ENDED: mentorship_events_pb2.MENTORSHIP_TRANSITION_ENDED,
}


def reason_proto(reason: Reason) -> mentorship_pb2.MatchReason:
    return mentorship_pb2.MatchReason(
        criterion=mentorship_pb2.Criterion.Value(f"CRITERION_{reason.criterion.upper()}"),
        contribution=reason.contribution,
        text=reason.text,
    )


@dataclass(frozen=True)
class MatchFacts:
    """What an event says about the match it reports."""

    match_id: str
    tenant_id: str
    student_id: str
    mentor_id: str
    round_id: str
    score: float
    reasons: tuple[Reason, ...]
    profile_version: int
    note: str = ""
    rating: int = 0


def mentorship_matched(
    match: MatchFacts, transition: Transition, trace_id: str | None = None, now: datetime | None = None
) -> OutboxMessage:
    occur_time = Timestamp()
    occur_time.FromDatetime(now or datetime.now(UTC))
    identifier = str(event_id(match.match_id, transition))
    event = mentorship_events_pb2.MentorshipMatched(
        event_id=identifier,
        tenant_id=match.tenant_id,
        student_id=match.student_id,
        mentor_id=match.mentor_id,
        occur_time=occur_time,
        transition=TRANSITIONS[transition],
        match_id=match.match_id,
        round_id=match.round_id,
        score=match.score,
        reasons=[reason_proto(r) for r in match.reasons],
        profile_version=match.profile_version,
        note=match.note,
        rating=match.rating,
    )
    return OutboxMessage(
        event_id=event_id(match.match_id, transition),
        tenant_id=match.tenant_id,
        topic=MENTORSHIP_MATCHED.name,
        key=match.student_id,
        payload=event.SerializeToString(),
        headers=cloudevent_headers(
            event_id=identifier,
            event_type=MENTORSHIP_MATCHED_TYPE,
            source=EVENT_SOURCE,
            time=occur_time.ToDatetime(tzinfo=UTC),
            trace_id=trace_id,
        ),
    )
