"""Rules for applicant profiles, free of I/O: what a valid profile is and when a save makes a new version."""

from smartpick.profile.v1 import profile_pb2

STEP2_CK_RANGE = (1, 300)
COMLEX_LEVEL2_RANGE = (9, 999)
MAX_RESEARCH_ITEMS = 1000
MAX_CLERKSHIP_HONORS = 12
MAX_YEARS_SINCE_GRADUATION = 60
MAX_SIGNALS = 100
MAX_AWAY_ROTATIONS = 20
# The largest specialty (Family Medicine) has 813 programs: a budget can cover all of them.
MAX_APPLICATION_BUDGET = 1000
MAX_SPECIALTIES = 10
MAX_SPECIALTY_NAME_LENGTH = 100  # the longest NRMP specialty name has 59 characters
MAX_PREFERRED_STATES = 60  # the 50 states, DC and the territories
MAX_SIGNALED_PROGRAMS = 100  # no specialty grants more than 30 signals; the limit leaves room for change
MAX_HOME_CITY_LENGTH = 100  # "City, ST"; the catalog's longest has 24 characters
SETTINGS = {
    profile_pb2.PROGRAM_SETTING_ACADEMIC,
    profile_pb2.PROGRAM_SETTING_COMMUNITY_AFFILIATED,
    profile_pb2.PROGRAM_SETTING_COMMUNITY,
}
# Each input a profile may leave unsaid, by its field.
UNSTATED_FIELDS = {
    profile_pb2.APPLICANT_INPUT_CLERKSHIP_HONORS: "clerkship_honors",
    profile_pb2.APPLICANT_INPUT_HOME_PROGRAM: "has_home_program",
    profile_pb2.APPLICANT_INPUT_AWAY_ROTATIONS: "away_rotations",
}
SIZES = {profile_pb2.PROGRAM_SIZE_SMALL, profile_pb2.PROGRAM_SIZE_MEDIUM, profile_pb2.PROGRAM_SIZE_LARGE}
# Free-text fields of schools and students, and the idempotency key a caller sends with a change.
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 320  # RFC 3696's longest address
MAX_REQUEST_ID_LENGTH = 300
# The 50 states, DC and the territories with ACGME programs or medical schools.
US_STATE_CODES = frozenset(
    "AK AL AR AZ CA CO CT DC DE FL GA HI IA ID IL IN KS KY LA MA MD ME MI MN MO MS MT NC ND NE NH NJ NM NV NY "
    "OH OK OR PA PR RI SC SD TN TX UT VA VI VT WA WI WV WY GU AS MP".split()
)


class ProfileInvalid(ValueError):
    """A profile that breaks a rule; `errors` maps each bad field to what to fix."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{field}: {why}" for field, why in errors.items()))
        self.errors = errors


def _check_range(errors: dict[str, str], field: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        errors[field] = f"must be between {low} and {high}, got {value}"


def _sample(values: list[str], shown: int = 5) -> str:
    """A few of the bad values, each cut short: an error message stays small whatever was sent."""
    listed = ", ".join(repr(v[:20]) for v in values[:shown])
    return listed + (f" and {len(values) - shown} more" if len(values) > shown else "")


def _check_unstated(errors: dict[str, str], profile: profile_pb2.ApplicantProfile) -> None:
    """An unsaid input names a known input once, and its field holds nothing (else which one is meant?)."""
    unstated = list(profile.unstated_inputs)
    if any(i not in UNSTATED_FIELDS for i in unstated):
        errors["unstated_inputs"] = f"each must be one of {', '.join(UNSTATED_FIELDS.values())}"
    elif len(unstated) != len(set(unstated)):
        errors["unstated_inputs"] = "name each input once"
    for field in (UNSTATED_FIELDS[i] for i in unstated if i in UNSTATED_FIELDS):
        if getattr(profile, field):
            errors[field] = "is listed as unsaid (unstated_inputs), so it must hold 0 or false: say it, or leave it out"


def validate_profile(profile: profile_pb2.ApplicantProfile) -> None:
    """Raises ProfileInvalid naming every field that breaks a rule."""
    errors: dict[str, str] = {}
    if profile.degree_type == profile_pb2.DEGREE_TYPE_UNSPECIFIED:
        errors["degree_type"] = "is required (MD, DO or IMG)"
    if profile.HasField("step2_ck_score"):
        _check_range(errors, "step2_ck_score", profile.step2_ck_score, *STEP2_CK_RANGE)
    if profile.HasField("comlex_level2_score"):
        if profile.degree_type != profile_pb2.DEGREE_TYPE_DO:
            errors["comlex_level2_score"] = "is only taken by DO applicants"
        else:
            _check_range(errors, "comlex_level2_score", profile.comlex_level2_score, *COMLEX_LEVEL2_RANGE)
    _check_range(errors, "research_items", profile.research_items, 0, MAX_RESEARCH_ITEMS)
    _check_range(errors, "clerkship_honors", profile.clerkship_honors, 0, MAX_CLERKSHIP_HONORS)
    _check_range(errors, "years_since_graduation", profile.years_since_graduation, 0, MAX_YEARS_SINCE_GRADUATION)
    _check_range(errors, "signals_sent", profile.signals_sent, 0, MAX_SIGNALS)
    _check_range(errors, "away_rotations", profile.away_rotations, 0, MAX_AWAY_ROTATIONS)
    _check_unstated(errors, profile)
    prefs = profile.preferences
    if not prefs.specialties:
        errors["preferences.specialties"] = "name at least one specialty"
    elif len(prefs.specialties) > MAX_SPECIALTIES:
        errors["preferences.specialties"] = f"name at most {MAX_SPECIALTIES} specialties"
    elif any(not s.strip() for s in prefs.specialties):
        errors["preferences.specialties"] = "must not contain empty names"
    elif any(len(s) > MAX_SPECIALTY_NAME_LENGTH for s in prefs.specialties):
        errors["preferences.specialties"] = f"specialty names have at most {MAX_SPECIALTY_NAME_LENGTH} characters"
    if len(prefs.preferred_states) > MAX_PREFERRED_STATES:
        errors["preferences.preferred_states"] = f"name at most {MAX_PREFERRED_STATES} states"
    elif bad_states := [s for s in prefs.preferred_states if s not in US_STATE_CODES]:
        errors["preferences.preferred_states"] = (
            f"use two-letter upper-case US state codes (e.g. CA), not {_sample(bad_states)}"
        )
    if profile.medical_school_state and profile.medical_school_state not in US_STATE_CODES:
        errors["medical_school_state"] = (
            "use a two-letter upper-case US state code (e.g. NY), or leave it empty for a school outside the US, "
            f"not {_sample([profile.medical_school_state])}"
        )
    _check_range(errors, "preferences.application_budget", prefs.application_budget, 1, MAX_APPLICATION_BUDGET)
    _check_home_city(errors, prefs.home_city)
    for field, known, names in (
        ("preferred_settings", SETTINGS, "academic, community_affiliated or community"),
        ("preferred_sizes", SIZES, "small, medium or large"),
    ):
        chosen = list(getattr(prefs, field))
        if any(c not in known for c in chosen):
            errors[f"preferences.{field}"] = f"each must be {names}"
        elif len(chosen) != len(set(chosen)):
            errors[f"preferences.{field}"] = "name each one once"
    for field in ("signaled_program_ids", "gold_signal_program_ids"):
        ids = getattr(prefs, field)
        if len(ids) > MAX_SIGNALED_PROGRAMS:
            errors[f"preferences.{field}"] = f"name at most {MAX_SIGNALED_PROGRAMS} signaled programs"
        elif bad_ids := [p for p in ids if len(p) != 10 or not p.isdigit()]:
            errors[f"preferences.{field}"] = f"ACGME program numbers have 10 digits, not {_sample(bad_ids)}"
    both = sorted(set(prefs.signaled_program_ids) & set(prefs.gold_signal_program_ids))
    if both:
        errors["preferences.gold_signal_program_ids"] = (
            f"a program gets one signal, gold or silver, not both: {_sample(both)}"
        )
    if errors:
        raise ProfileInvalid(errors)


def _check_home_city(errors: dict[str, str], home_city: str) -> None:
    """The form of a home city; whether the catalog has it is the gateway's check (it knows the catalog)."""
    if not home_city:
        return
    city, comma, state = home_city.rpartition(",")
    if len(home_city) > MAX_HOME_CITY_LENGTH:
        errors["preferences.home_city"] = f"has at most {MAX_HOME_CITY_LENGTH} characters"
    elif not comma or not city.strip() or state.strip() not in US_STATE_CODES or state != " " + state.strip():
        errors["preferences.home_city"] = (
            f'write it as "City, ST" with a two-letter upper-case state code (e.g. "Boston, MA"), not '
            f"{_sample([home_city])}"
        )


def needs_new_version(latest: profile_pb2.ApplicantProfile | None, incoming: profile_pb2.ApplicantProfile) -> bool:
    """A save that changes nothing keeps the latest version, so nothing downstream re-runs for it."""
    return latest is None or latest != incoming
