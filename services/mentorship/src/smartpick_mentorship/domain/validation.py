"""The rules a mentor registration, a mentee request and a school's policy must follow; each broken rule
is reported against the field that breaks it."""

import re

from smartpick_mentorship.domain.model import Criterion

STATE_CODE = re.compile(r"^[A-Z]{2}$")
MAX_CAPACITY = 50
MAX_HOURS = 100.0
MAX_TEXT = 200
MAX_ITEMS = 30


def _texts(errors: dict, field: str, values) -> None:
    if len(values) > MAX_ITEMS:
        errors[field] = f"at most {MAX_ITEMS} items"
    elif any(not v.strip() or len(v) > MAX_TEXT for v in values):
        errors[field] = f"each item must be 1-{MAX_TEXT} characters"


def _states(errors: dict, field: str, values) -> None:
    bad = [v for v in values if not STATE_CODE.match(v)]
    if bad:
        errors[field] = f"use two-letter upper-case state codes, not {', '.join(bad[:3])}"


def validate_mentor(fields: dict) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name in ("display_name", "specialty"):
        if not fields[name].strip() or len(fields[name]) > MAX_TEXT:
            errors[name] = f"required, 1-{MAX_TEXT} characters"
    if len(fields["institution"]) > MAX_TEXT:
        errors["institution"] = f"at most {MAX_TEXT} characters"
    if fields["state"]:
        _states(errors, "state", [fields["state"]])
    for name in ("subspecialties", "research_interests", "languages"):
        _texts(errors, name, fields[name])
    if not 0 <= fields["capacity"] <= MAX_CAPACITY:
        errors["capacity"] = f"mentees at once, 0-{MAX_CAPACITY}"
    if not 0 <= fields["availability_hours_per_month"] <= MAX_HOURS:
        errors["availability_hours_per_month"] = f"0-{MAX_HOURS:g} hours a month"
    return errors


def validate_request(fields: dict) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name in (
        "preferred_specialties",
        "subspecialties",
        "research_interests",
        "preferred_institutions",
        "languages",
    ):
        _texts(errors, name, fields[name])
    _states(errors, "preferred_states", fields["preferred_states"])
    if not 0 < fields["hours_per_month"] <= MAX_HOURS:
        errors["hours_per_month"] = f"more than 0, at most {MAX_HOURS:g} hours a month"
    return errors


def validate_policy(weights: dict[str, float], min_score: float) -> dict[str, str]:
    errors: dict[str, str] = {}
    known = {str(c) for c in Criterion}
    unknown = sorted(set(weights) - known)
    if unknown:
        errors["weights"] = f"unknown criteria {', '.join(unknown)}; use {', '.join(sorted(known))}"
    elif any(not 0 <= w <= 100 for w in weights.values()):
        errors["weights"] = "each weight must be 0-100"
    elif not any(w > 0 for w in weights.values()):
        errors["weights"] = "give at least one criterion a positive weight"
    if not 0 <= min_score <= 1:
        errors["min_score"] = "a compatibility between 0 and 1"
    return errors
