"""Schools (tenants) and their API keys."""

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response
from fastapi.responses import JSONResponse
from smartpick.profile.v1 import profile_pb2

from smartpick_gateway.domain import auth
from smartpick_gateway.entrypoints import schemas
from smartpick_gateway.entrypoints.dependencies import Caller, Deps, Idempotent
from smartpick_gateway.entrypoints.key_issuing import issue_key, key_expiry

router = APIRouter(prefix="/v1/schools", tags=["schools"])
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="The key's id (the part after spk_)")]


def school_out(school: profile_pb2.School) -> dict:
    return {"school_id": school.school_id, "name": school.name, "created_at": school.create_time.ToJsonString()}


def already_issued(school: dict, key_id: str | None) -> dict:
    """The answer to a repeated school creation: the school, and that its first admin key was issued."""
    which = f"key {key_id}" if key_id else "key"
    note = (
        f"already issued: the school's first admin {which} was shown once, in the first answer to this request, "
        "and is not stored; if it was lost, revoke it and issue another with POST "
        f"/v1/schools/{school['school_id']}/api-keys"
    )
    return schemas.SchoolCreated(**school, admin_api_key=None, admin_api_key_note=note).model_dump(mode="json")


@router.post("", status_code=201, response_model=schemas.SchoolCreated)
async def create_school(body: schemas.SchoolIn, deps: Deps, caller: Caller, idempotency: Idempotent):
    """Registers a school (operators only) and returns its first admin key, once.

    With an Idempotency-Key, a repeated request answers with the same school and says that its admin key was
    already issued, without the key: the key's secret is never stored, not even in the request's record.
    The key and that record are saved in one transaction."""
    auth.require_operator(caller)
    replayed = await idempotency.stored_answer()  # 422 when the key was used for another request
    if replayed is not None:
        return replayed
    reply = await deps.profiles.rpc.CreateSchool(
        profile_pb2.CreateSchoolRequest(name=body.name, request_id=idempotency.request_id)
    )
    school = school_out(reply.school)
    if not reply.created:  # an earlier attempt of this request made the school (and answered with its key)
        return JSONResponse(already_issued(school, None), status_code=201, headers={"Idempotent-Replay": "true"})
    key = auth.new_key()
    expiry = key_expiry(deps, None)
    await deps.repo.save_key_with_record(
        key,
        auth.Role.SCHOOL_ADMIN,
        uuid.UUID(reply.school.school_id),
        f"first admin of {reply.school.name}",
        expiry,
        caller,
        idempotency.key,
        idempotency.fingerprint,
        201,
        already_issued(school, key.key_id),
    )
    admin_key = schemas.ApiKeyOut(
        key_id=key.key_id, role=auth.Role.SCHOOL_ADMIN, api_key=key.token, expires_at=expiry.isoformat()
    )
    return JSONResponse(
        schemas.SchoolCreated(**school, admin_api_key=admin_key).model_dump(mode="json"), status_code=201
    )


@router.get("/{school_id}", response_model=schemas.SchoolOut)
async def get_school(school_id: uuid.UUID, deps: Deps, caller: Caller):
    auth.require_school_member(caller, school_id)
    reply = await deps.profiles.rpc.GetSchool(profile_pb2.GetSchoolRequest(school_id=str(school_id)))
    return school_out(reply.school)


@router.post("/{school_id}/api-keys", status_code=201, response_model=schemas.ApiKeyOut)
async def create_api_key(school_id: uuid.UUID, body: schemas.ApiKeyIn, deps: Deps, caller: Caller):
    """Issues a key for an admin, an advisor or one student of the school."""
    auth.require_school_admin(caller, school_id)
    if (body.role == auth.Role.STUDENT) != (body.student_id is not None):
        raise HTTPException(
            422,
            [
                {
                    "loc": ["body", "student_id"],
                    "msg": "give student_id for, and only for, role 'student'",
                    "type": "value_error",
                }
            ],
        )
    if body.student_id is not None:
        await deps.profiles.rpc.GetStudent(
            profile_pb2.GetStudentRequest(tenant_id=str(school_id), student_id=str(body.student_id))
        )
    return await issue_key(deps, auth.Role(body.role), school_id, body.student_id, body.label, body.expires_at)


@router.get("/{school_id}/api-keys", response_model=schemas.ApiKeyList)
async def list_api_keys(school_id: uuid.UUID, deps: Deps, caller: Caller):
    """The school's keys, newest first, revoked and expired ones included: never their secrets, which are
    kept only as hashes."""
    auth.require_school_admin(caller, school_id)
    return schemas.ApiKeyList(
        keys=[
            schemas.ApiKeyRecordOut(
                key_id=k.key_id,
                role=k.role,
                label=k.label,
                student_id=str(k.student_id) if k.student_id else None,
                mentor_id=str(k.mentor_id) if k.mentor_id else None,
                created_at=k.created_at.isoformat(),
                expires_at=k.expires_at.isoformat(),
                revoked_at=k.revoked_at.isoformat() if k.revoked_at else None,
            )
            for k in await deps.repo.list_keys(school_id)
        ]
    )


@router.delete("/{school_id}/api-keys/{key_id}", status_code=204)
async def revoke_api_key(school_id: uuid.UUID, key_id: KeyId, deps: Deps, caller: Caller):
    """Revokes a key of the school; it stops working on every gateway process within a second."""
    auth.require_school_admin(caller, school_id)
    if not await deps.repo.revoke_key(school_id, key_id):
        raise HTTPException(404, f"the school has no API key {key_id!r}")
    return Response(status_code=204)
