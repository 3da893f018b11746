import pytest

from smartpick_mentorship.domain.model import Mentee, Signals, merge_signals
from smartpick_mentorship.domain.validation import validate_mentor, validate_policy, validate_request
from smartpick_mentorship.domain.workflow import MatchStatus, Transition, TransitionRefused, event_id, step


def test_each_visible_step_is_one_event_and_repeating_it_is_a_no_op():
    assert step(MatchStatus.DRAFT, MatchStatus.PROPOSED).event is Transition.PROPOSED
    assert step(MatchStatus.PROPOSED, MatchStatus.ACCEPTED).event is Transition.ACCEPTED
    accepted_again = step(MatchStatus.ACCEPTED, MatchStatus.ACCEPTED)
    assert not accepted_again.changed and accepted_again.event is None
    assert step(MatchStatus.DRAFT, MatchStatus.WITHDRAWN).event is None


def test_declines_and_ends_free_the_slot_accepting_does_not():
    assert step(MatchStatus.PROPOSED, MatchStatus.DECLINED).frees_slot
    assert step(MatchStatus.ACCEPTED, MatchStatus.ENDED).frees_slot
    assert not step(MatchStatus.PROPOSED, MatchStatus.ACCEPTED).frees_slot


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (MatchStatus.DECLINED, MatchStatus.ACCEPTED),
        (MatchStatus.ACCEPTED, MatchStatus.DECLINED),
        (MatchStatus.DRAFT, MatchStatus.ACCEPTED),
        (MatchStatus.ENDED, MatchStatus.PROPOSED),
    ],
)
def test_impossible_steps_are_refused(current, target):
    with pytest.raises(TransitionRefused):
        step(current, target)


def test_event_ids_are_stable_per_match_and_transition():
    assert event_id("m1", Transition.ACCEPTED) == event_id("m1", Transition.ACCEPTED)
    assert event_id("m1", Transition.ACCEPTED) != event_id("m1", Transition.PROPOSED)
    assert event_id("m1", Transition.ACCEPTED) != event_id("m2", Transition.ACCEPTED)


def test_the_request_is_completed_by_the_profile_and_the_recommendations():
    request = Mentee("s", "t", ("Dermatology",), states=("CA",), institution_targets=("Stanford",))
    signals = Signals(
        profile_specialties=("dermatology", "Internal Medicine"),
        profile_states=("NY",),
        recommended_specialties=("Internal Medicine", "Pediatrics"),
        recommended_states=("CA", "MA"),
        recommended_programs=("UCSF Dermatology Program",),
    )
    merged = merge_signals(request, signals, frozenset({"m1"}))
    assert merged.specialties == ("Dermatology", "Internal Medicine", "Pediatrics")
    assert merged.states == ("CA", "NY", "MA")
    assert merged.institution_targets == ("Stanford", "UCSF Dermatology Program")
    assert merged.excluded_mentor_ids == {"m1"}


def mentor_fields(**overrides) -> dict:
    fields = {
        "display_name": "Dr Demo",
        "specialty": "Dermatology",
        "institution": "Demo Hospital",
        "state": "CA",
        "subspecialties": [],
        "research_interests": ["dermpath"],
        "languages": ["English"],
        "capacity": 3,
        "availability_hours_per_month": 4,
    }
    return {**fields, **overrides}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"specialty": " "}, "specialty"),
        ({"state": "California"}, "state"),
        ({"capacity": 51}, "capacity"),
        ({"availability_hours_per_month": -1}, "availability_hours_per_month"),
        ({"research_interests": [""]}, "research_interests"),
    ],
)
def test_a_broken_mentor_rule_names_its_field(overrides, field):
    assert validate_mentor(mentor_fields()) == {}
    assert field in validate_mentor(mentor_fields(**overrides))


def test_request_and_policy_rules():
    request = {
        "preferred_specialties": ["Dermatology"],
        "subspecialties": [],
        "research_interests": [],
        "preferred_institutions": [],
        "languages": [],
        "preferred_states": ["CA"],
        "hours_per_month": 2,
    }
    assert validate_request(request) == {}
    assert set(validate_request({**request, "preferred_states": ["ca"], "hours_per_month": 0})) == {
        "preferred_states",
        "hours_per_month",
    }
    assert validate_policy({"specialty": 3, "goals": 1}, 0.2) == {}
    assert set(validate_policy({"charisma": 1}, 2)) == {"weights", "min_score"}
    assert "weights" in validate_policy({"specialty": 0}, 0)
