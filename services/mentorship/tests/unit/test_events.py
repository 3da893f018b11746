from smartpick.events.v1 import mentorship_events_pb2
from smartpick.mentorship.v1 import mentorship_pb2

from smartpick_mentorship.domain.events import MatchFacts, mentorship_matched
from smartpick_mentorship.domain.model import Criterion, Reason
from smartpick_mentorship.domain.workflow import Transition

TENANT, STUDENT, MENTOR = (
    "0b7d8a36-1a62-4b9b-8a3e-9f1f0c1d2e3f",
    "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "16fd2706-8baf-433b-82eb-8c7fada847da",
)


def facts(**overrides) -> MatchFacts:
    fields = {
        "match_id": "m1",
        "tenant_id": TENANT,
        "student_id": STUDENT,
        "mentor_id": MENTOR,
        "round_id": "r1",
        "score": 0.82,
        "reasons": (Reason(Criterion.SPECIALTY, 0.5, "Dermatology mentor: your first-choice specialty"),),
        "profile_version": 3,
    }
    return MatchFacts(**{**fields, **overrides})


def test_a_transition_becomes_one_keyed_cloudevent_with_a_stable_id():
    message = mentorship_matched(facts(), Transition.ACCEPTED, trace_id="t1")
    again = mentorship_matched(facts(), Transition.ACCEPTED)
    assert message.event_id == again.event_id
    assert message.key == STUDENT and message.topic == "smartpick.mentorship-matched.v1"
    event = mentorship_events_pb2.MentorshipMatched.FromString(message.payload)
    assert event.transition == mentorship_events_pb2.MENTORSHIP_TRANSITION_ACCEPTED
    assert (event.match_id, event.round_id, event.profile_version) == ("m1", "r1", 3)
    assert event.reasons[0].criterion == mentorship_pb2.CRITERION_SPECIALTY
    headers = dict(message.headers)
    assert headers["ce_id"].decode() == event.event_id == str(message.event_id)
    assert headers["ce_type"] == b"smartpick.events.v1.MentorshipMatched"
    assert headers["traceparent"] == b"t1"


def test_each_transition_of_a_match_has_its_own_event():
    ids = {mentorship_matched(facts(), t).event_id for t in Transition}
    assert len(ids) == len(Transition)
