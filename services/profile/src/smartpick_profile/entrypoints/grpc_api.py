"""profile.v1.ProfileService over gRPC: parses requests, calls the use cases, maps their errors to statuses."""

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from smartpick.profile.v1 import profile_pb2, profile_pb2_grpc

from smartpick_platform.grpc_errors import abort_invalid, require_uuid
from smartpick_profile.adapters.repository import School, Student
from smartpick_profile.domain import (
    MAX_EMAIL_LENGTH,
    MAX_NAME_LENGTH,
    MAX_REQUEST_ID_LENGTH,
    ProfileInvalid,
    validate_profile,
)
from smartpick_profile.service import NotFound, ProfileService, as_proto

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100


def _timestamp(value) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def _school(school: School) -> profile_pb2.School:
    return profile_pb2.School(
        school_id=str(school.school_id), name=school.name, create_time=_timestamp(school.create_time)
    )


def _student(student: Student) -> profile_pb2.Student:
    return profile_pb2.Student(
        tenant_id=str(student.tenant_id),
        student_id=str(student.student_id),
        external_ref=student.external_ref,
        display_name=student.display_name,
        email=student.email,
        create_time=_timestamp(student.create_time),
    )


async def _validate(context: grpc.aio.ServicerContext, profile: profile_pb2.ApplicantProfile) -> None:
    try:
        validate_profile(profile)
    except ProfileInvalid as invalid:
        await abort_invalid(context, {f"profile.{field}": why for field, why in invalid.errors.items()})


async def _require_request_id(context: grpc.aio.ServicerContext, request_id: str) -> None:
    if not request_id or len(request_id) > MAX_REQUEST_ID_LENGTH:
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"request_id is required (an idempotency key, 1-{MAX_REQUEST_ID_LENGTH} characters)",
        )


async def _text(
    context: grpc.aio.ServicerContext, field: str, value: str, required: bool = True, longest: int = MAX_NAME_LENGTH
) -> str:
    """The field stripped, or the call ends with INVALID_ARGUMENT naming it."""
    value = value.strip()
    if (required and not value) or len(value) > longest:
        need = f"1-{longest}" if required else f"at most {longest}"
        await abort_invalid(context, {field: f"give {need} characters"})
    return value


class ProfileServicer(profile_pb2_grpc.ProfileServiceServicer):
    def __init__(self, service: ProfileService):
        self._service = service

    async def CreateSchool(self, request, context):
        name = await _text(context, "name", request.name)
        await _require_request_id(context, request.request_id)
        school, created = await self._service.create_school(name, request.request_id)
        return profile_pb2.CreateSchoolResponse(school=_school(school), created=created)

    async def GetSchool(self, request, context):
        school_id = await require_uuid(context, "school_id", request.school_id)
        try:
            school = await self._service.get_school(school_id)
        except NotFound as missing:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(missing))
        return profile_pb2.GetSchoolResponse(school=_school(school))

    async def CreateStudent(self, request, context):
        tenant_id = await require_uuid(context, "tenant_id", request.tenant_id)
        external_ref = await _text(context, "external_ref", request.external_ref)
        display_name = await _text(context, "display_name", request.display_name)
        email = await _text(context, "email", request.email, required=False, longest=MAX_EMAIL_LENGTH)
        try:
            student, created = await self._service.create_student(tenant_id, external_ref, display_name, email)
        except NotFound as missing:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(missing))
        return profile_pb2.CreateStudentResponse(student=_student(student), created=created)

    async def GetStudent(self, request, context):
        tenant_id = await require_uuid(context, "tenant_id", request.tenant_id)
        student_id = await require_uuid(context, "student_id", request.student_id)
        try:
            student = await self._service.get_student(tenant_id, student_id)
        except NotFound as missing:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(missing))
        return profile_pb2.GetStudentResponse(student=_student(student))

    async def ListStudents(self, request, context):
        tenant_id = await require_uuid(context, "tenant_id", request.tenant_id)
        if not 0 <= request.page_size <= MAX_PAGE_SIZE:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"page_size must be 0-{MAX_PAGE_SIZE}")
        size = request.page_size or DEFAULT_PAGE_SIZE
        after = await require_uuid(context, "page_token", request.page_token) if request.page_token else None
        students = await self._service.list_students(tenant_id, after, size + 1)
        page = students[:size]
        token = str(page[-1].student_id) if len(students) > size else ""
        return profile_pb2.ListStudentsResponse(students=[_student(s) for s in page], next_page_token=token)

    async def UpsertProfile(self, request, context):
        tenant_id = await require_uuid(context, "tenant_id", request.tenant_id)
        student_id = await require_uuid(context, "student_id", request.student_id)
        await _require_request_id(context, request.request_id)
        await _validate(context, request.profile)
        try:
            saved = await self._service.upsert_profile(tenant_id, student_id, request.profile, request.request_id)
        except NotFound as missing:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(missing))
        return profile_pb2.UpsertProfileResponse(
            profile_version=as_proto(tenant_id, student_id, saved.version),
            created=saved.created,
            event_id=str(saved.event_id),
        )

    async def GetProfile(self, request, context):
        tenant_id = await require_uuid(context, "tenant_id", request.tenant_id)
        student_id = await require_uuid(context, "student_id", request.student_id)
        if request.version < 0:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "version must be 0 (latest) or positive")
        try:
            stored = await self._service.get_profile(tenant_id, student_id, request.version)
        except NotFound as missing:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(missing))
        return profile_pb2.GetProfileResponse(profile_version=as_proto(tenant_id, student_id, stored))

    async def ValidateProfile(self, request, context):
        await _validate(context, request.profile)
        return profile_pb2.ValidateProfileResponse()
