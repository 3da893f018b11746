"""What matching works on: mentors, mentees (a student's request made current by their events), a school's policy."""

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from smartpick_platform.us_regions import REGION_OF


class Goal(enum.StrEnum):
    """What a mentor can help with, and what a mentee asks help for."""

    APPLICATIONS = "applications"
    RESEARCH = "research"
    INTERVIEWS = "interviews"
    WELLBEING = "wellbeing"


class Criterion(enum.StrEnum):
    """The parts of a compatibility score, each worth 0-1 before weighting."""

    SPECIALTY = "specialty"
    SUBSPECIALTY = "subspecialty"
    RESEARCH = "research"
    GEOGRAPHY = "geography"
    INSTITUTION = "institution"
    GOALS = "goals"
    AVAILABILITY = "availability"
    LANGUAGE = "language"


CRITERIA = tuple(Criterion)

DEFAULT_WEIGHTS: Mapping[Criterion, float] = {
    Criterion.SPECIALTY: 5.0,
    Criterion.SUBSPECIALTY: 1.5,
    Criterion.RESEARCH: 1.5,
    Criterion.GEOGRAPHY: 1.0,
    Criterion.INSTITUTION: 1.0,
    Criterion.GOALS: 2.0,
    Criterion.AVAILABILITY: 1.0,
    Criterion.LANGUAGE: 1.0,
}


@dataclass(frozen=True)
class Mentor:
    mentor_id: str
    tenant_id: str | None  # None: a platform-wide mentor
    display_name: str
    specialty: str
    subspecialties: tuple[str, ...] = ()
    institution: str = ""
    state: str = ""
    research_interests: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("English",)
    goals: tuple[Goal, ...] = tuple(Goal)
    capacity: int = 1
    availability_hours_per_month: float = 2.0
    accepting_new_mentees: bool = True
    accepts_other_schools: bool = False


@dataclass(frozen=True)
class Mentee:
    """A student's mentorship request merged with what their events say (see `merge_signals`).

    `specialties` are in order of preference; `institution_targets` are institution or program names the
    student is reaching for; `excluded_mentor_ids` are mentors who declined or ended with this student."""

    student_id: str
    tenant_id: str
    specialties: tuple[str, ...]
    subspecialties: tuple[str, ...] = ()
    research_interests: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    institution_targets: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    goals: tuple[Goal, ...] = ()
    hours_per_month: float = 2.0
    excluded_mentor_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Policy:
    """A school's matching settings: criterion weights and the hard constraints it wants."""

    weights: Mapping[Criterion, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    require_specialty_match: bool = True
    require_shared_language: bool = False
    min_score: float = 0.0


@dataclass(frozen=True)
class Reason:
    criterion: Criterion
    contribution: float  # share of the 0-1 score this criterion gave
    text: str


@dataclass(frozen=True)
class Suggestion:
    mentor_id: str
    score: float
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Proposal:
    student_id: str
    mentor_id: str
    score: float
    reasons: tuple[Reason, ...]


def unique(items) -> tuple[str, ...]:
    """Keeps the first of each item (case-insensitive), dropping blanks, in order."""
    seen: set[str] = set()
    kept = []
    for item in items:
        text = item.strip()
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            kept.append(text)
    return tuple(kept)


@dataclass(frozen=True)
class Signals:
    """What the student's events last said: ProfileUpdated preferences and RecommendationsGenerated targets."""

    profile_specialties: tuple[str, ...] = ()
    profile_states: tuple[str, ...] = ()
    recommended_specialties: tuple[str, ...] = ()
    recommended_states: tuple[str, ...] = ()
    recommended_programs: tuple[str, ...] = ()


def merge_signals(
    request: Mentee, signals: Signals | None, excluded_mentor_ids: frozenset[str] = frozenset()
) -> Mentee:
    """The request as the student wrote it, completed by their latest profile and recommendations.

    The student's own words come first (they rank specialties), then the profile, then the programs the
    ranking service put on their list."""
    if signals is None:
        signals = Signals()
    return Mentee(
        student_id=request.student_id,
        tenant_id=request.tenant_id,
        specialties=unique([*request.specialties, *signals.profile_specialties, *signals.recommended_specialties]),
        subspecialties=request.subspecialties,
        research_interests=request.research_interests,
        states=unique([*request.states, *signals.profile_states, *signals.recommended_states]),
        institution_targets=unique([*request.institution_targets, *signals.recommended_programs]),
        languages=request.languages,
        goals=request.goals,
        hours_per_month=request.hours_per_month,
        excluded_mentor_ids=request.excluded_mentor_ids | excluded_mentor_ids,
    )


# A mentor in the same US Census region as a state the student prefers counts half.
REGION_OF_STATE = REGION_OF
