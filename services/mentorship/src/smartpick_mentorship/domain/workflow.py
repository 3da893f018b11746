"""The life of a match: a round's draft, proposed to the mentor once published, then accepted or declined,
and ended with feedback. Each step that others may see is one MentorshipMatched event."""

import enum
import uuid
from dataclasses import dataclass


class MatchStatus(enum.StrEnum):
    DRAFT = "draft"  # in a round an admin has not published; seen by the school's admins only
    PROPOSED = "proposed"  # offered to the mentor
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ENDED = "ended"
    WITHDRAWN = "withdrawn"  # a draft replaced by a newer round before it was published


class Transition(enum.StrEnum):
    """The transitions published as MentorshipMatched events."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ENDED = "ended"


HOLDS_SLOT = frozenset({MatchStatus.DRAFT, MatchStatus.PROPOSED, MatchStatus.ACCEPTED})
ACTIVE = frozenset({MatchStatus.PROPOSED, MatchStatus.ACCEPTED})  # kept by re-matching
CLOSED_WITH_MENTOR = frozenset({MatchStatus.DECLINED, MatchStatus.ENDED})  # never proposed that pair again

_EVENTS = {
    (MatchStatus.DRAFT, MatchStatus.PROPOSED): Transition.PROPOSED,
    (MatchStatus.DRAFT, MatchStatus.WITHDRAWN): None,
    (MatchStatus.PROPOSED, MatchStatus.ACCEPTED): Transition.ACCEPTED,
    (MatchStatus.PROPOSED, MatchStatus.DECLINED): Transition.DECLINED,
    (MatchStatus.PROPOSED, MatchStatus.ENDED): Transition.ENDED,
    (MatchStatus.ACCEPTED, MatchStatus.ENDED): Transition.ENDED,
}


class TransitionRefused(Exception):
    """The match is not in a state that allows this step."""


@dataclass(frozen=True)
class Step:
    changed: bool  # False: the match is already there (a retried request), nothing to store or publish
    event: Transition | None
    frees_slot: bool


def step(current: MatchStatus, target: MatchStatus) -> Step:
    """What moving a match from `current` to `target` does; repeating a step that was done is a no-op."""
    if current == target:
        return Step(False, None, False)
    if (current, target) not in _EVENTS:
        raise TransitionRefused(f"a {current} match cannot become {target}")
    return Step(True, _EVENTS[(current, target)], current in HOLDS_SLOT and target not in HOLDS_SLOT)


EVENT_NAMESPACE = uuid.UUID("0b9e3f4c-2d57-4a0e-8f57-6d1c2a9b7e31")


def event_id(match_id: str, transition: Transition) -> uuid.UUID:
    """One id per (match, transition): storing a transition twice cannot make a second event."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{match_id}/{transition}")
