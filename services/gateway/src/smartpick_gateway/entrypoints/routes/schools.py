"""Schools (tenants) and their API keys."""

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response
from fastapi.responses import JSONResponse
from smartpick.profile.v1 import profile_pb2

from smartpick_gateway.domain import auth
from smartpick_gateway.entrypoints import schemas
from smartpick_gateway.entrypoints.dependencies import Caller, Components, Deps, Idempotent

router = APIRouter(prefix="/v1/schools", tags=["schools"])
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="The key's id (the part after spk_)")]


async def issue_key(
    deps: Components, role: auth.Role, tenant_id: uuid.UUID | None, student_id: uuid.UUID | None, label: str
) -> schemas.ApiKeyOut:
    key = auth.new_key()
    await deps.repo.save_key(key, role, tenant_id, student_id, label)
    return schemas.ApiKeyOut(key_id=key.key_id, role=role, api_key=key.token)


def school_out(school: profile_pb2.School) -> dict:
    return {"school_id": school.school_id, "name": school.name, "created_at": school.create_time.ToJsonString()}


@router.post("", status_code=201, response_model=schemas.SchoolCreated)
async def create_school(body: schemas.SchoolIn, deps: Deps, caller: Caller, idempotency: Idempotent):
    """Registers a school (operators only) and returns its first admin key.

    With an Idempotency-Key, a retry returns the same school (the profile service keys the creation by the
    request) and a new admin key that replaces, and revokes, the one of the earlier attempt: the stored
    answer keeps no secret. The key and the answer's record are saved in one transaction."""
    auth.require_operator(caller)
    await idempotency.earlier_answer()  # 422 when the key was used for another request
    reply = await deps.profiles.call(
        "CreateSchool", profile_pb2.CreateSchoolRequest(name=body.name, request_id=idempotency.request_id)
    )
    school_id = uuid.UUID(reply.school.school_id)
    key = auth.new_key()
    admin_key = schemas.ApiKeyOut(key_id=key.key_id, role=auth.Role.SCHOOL_ADMIN, api_key=key.token)
    created = schemas.SchoolCreated(**school_out(reply.school), admin_api_key=admin_key)
    recorded = created.model_dump(mode="json")
    recorded["admin_api_key"]["api_key"] = None
    replayed = await deps.repo.issue_replacing(
        key,
        auth.Role.SCHOOL_ADMIN,
        school_id,
        f"first admin of {reply.school.name}",
        caller,
        idempotency.key,
        idempotency.fingerprint,
        201,
        recorded,
    )
    headers = {"Idempotent-Replay": "true"} if replayed or not reply.created else {}
    return JSONResponse(created.model_dump(mode="json"), status_code=201, headers=headers)


@router.get("/{school_id}", response_model=schemas.SchoolOut)
async def get_school(school_id: uuid.UUID, deps: Deps, caller: Caller):
    auth.require_school_member(caller, school_id)
    reply = await deps.profiles.call("GetSchool", profile_pb2.GetSchoolRequest(school_id=str(school_id)))
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
        await deps.profiles.call(
            "GetStudent", profile_pb2.GetStudentRequest(tenant_id=str(school_id), student_id=str(body.student_id))
        )
    return await issue_key(deps, auth.Role(body.role), school_id, body.student_id, body.label)


@router.get("/{school_id}/api-keys", response_model=schemas.ApiKeyList)
async def list_api_keys(school_id: uuid.UUID, deps: Deps, caller: Caller):
    """The school's keys, newest first (never their secrets), revoked ones included."""
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
                revoked_at=k.revoked_at.isoformat() if k.revoked_at else None,
            )
            for k in await deps.repo.list_keys(school_id)
        ]
    )


@router.delete("/{school_id}/api-keys/{key_id}", status_code=204)
async def revoke_api_key(school_id: uuid.UUID, key_id: KeyId, deps: Deps, caller: Caller):
    """Revokes a key of the school; it stops working within 30 seconds on every gateway process."""
    auth.require_school_admin(caller, school_id)
    if not await deps.repo.revoke_key(school_id, key_id):
        raise HTTPException(404, f"the school has no API key {key_id!r}")
    return Response(status_code=204)
