"""The advisor's view of their own school: every student's chance of at least one match, flagged below the
school's risk threshold. Paged like the student list it walks."""

import asyncio
import uuid
from typing import Annotated

import grpc
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from smartpick.profile.v1 import profile_pb2
from smartpick.ranking.v1 import ranking_pb2

from smartpick_gateway.adapters.grpc_client import ServiceCallFailed
from smartpick_gateway.domain import auth
from smartpick_gateway.entrypoints import schemas
from smartpick_gateway.entrypoints.dependencies import Caller, Components, Deps

router = APIRouter(prefix="/v1/cohort", tags=["cohort"])


class CohortStudentOut(BaseModel):
    student_id: str
    display_name: str
    external_ref: str
    status: str = Field(description="no_profile, pending (the latest version is not scored yet) or ready")
    profile_version: int = Field(description="Latest profile version (0: none)")
    scored_version: int = Field(description="Profile version the figures below come from (0: none)")
    specialties: list[str]
    list_match_probability: float | None = Field(description="Chance of at least one match, applying to the list")
    model_version: str | None
    at_risk: bool = Field(description="The chance is below the school's risk threshold")


class CohortPage(BaseModel):
    risk_threshold: float
    students: list[CohortStudentOut]
    next_page_token: str | None


class CohortSettings(schemas.Body):
    risk_threshold: schemas.Number = Field(
        gt=0, lt=1, description="Flag students whose chance of a match is below this"
    )


async def _not_found_is_none(call):
    try:
        return await call
    except ServiceCallFailed as failed:
        if failed.code == grpc.StatusCode.NOT_FOUND:
            return None
        raise


async def _cohort_row(
    deps: Components, tenant: uuid.UUID, student: profile_pb2.Student, threshold: float
) -> CohortStudentOut:
    profile, scored = await asyncio.gather(
        _not_found_is_none(
            deps.profiles.rpc.GetProfile(
                profile_pb2.GetProfileRequest(tenant_id=str(tenant), student_id=student.student_id)
            )
        ),
        _not_found_is_none(
            deps.ranking.rpc.GetRecommendations(
                # One program of the list is enough: the row needs the list's figures only.
                ranking_pb2.GetRecommendationsRequest(
                    tenant_id=str(tenant), student_id=student.student_id, page_size=1
                ),
            )
        ),
    )
    latest = profile.profile_version.version if profile else 0
    found = scored.recommendations if scored else None
    scored_version = found.profile_version if found else 0
    chance = found.list_match_probability if found else None
    status = "no_profile" if latest == 0 else "ready" if scored_version >= latest else "pending"
    return CohortStudentOut(
        student_id=student.student_id,
        display_name=student.display_name,
        external_ref=student.external_ref,
        status=status,
        profile_version=latest,
        scored_version=scored_version,
        specialties=list(profile.profile_version.profile.preferences.specialties) if profile else [],
        list_match_probability=chance,
        model_version=found.model_version if found else None,
        at_risk=chance is not None and chance < threshold,
    )


async def _threshold(deps: Components, tenant: uuid.UUID) -> float:
    stored = await deps.sessions.risk_threshold(tenant)
    return deps.settings.default_risk_threshold if stored is None else stored


@router.get("", response_model=CohortPage)
async def read_cohort(
    deps: Deps,
    caller: Caller,
    page_size: Annotated[int, Query(ge=1, le=100)] = 50,
    page_token: schemas.PageTokenText = None,
):
    """The school's students with their latest figures, a page at a time (advisors and school admins)."""
    tenant = auth.require_can_list_students(caller)
    threshold = await _threshold(deps, tenant)
    page = await deps.profiles.rpc.ListStudents(
        profile_pb2.ListStudentsRequest(tenant_id=str(tenant), page_size=page_size, page_token=page_token or "")
    )
    rows = await asyncio.gather(*(_cohort_row(deps, tenant, s, threshold) for s in page.students))
    return CohortPage(risk_threshold=threshold, students=list(rows), next_page_token=page.next_page_token or None)


@router.get("/settings", response_model=CohortSettings)
async def get_cohort_settings(deps: Deps, caller: Caller):
    tenant = auth.require_can_list_students(caller)
    return CohortSettings(risk_threshold=await _threshold(deps, tenant))


@router.put("/settings", response_model=CohortSettings)
async def put_cohort_settings(body: CohortSettings, deps: Deps, caller: Caller):
    """The school's risk threshold (school admins)."""
    tenant = auth.require_own_school_admin(caller)
    await deps.sessions.set_risk_threshold(tenant, body.risk_threshold)
    return body
