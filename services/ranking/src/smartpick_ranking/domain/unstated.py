"""What the chances take for an input a student left unsaid: the value of the typical applicant whom the
anchors pin to the published rates (`training/typical.py` builds that applicant from these same values).

A profile that says nothing of its honors, home program or away rotations then reads as the typical
applicant of its Step 2 CK band does (the published rate where the anchors reach it), rather than as an
applicant who has none of them, which the record cannot place and which reads far below the band. An unsaid
Step 1 result is a pass, as the typical applicant's: in the simulated Match an unknown result counts as a
pass, so training reads it so too, and the trees do not learn a penalty from a few random gaps."""

import dataclasses
from collections.abc import Iterable, Mapping

from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import SpecialtyStats

TYPICAL_CLERKSHIP_HONORS = 3
# Each input a profile may leave unsaid, and how a note asks for it.
_ASKED = {
    "step1_result": "your Step 1 result",
    "clerkship_honors": "your clerkship honors",
    "has_home_program": "whether your school has a program in the specialty",
    "away_rotations": "your away rotations",
}


def typical_away_rotations(signals: int) -> float:
    """Mean away rotations: more in the specialties that signal a lot (the competitive ones)."""
    return 0.4 + 1.2 * (signals >= 20)


def typical_inputs(degree: str, stats: SpecialtyStats | None) -> dict[str, int | bool | str]:
    """The typical applicant's value of each input a profile may leave unsaid, in one specialty. A school
    abroad has no home program in a US specialty."""
    return {
        "step1_result": "pass",
        "clerkship_honors": TYPICAL_CLERKSHIP_HONORS,
        "has_home_program": degree != "IMG",
        "away_rotations": round(typical_away_rotations((stats.signals if stats else None) or 0)),
    }


def unstated(applicant: Applicant) -> list[str]:
    """The inputs the applicant left unsaid, by field name."""
    return [name for name in _ASKED if getattr(applicant, name) is None]


def as_typical(applicant: Applicant, stats: SpecialtyStats | None) -> Applicant:
    """The applicant with each unsaid input at the typical applicant's value of the specialty."""
    missing = unstated(applicant)
    if not missing:
        return applicant
    typical = typical_inputs(applicant.degree, stats)
    return dataclasses.replace(applicant, **{name: typical[name] for name in missing})


def _named(name: str, value: int | bool | str) -> str:
    if name == "step1_result":
        return f"a Step 1 {value}"
    if name == "clerkship_honors":
        return f"{value} clerkships graded honors"
    if name == "has_home_program":
        return "a home program in the specialty" if value else "no home program in the specialty"
    return f"{value} away rotation{'' if value == 1 else 's'}"


def unstated_notes(
    applicant: Applicant, specialties: Iterable[str], stats: Mapping[str, SpecialtyStats]
) -> tuple[str, ...]:
    """What the chances took for the unsaid inputs: one note per listed specialty with the typical values, and
    one for a US school of no stated state."""
    notes = []
    if applicant.school_state is None and not applicant.school_abroad:
        notes.append(
            "Your profile does not say your medical school's state: no program is read as in your school's state "
            "(programs interview students of their own state's schools at other rates)."
        )
    missing = unstated(applicant)
    if not missing:
        return tuple(notes)
    asked = ", ".join(_ASKED[name] for name in missing)
    for specialty in specialties:
        typical = typical_inputs(applicant.degree, stats.get(specialty))
        values = "; ".join(_named(name, typical[name]) for name in missing)
        notes.append(
            f"Your profile does not say {asked}: your chances in {specialty} take a typical applicant's ({values}). "
            "Say them for chances of your own."
        )
    return tuple(notes)
