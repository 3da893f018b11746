"""The applicant as the ranking model sees it: every input of profile.v1.ApplicantProfile, in plain Python."""

from dataclasses import dataclass

from smartpick.profile.v1 import profile_pb2

DEGREES = ("MD", "DO", "IMG")
VISA_NEEDS = ("none", "J1", "H1B")

_DEGREE_FROM_PROTO = {
    profile_pb2.DEGREE_TYPE_MD: "MD",
    profile_pb2.DEGREE_TYPE_DO: "DO",
    profile_pb2.DEGREE_TYPE_IMG: "IMG",
}
_STEP1_FROM_PROTO = {profile_pb2.STEP1_RESULT_PASS: "pass", profile_pb2.STEP1_RESULT_FAIL: "fail"}
_VISA_FROM_PROTO = {
    profile_pb2.VISA_NEED_NONE: "none",
    profile_pb2.VISA_NEED_J1: "J1",
    profile_pb2.VISA_NEED_H1B: "H1B",
}
SETTING_FROM_PROTO = {
    profile_pb2.PROGRAM_SETTING_ACADEMIC: "academic",
    profile_pb2.PROGRAM_SETTING_COMMUNITY_AFFILIATED: "community_affiliated",
    profile_pb2.PROGRAM_SETTING_COMMUNITY: "community",
}
SIZE_FROM_PROTO = {
    profile_pb2.PROGRAM_SIZE_SMALL: "small",
    profile_pb2.PROGRAM_SIZE_MEDIUM: "medium",
    profile_pb2.PROGRAM_SIZE_LARGE: "large",
}


@dataclass(frozen=True)
class Applicant:
    """None means the applicant did not say (an unset proto field), never a default value."""

    degree: str  # "MD", "DO" or "IMG"
    step2_ck_score: int | None = None
    step1_result: str | None = None  # "pass", "fail" or None
    comlex_level2_score: int | None = None
    research_items: int = 0
    aoa_member: bool = False
    clerkship_honors: int | None = 0
    visa_need: str | None = None  # "none", "J1", "H1B" or None
    years_since_graduation: int = 0
    signals_sent: int = 0
    has_home_program: bool | None = False
    away_rotations: int | None = 0
    school_state: str | None = None  # the state of the medical school; None abroad or unsaid
    specialties: tuple[str, ...] = ()
    preferred_states: frozenset[str] = frozenset()
    application_budget: int = 0
    # Programs sent the specialty's gold signal; signaled_program_ids: its silver signal, or the only tier's.
    gold_signal_program_ids: frozenset[str] = frozenset()
    signaled_program_ids: frozenset[str] = frozenset()
    # "City, ST" of the catalog the student measures distance from, and its point once the catalog has
    # resolved it (None: no home city, or one the catalog does not know).
    home_city: str | None = None
    home: tuple[float, float] | None = None
    preferred_settings: frozenset[str] = frozenset()  # of catalog.PROGRAM_TYPES
    preferred_sizes: frozenset[str] = frozenset()  # small, medium, large

    def __post_init__(self):
        if self.degree not in DEGREES:
            raise ValueError(f"degree must be one of {DEGREES}, got {self.degree!r}")
        if self.visa_need is not None and self.visa_need not in VISA_NEEDS:
            raise ValueError(f"visa_need must be one of {VISA_NEEDS} or None, got {self.visa_need!r}")
        if self.step1_result not in (None, "pass", "fail"):
            raise ValueError(f"step1_result must be 'pass', 'fail' or None, got {self.step1_result!r}")

    @property
    def needs_visa(self) -> bool | None:
        """True for J-1 or H-1B, False for none, None when the applicant did not say."""
        return None if self.visa_need is None else self.visa_need != "none"

    @property
    def school_abroad(self) -> bool:
        """An IMG's school of no state; a US school (MD or DO) of no state is one whose state went unsaid."""
        return self.school_state is None and self.degree == "IMG"

    @classmethod
    def from_proto(cls, profile: profile_pb2.ApplicantProfile) -> "Applicant":
        """The applicant of a validated profile (degree_type must be set); the home city is not resolved
        here (the catalog does that: `home`)."""
        if profile.degree_type not in _DEGREE_FROM_PROTO:
            raise ValueError("degree_type is required (MD, DO or IMG)")
        prefs = profile.preferences
        unsaid = set(profile.unstated_inputs)

        def said(field, value):
            return None if field in unsaid else value

        return cls(
            degree=_DEGREE_FROM_PROTO[profile.degree_type],
            step2_ck_score=profile.step2_ck_score if profile.HasField("step2_ck_score") else None,
            step1_result=_STEP1_FROM_PROTO.get(profile.step1_result),
            comlex_level2_score=profile.comlex_level2_score if profile.HasField("comlex_level2_score") else None,
            research_items=profile.research_items,
            aoa_member=profile.aoa_member,
            clerkship_honors=said(profile_pb2.APPLICANT_INPUT_CLERKSHIP_HONORS, profile.clerkship_honors),
            visa_need=_VISA_FROM_PROTO.get(profile.visa_need),
            years_since_graduation=profile.years_since_graduation,
            signals_sent=profile.signals_sent,
            has_home_program=said(profile_pb2.APPLICANT_INPUT_HOME_PROGRAM, profile.has_home_program),
            away_rotations=said(profile_pb2.APPLICANT_INPUT_AWAY_ROTATIONS, profile.away_rotations),
            school_state=profile.medical_school_state or None,
            specialties=tuple(prefs.specialties),
            preferred_states=frozenset(prefs.preferred_states),
            application_budget=prefs.application_budget,
            gold_signal_program_ids=frozenset(prefs.gold_signal_program_ids),
            signaled_program_ids=frozenset(prefs.signaled_program_ids),
            home_city=prefs.home_city or None,
            preferred_settings=frozenset(
                SETTING_FROM_PROTO[s] for s in prefs.preferred_settings if s in SETTING_FROM_PROTO
            ),
            preferred_sizes=frozenset(SIZE_FROM_PROTO[s] for s in prefs.preferred_sizes if s in SIZE_FROM_PROTO),
        )
