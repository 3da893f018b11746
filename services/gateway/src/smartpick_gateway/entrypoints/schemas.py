"""The HTTP API's request and response bodies, and their mapping to the gRPC contracts.

Bodies forbid unknown fields, so a misspelt field gets a 422 that names it rather than being dropped.
Range rules live once, in the profile service's domain; they come back here as field violations."""

import uuid
from typing import Literal

from google.protobuf.json_format import MessageToDict
from pydantic import BaseModel, ConfigDict, Field
from smartpick.profile.v1 import profile_pb2

from smartpick_gateway.domain.auth import Role

DEGREES = {"MD": profile_pb2.DEGREE_TYPE_MD, "DO": profile_pb2.DEGREE_TYPE_DO, "IMG": profile_pb2.DEGREE_TYPE_IMG}
STEP1 = {"pass": profile_pb2.STEP1_RESULT_PASS, "fail": profile_pb2.STEP1_RESULT_FAIL}
VISAS = {"none": profile_pb2.VISA_NEED_NONE, "j1": profile_pb2.VISA_NEED_J1, "h1b": profile_pb2.VISA_NEED_H1B}


def _reverse(mapping: dict) -> dict:
    return {v: k for k, v in mapping.items()}


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PreferencesIn(Body):
    specialties: list[str] = Field(min_length=1, description='NRMP specialty names, e.g. "Dermatology"')
    preferred_states: list[str] = Field(default_factory=list, description="Two-letter US state codes")
    application_budget: int = Field(description="Most programs the student will apply to")
    signaled_program_ids: list[str] = Field(default_factory=list, description="10-digit ACGME program numbers")


class ProfileIn(Body):
    degree_type: Literal["MD", "DO", "IMG"]
    step2_ck_score: int | None = Field(None, description="USMLE Step 2 CK score; null if not taken")
    step1_result: Literal["pass", "fail"] | None = None
    comlex_level2_score: int | None = Field(None, description="COMLEX Level 2-CE, DO applicants only")
    research_items: int = Field(0, description="Abstracts, presentations and publications")
    aoa_member: bool = False
    clerkship_honors: int = 0
    visa_need: Literal["none", "j1", "h1b"] = "none"
    years_since_graduation: int = 0
    signals_sent: int = 0
    has_home_program: bool = False
    away_rotations: int = 0
    preferences: PreferencesIn

    def to_proto(self) -> profile_pb2.ApplicantProfile:
        fields = self.model_dump(exclude={"preferences"}, exclude_none=True)
        fields["degree_type"] = DEGREES[self.degree_type]
        fields["visa_need"] = VISAS[self.visa_need]
        if self.step1_result is not None:
            fields["step1_result"] = STEP1[self.step1_result]
        return profile_pb2.ApplicantProfile(
            **fields, preferences=profile_pb2.Preferences(**self.preferences.model_dump())
        )

    @classmethod
    def from_proto(cls, profile: profile_pb2.ApplicantProfile) -> "ProfileIn":
        fields = MessageToDict(profile, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
        fields["degree_type"] = _reverse(DEGREES)[profile.degree_type]
        fields["visa_need"] = _reverse(VISAS).get(profile.visa_need, "none")
        fields["step1_result"] = _reverse(STEP1).get(profile.step1_result)
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
    name: str = Field(min_length=1, max_length=200)


class SchoolOut(BaseModel):
    school_id: str
    name: str
    created_at: str


class ApiKeyIn(Body):
    role: Literal[Role.SCHOOL_ADMIN, Role.ADVISOR, Role.STUDENT]
    student_id: uuid.UUID | None = Field(None, description="Required for, and only for, the student role")
    label: str = Field("", max_length=200)


class ApiKeyOut(BaseModel):
    key_id: str
    role: Role
    api_key: str = Field(description="Shown once; only its hash is stored")


class SchoolCreated(SchoolOut):
    admin_api_key: ApiKeyOut


class StudentIn(Body):
    external_ref: str = Field(min_length=1, max_length=200, description="The school's own id for the student")
    display_name: str = Field(min_length=1, max_length=200)
    email: str = Field("", max_length=320)


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


class ApiKeyRecordOut(BaseModel):
    key_id: str
    role: Role
    label: str
    student_id: str | None
    mentor_id: str | None
    created_at: str
    revoked_at: str | None


class ApiKeyList(BaseModel):
    keys: list[ApiKeyRecordOut]
