"""The HTTP API's request and response bodies, and their mapping to the gRPC contracts.

Bodies forbid unknown fields, so a misspelt field gets a 422 that names it rather than being dropped.
Range, length and list-size rules live once, in the profile service's domain; they come back here as field
violations. What bounds a body as a whole is the gateway's limit on its size (413 beyond it)."""

import uuid
from typing import Annotated, Literal

from fastapi import HTTPException, Query
from google.protobuf.json_format import MessageToDict
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from smartpick.profile.v1 import profile_pb2

from smartpick_gateway.domain.auth import Role

DEGREES = {"MD": profile_pb2.DEGREE_TYPE_MD, "DO": profile_pb2.DEGREE_TYPE_DO, "IMG": profile_pb2.DEGREE_TYPE_IMG}
STEP1 = {"pass": profile_pb2.STEP1_RESULT_PASS, "fail": profile_pb2.STEP1_RESULT_FAIL}
VISAS = {"none": profile_pb2.VISA_NEED_NONE, "j1": profile_pb2.VISA_NEED_J1, "h1b": profile_pb2.VISA_NEED_H1B}
SETTINGS = {
    "academic": profile_pb2.PROGRAM_SETTING_ACADEMIC,
    "community_affiliated": profile_pb2.PROGRAM_SETTING_COMMUNITY_AFFILIATED,
    "community": profile_pb2.PROGRAM_SETTING_COMMUNITY,
}
SIZES = {
    "small": profile_pb2.PROGRAM_SIZE_SMALL,
    "medium": profile_pb2.PROGRAM_SIZE_MEDIUM,
    "large": profile_pb2.PROGRAM_SIZE_LARGE,
}
# The inputs a body may leave out or set to null: said by no one, they go as unstated_inputs.
UNSTATED = {
    "clerkship_honors": profile_pb2.APPLICANT_INPUT_CLERKSHIP_HONORS,
    "has_home_program": profile_pb2.APPLICANT_INPUT_HOME_PROGRAM,
    "away_rotations": profile_pb2.APPLICANT_INPUT_AWAY_ROTATIONS,
}
_NOT_SAID = "; null or left out: not said, and the chances take a typical applicant's (docs/model.md)"


def _reverse(mapping: dict) -> dict:
    return {v: k for k, v in mapping.items()}


def _unstorable(value) -> str | None:
    """Why text cannot be stored (PostgreSQL takes no NUL; UTF-8 has no lone surrogate), or None."""
    if isinstance(value, str):
        if "\x00" in value:
            return "must not contain NUL (\\u0000) characters"
        if not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError:
                return "must be valid Unicode text (no lone surrogate code points)"
    elif isinstance(value, list | tuple):
        return next(filter(None, map(_unstorable, value)), None)
    elif isinstance(value, dict):
        return _unstorable([*value.keys(), *value.values()])
    return None


class Body(BaseModel):
    """A request body: unknown fields, non-finite numbers and text no database can store are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value):
        if problem := _unstorable(value):
            raise ValueError(problem)
        return value


# The contracts' whole numbers are 32-bit: a larger one is refused here, naming its field, rather than
# failing in the protobuf encoding (the domain's own ranges are checked by the profile service).
Int32 = Annotated[int, Field(strict=True, ge=-(2**31), le=2**31 - 1)]
# true or false only: 0, 1 and "yes" are refused rather than read as a flag.
Flag = Annotated[bool, Field(strict=True)]
# A number where JSON says one: true/false are not numbers (whole numbers are).
Number = Annotated[float, Field(strict=True)]


# Text a query carries to a service: bounded, and no control characters (which no search needs).
QueryText = Annotated[str, Query(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
PageTokenText = Annotated[
    str | None, Query(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$", description="next_page_token of the last page")
]
Version = Annotated[int, Query(ge=0, le=2**31 - 1, description="A profile version; 0: the latest")]


class PreferencesIn(Body):
    specialties: list[str] = Field(min_length=1, description='NRMP specialty names, e.g. "Dermatology"')
    preferred_states: list[str] = Field(default_factory=list, description="Two-letter US state codes")
    application_budget: Int32 = Field(description="Most programs the student will apply to")
    signaled_program_ids: list[str] = Field(
        default_factory=list,
        description="10-digit ACGME program numbers sent a signal: silver where the specialty has gold and silver, "
        "else its only signal",
    )
    gold_signal_program_ids: list[str] = Field(
        default_factory=list, description="10-digit ACGME program numbers sent a gold signal"
    )
    home_city: str = Field(
        "",
        max_length=100,
        description='A city of the program catalog, "City, ST" (GET /v1/cities lists them): programs farther from it '
        "are valued less (full value within 100 miles, down to the other-region value from 1,000 miles). Empty: none",
    )
    preferred_settings: list[Literal["academic", "community_affiliated", "community"]] = Field(
        default_factory=list, max_length=3, description="Program settings preferred; empty: no preference"
    )
    preferred_sizes: list[Literal["small", "medium", "large"]] = Field(
        default_factory=list,
        max_length=3,
        description="Program sizes preferred, by first-year positions against the program's own specialty "
        "(tertiles; docs/model.md); empty: no preference",
    )

    def to_proto(self) -> profile_pb2.Preferences:
        fields = self.model_dump(exclude={"preferred_settings", "preferred_sizes"})
        return profile_pb2.Preferences(
            **fields,
            preferred_settings=[SETTINGS[s] for s in self.preferred_settings],
            preferred_sizes=[SIZES[s] for s in self.preferred_sizes],
        )


class ProfileIn(Body):
    degree_type: Literal["MD", "DO", "IMG"]
    step2_ck_score: Int32 | None = Field(None, description="USMLE Step 2 CK score; null if not taken")
    step1_result: Literal["pass", "fail"] | None = Field(
        None, description="USMLE Step 1; null or left out: not said, and the chances take a pass (docs/model.md)"
    )
    comlex_level2_score: Int32 | None = Field(None, description="COMLEX Level 2-CE, DO applicants only")
    research_items: Int32 = Field(0, description="Abstracts, presentations and publications")
    aoa_member: Flag = False
    clerkship_honors: Int32 | None = Field(None, description="Core clerkships graded honors" + _NOT_SAID)
    visa_need: Literal["none", "j1", "h1b"] = "none"
    years_since_graduation: Int32 = 0
    signals_sent: Int32 = 0
    has_home_program: Flag | None = Field(
        None, description="Whether your school has a program in the specialty" + _NOT_SAID
    )
    away_rotations: Int32 | None = Field(None, description="Away rotations in the specialty" + _NOT_SAID)
    medical_school_state: str = Field(
        "",
        description="Two-letter code of the medical school's state; empty for a school outside the US, or for an "
        "MD or DO not said (then no program is read as in your school's state)",
    )
    preferences: PreferencesIn

    def to_proto(self) -> profile_pb2.ApplicantProfile:
        fields = self.model_dump(exclude={"preferences"}, exclude_none=True)
        fields["degree_type"] = DEGREES[self.degree_type]
        fields["visa_need"] = VISAS[self.visa_need]
        if self.step1_result is not None:
            fields["step1_result"] = STEP1[self.step1_result]
        fields["unstated_inputs"] = [UNSTATED[name] for name in UNSTATED if name not in fields]
        return profile_pb2.ApplicantProfile(**fields, preferences=self.preferences.to_proto())

    @classmethod
    def from_proto(cls, profile: profile_pb2.ApplicantProfile) -> "ProfileIn":
        fields = MessageToDict(profile, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
        fields["degree_type"] = _reverse(DEGREES)[profile.degree_type]
        fields["visa_need"] = _reverse(VISAS).get(profile.visa_need, "none")
        fields["step1_result"] = _reverse(STEP1).get(profile.step1_result)
        unstated = _reverse(UNSTATED)
        del fields["unstated_inputs"]
        fields.update({unstated[i]: None for i in profile.unstated_inputs if i in unstated})
        prefs = fields["preferences"]
        # A value this gateway does not know yet (a newer writer's) is left out rather than failing the read.
        settings, sizes = _reverse(SETTINGS), _reverse(SIZES)
        prefs["preferred_settings"] = [settings[s] for s in profile.preferences.preferred_settings if s in settings]
        prefs["preferred_sizes"] = [sizes[s] for s in profile.preferences.preferred_sizes if s in sizes]
        return cls.model_validate(fields)


class ProfileOut(BaseModel):
    student_id: str
    version: int
    created_at: str
    profile: ProfileIn


class ProfileAccepted(BaseModel):
    student_id: str
    version: int
    created: bool = Field(description="False when nothing changed or the request was a replay")
    event_id: str = Field(description="Id of the ProfileUpdated event this version publishes")


class SchoolIn(Body):
    name: str = Field(description="1-200 characters")


class SchoolOut(BaseModel):
    school_id: str
    name: str
    created_at: str


class ApiKeyIn(Body):
    role: Literal[Role.SCHOOL_ADMIN, Role.ADVISOR, Role.STUDENT]
    student_id: uuid.UUID | None = Field(None, description="Required for, and only for, the student role")
    label: str = Field("", max_length=200)
    expires_at: AwareDatetime | None = Field(
        None,
        description="When the key stops working (ISO 8601 with a time zone): in the future, at most the gateway's "
        "longest lifetime (365 days by default) from now; the default lifetime (90 days) when omitted",
    )


class ApiKeyOut(BaseModel):
    key_id: str
    role: Role
    api_key: str = Field(description="Shown once; only its hash is stored")
    expires_at: str


class SchoolCreated(SchoolOut):
    admin_api_key: ApiKeyOut | None = Field(
        description="The school's first admin key, shown once: null when the request is repeated (same "
        "Idempotency-Key), whose answer says so in admin_api_key_note"
    )
    admin_api_key_note: str | None = None


class StudentIn(Body):
    external_ref: str = Field(description="The school's own id for the student (1-200 characters)")
    display_name: str = Field(description="1-200 characters")
    email: str = Field("", description="At most 320 characters")


class StudentOut(BaseModel):
    student_id: str
    school_id: str
    external_ref: str
    display_name: str
    email: str
    created_at: str

    @classmethod
    def from_proto(cls, student: profile_pb2.Student) -> "StudentOut":
        return cls(
            student_id=student.student_id,
            school_id=student.tenant_id,
            external_ref=student.external_ref,
            display_name=student.display_name,
            email=student.email,
            created_at=student.create_time.ToJsonString(),
        )


class StudentPage(BaseModel):
    students: list[StudentOut]
    next_page_token: str | None


async def require_known_catalog_names(specialties, cities, body: ProfileIn) -> None:
    """422 naming each unknown specialty and an unknown home city, with the closest known names
    (`specialties`, `cities`: adapters.CatalogNames). A home city in other case or spacing is written the
    catalog's way."""
    unknown = await specialties.unknown(body.preferences.specialties, "preferences.specialties")
    if body.preferences.home_city:
        known = await cities.known(body.preferences.home_city)
        if known is None:
            unknown["preferences.home_city"] = await cities.unknown_message(body.preferences.home_city)
        else:
            body.preferences.home_city = known
    if unknown:
        raise HTTPException(
            422,
            [
                {"loc": ["body", *field.split(".")], "msg": message, "type": "value_error"}
                for field, message in unknown.items()
            ],
        )


class ApiKeyRecordOut(BaseModel):
    key_id: str
    role: Role
    label: str
    student_id: str | None
    mentor_id: str | None
    created_at: str
    expires_at: str
    revoked_at: str | None


class ApiKeyList(BaseModel):
    keys: list[ApiKeyRecordOut]
