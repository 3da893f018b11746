"""Students and their versioned applicant profiles."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from smartpick.profile.v1 import profile_pb2

from smartpick_gateway.domain import auth
from smartpick_gateway.entrypoints import schemas
from smartpick_gateway.entrypoints.dependencies import Caller, Deps, Idempotent
from smartpick_gateway.entrypoints.errors import body_of

router = APIRouter(prefix="/v1/students")


@router.post("", status_code=201, response_model=schemas.StudentOut, tags=["students"])
async def create_student(body: schemas.StudentIn, response: Response, deps: Deps, caller: Caller):
    """Adds a student; an existing external_ref returns that student with 200."""
    tenant = auth.require_own_school_admin(caller)
    reply = await deps.profiles.rpc.CreateStudent(
        profile_pb2.CreateStudentRequest(tenant_id=str(tenant), **body.model_dump())
    )
    if not reply.created:
        response.status_code = 200
    return schemas.StudentOut.from_proto(reply.student)


@router.get("", response_model=schemas.StudentPage, tags=["students"])
async def list_students(
    deps: Deps,
    caller: Caller,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
    page_token: schemas.PageTokenText = None,
):
    tenant = auth.require_can_list_students(caller)
    reply = await deps.profiles.rpc.ListStudents(
        profile_pb2.ListStudentsRequest(tenant_id=str(tenant), page_size=page_size, page_token=page_token or "")
    )
    return schemas.StudentPage(
        students=[schemas.StudentOut.from_proto(s) for s in reply.students],
        next_page_token=reply.next_page_token or None,
    )


@router.get("/{student_id}", response_model=schemas.StudentOut, tags=["students"])
async def get_student(student_id: uuid.UUID, deps: Deps, caller: Caller):
    tenant = auth.require_can_read_student(caller, student_id)
    reply = await deps.profiles.rpc.GetStudent(
        profile_pb2.GetStudentRequest(tenant_id=str(tenant), student_id=str(student_id))
    )
    return schemas.StudentOut.from_proto(reply.student)


@router.put("/{student_id}/profile", status_code=202, response_model=schemas.ProfileAccepted, tags=["profiles"])
async def put_profile(
    student_id: uuid.UUID, body: schemas.ProfileIn, deps: Deps, caller: Caller, idempotency: Idempotent
):
    """Stores a new profile version; the profile service writes its ProfileUpdated event in the version's own
    transaction. Answers before Kafka sees the event."""
    tenant = auth.require_can_write_student(caller, student_id)
    if stored := await idempotency.stored_answer():
        return stored
    await schemas.require_known_catalog_names(deps.specialties, deps.cities, body)
    reply = await body_of(
        "profile",
        deps.profiles.rpc.UpsertProfile(
            profile_pb2.UpsertProfileRequest(
                tenant_id=str(tenant),
                student_id=str(student_id),
                profile=body.to_proto(),
                request_id=idempotency.request_id,
            )
        ),
    )
    version = reply.profile_version
    accepted = schemas.ProfileAccepted(
        student_id=version.student_id, version=version.version, created=reply.created, event_id=reply.event_id
    )
    return await idempotency.answer(202, accepted)


@router.get("/{student_id}/profile", response_model=schemas.ProfileOut, tags=["profiles"])
async def get_profile(student_id: uuid.UUID, deps: Deps, caller: Caller, version: schemas.Version = 0):
    """The latest profile version, or the one asked for with ?version=N."""
    tenant = auth.require_can_read_student(caller, student_id)
    reply = await deps.profiles.rpc.GetProfile(
        profile_pb2.GetProfileRequest(tenant_id=str(tenant), student_id=str(student_id), version=version)
    )
    stored = reply.profile_version
    return schemas.ProfileOut(
        student_id=stored.student_id,
        version=stored.version,
        created_at=stored.create_time.ToJsonString(),
        profile=schemas.ProfileIn.from_proto(stored.profile),
    )
