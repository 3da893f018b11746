"""profile.v1.ProfileService over gRPC: parses requests, applies the domain rules, calls the repository."""

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from smartpick.profile.v1 import profile_pb2, profile_pb2_grpc

from smartpick_platform.grpc_errors import abort_invalid, require_uuid
from smartpick_profile.adapters.repository import ProfileRepository, StoredVersion
from smartpick_profile.domain import ProfileInvalid, needs_new_version, validate_profile

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100


def _timestamp(value) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def _school(row) -> profile_pb2.School:
    return profile_pb2.School(
        school_id=str(row["school_id"]), name=row["name"], create_time=_timestamp(row["create_time"])
    )


def _student(row) -> profile_pb2.Student:
    return profile_pb2.Student(
        tenant_id=str(row["tenant_id"]),
        student_id=str(row["student_id"]),
        external_ref=row["external_ref"],
        display_name=row["display_name"],
        email=row["email"],
        create_time=_timestamp(row["create_time"]),
    )


def _version(tenant_id: str, student_id: str, stored: StoredVersion) -> profile_pb2.ProfileVersion:
    return profile_pb2.ProfileVersion(
        tenant_id=tenant_id,
        student_id=student_id,
        version=stored.version,
        profile=stored.profile,
        create_time=_timestamp(stored.create_time),
    )


async def _validate(context: grpc.aio.ServicerContext, profile: profile_pb2.ApplicantProfile) -> None:
    try:
        validate_profile(profile)
    except ProfileInvalid as invalid:
        await abort_invalid(context, {f"profile.{field}": why for field, why in invalid.errors.items()})


class ProfileServicer(profile_pb2_grpc.ProfileServiceServicer):
    def __init__(self, repository: ProfileRepository):
        self._repo = repository

    async def CreateSchool(self, request, context):
        name = request.name.strip()
        if not name or len(name) > 200:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "name: give the school's name (1-200 characters)")
        return profile_pb2.CreateSchoolResponse(school=_school(await self._repo.create_school(name)))

    async def GetSchool(self, request, context):
        row = await self._repo.get_school(await require_uuid(context, "school_id", request.school_id))
        if row is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no school {request.school_id}")
        return profile_pb2.GetSchoolResponse(school=_school(row))

    async def CreateStudent(self, request, context):
        tenant_id = await require_uuid(context, "tenant_id", request.tenant_id)
        if not request.external_ref.strip() or not request.display_name.strip():
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "external_ref and display_name are required")
        if await self._repo.get_school(tenant_id) is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no school {request.tenant_id}")
        row, created = await self._repo.create_student(
            tenant_id, request.external_ref.strip(), request.display_name.strip(), request.email.strip()
        )
        return profile_pb2.CreateStudentResponse(student=_student(row), created=created)

    async def GetStudent(self, request, context):
        tenant_id = await require_uuid(context, "tenant_id", request.tenant_id)
        student_id = await require_uuid(context, "student_id", request.student_id)
        row = await self._repo.get_student(tenant_id, student_id)
        if row is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no student {request.student_id} in this school")
        return profile_pb2.GetStudentResponse(student=_student(row))

    async def ListStudents(self, request, context):
        tenant_id = await require_uuid(context, "tenant_id", request.tenant_id)
        if not 0 <= request.page_size <= MAX_PAGE_SIZE:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"page_size must be 0-{MAX_PAGE_SIZE}")
        size = request.page_size or DEFAULT_PAGE_SIZE
        after = await require_uuid(context, "page_token", request.page_token) if request.page_token else None
        rows = await self._repo.list_students(tenant_id, after, size + 1)
        page = rows[:size]
        token = str(page[-1]["student_id"]) if len(rows) > size else ""
        return profile_pb2.ListStudentsResponse(students=[_student(r) for r in page], next_page_token=token)

    async def UpsertProfile(self, request, context):
        tenant_id = await require_uuid(context, "tenant_id", request.tenant_id)
        student_id = await require_uuid(context, "student_id", request.student_id)
        if not request.request_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "request_id is required (an idempotency key)")
        await _validate(context, request.profile)
        result = await self._repo.upsert_profile(
            tenant_id, student_id, request.profile, request.request_id, needs_new_version
        )
        if result is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no student {request.student_id} in this school")
        stored, created = result
        return profile_pb2.UpsertProfileResponse(
            profile_version=_version(request.tenant_id, request.student_id, stored), created=created
        )

    async def GetProfile(self, request, context):
        tenant_id = await require_uuid(context, "tenant_id", request.tenant_id)
        student_id = await require_uuid(context, "student_id", request.student_id)
        if request.version < 0:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "version must be 0 (latest) or positive")
        stored = await self._repo.get_profile(tenant_id, student_id, request.version)
        if stored is None:
            what = f"version {request.version}" if request.version else "any profile"
            await context.abort(grpc.StatusCode.NOT_FOUND, f"student {request.student_id} has no {what} in this school")
        return profile_pb2.GetProfileResponse(profile_version=_version(request.tenant_id, request.student_id, stored))

    async def ValidateProfile(self, request, context):
        await _validate(context, request.profile)
        return profile_pb2.ValidateProfileResponse()
