"""Recommendations, what-if scoring, and the program catalog (search and a school's own facts)."""

import uuid
from typing import Annotated

import grpc
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from smartpick.profile.v1 import profile_pb2
from smartpick.ranking.v1 import ranking_pb2

from smartpick_gateway.adapters.grpc_client import ServiceCallFailed
from smartpick_gateway.domain import auth
from smartpick_gateway.entrypoints import schemas
from smartpick_gateway.entrypoints.dependencies import Caller, Deps
from smartpick_gateway.entrypoints.errors import ErrorOut, body_of
from smartpick_gateway.entrypoints.ranking_out import (
    CityOut,
    ProgramOut,
    RecommendationsOut,
    SpecialtyOut,
    program_out,
    recommendations_out,
    specialty_out,
)

router = APIRouter(tags=["recommendations"])

DEFAULT_LIST_PAGE = 200
PageSize = Annotated[int, Query(ge=1, le=1000, description="Programs of the list per page")]
PageToken = Annotated[str | None, Query(pattern=r"^[0-9]{1,6}$", description="next_page_token of the previous page")]


class ProgramPage(BaseModel):
    programs: list[ProgramOut]
    total: int
    next_page_token: str | None


class RowErrorOut(BaseModel):
    row: int
    column: str
    message: str


class FactsRejected(ErrorOut):
    errors: list[RowErrorOut] = Field(default_factory=list, description="The rows that are wrong; nothing was applied")


class FactsApplied(BaseModel):
    updated_programs: int
    rescoring_students: int = Field(
        description="Students whose latest recommendations are being scored again with these facts"
    )


@router.get(
    "/v1/students/{student_id}/recommendations",
    response_model=RecommendationsOut,
    responses={202: {"model": RecommendationsOut, "description": "Pending: the workers have not scored it yet"}},
)
async def get_recommendations(
    student_id: uuid.UUID,
    deps: Deps,
    caller: Caller,
    version: schemas.Version = 0,
    page_size: PageSize = DEFAULT_LIST_PAGE,
    page_token: PageToken = None,
):
    """The optimized list for the latest profile version (or ?version=N): 202 'pending' until it is scored."""
    tenant = auth.require_can_read_student(caller, student_id)
    if version == 0:
        latest = await deps.profiles.rpc.GetProfile(
            profile_pb2.GetProfileRequest(tenant_id=str(tenant), student_id=str(student_id))
        )
        version = latest.profile_version.version
    try:
        reply = await deps.ranking.rpc.GetRecommendations(
            ranking_pb2.GetRecommendationsRequest(
                tenant_id=str(tenant),
                student_id=str(student_id),
                profile_version=version,
                page_size=page_size,
                page_token=page_token or "",
            )
        )
    except ServiceCallFailed as failed:
        if failed.code != grpc.StatusCode.NOT_FOUND:
            raise
        pending = RecommendationsOut(status="pending", profile_version=version)
        return JSONResponse(pending.model_dump(mode="json"), status_code=202, headers={"Retry-After": "1"})
    return recommendations_out(reply)


@router.post("/v1/students/{student_id}/what-if", response_model=RecommendationsOut)
async def what_if(
    student_id: uuid.UUID,
    body: schemas.ProfileIn,
    deps: Deps,
    caller: Caller,
    page_size: PageSize = DEFAULT_LIST_PAGE,
    page_token: PageToken = None,
):
    """Scores a hypothetical profile for this student now; nothing is stored or published."""
    tenant = auth.require_can_read_student(caller, student_id)
    # 404 unless the student is one of the caller's school (nothing below reads the student's records).
    await deps.profiles.rpc.GetStudent(profile_pb2.GetStudentRequest(tenant_id=str(tenant), student_id=str(student_id)))
    await schemas.require_known_catalog_names(deps.specialties, deps.cities, body)
    profile = body.to_proto()
    await body_of("profile", deps.profiles.rpc.ValidateProfile(profile_pb2.ValidateProfileRequest(profile=profile)))
    request = ranking_pb2.ScoreWhatIfRequest(
        tenant_id=str(tenant), profile=profile, page_size=page_size, page_token=page_token or ""
    )
    reply = await body_of("profile", deps.ranking.rpc.ScoreWhatIf(request))
    return recommendations_out(reply, status="what-if")


@router.get("/v1/programs", response_model=ProgramPage, tags=["programs"])
async def search_programs(
    deps: Deps,
    caller: Caller,
    specialty: schemas.QueryText = "",
    state: Annotated[str, Query(pattern=r"^([A-Z]{2})?$", description="Two-letter US state code")] = "",
    q: Annotated[schemas.QueryText, Query(description="Name contains")] = "",
    near_lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    near_lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    within_miles: Annotated[float | None, Query(gt=0, le=5000)] = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: schemas.PageTokenText = None,
):
    """Search the ACGME program catalog; facts your school added show in the results."""
    near = [near_lat, near_lon, within_miles]
    if any(v is not None for v in near) and any(v is None for v in near):
        raise HTTPException(
            422,
            [
                {
                    "loc": ["query", "within_miles"],
                    "msg": "give near_lat, near_lon and within_miles together",
                    "type": "value_error",
                }
            ],
        )
    request = ranking_pb2.SearchProgramsRequest(
        tenant_id=str(caller.tenant_id or ""),
        specialty=specialty,
        state=state,
        name_query=q,
        page_size=page_size,
        page_token=page_token or "",
    )
    if within_miles is not None:
        request.near_latitude, request.near_longitude, request.within_miles = near_lat, near_lon, within_miles
    reply = await deps.ranking.rpc.SearchPrograms(request)
    return ProgramPage(
        programs=[program_out(p) for p in reply.programs],
        total=reply.total_size,
        next_page_token=reply.next_page_token or None,
    )


@router.get("/v1/specialties", response_model=list[SpecialtyOut], tags=["programs"])
async def list_specialties(deps: Deps, caller: Caller):
    """Every specialty of the catalog with its public figures and their sources (the names profiles accept)."""
    reply = await deps.ranking.rpc.ListSpecialties(ranking_pb2.ListSpecialtiesRequest())
    return [specialty_out(s) for s in reply.specialties]


@router.get("/v1/cities", response_model=list[CityOut], tags=["programs"])
async def list_cities(deps: Deps, caller: Caller):
    """Every city of the program catalog (the names a profile's home_city accepts), by name."""
    reply = await deps.ranking.rpc.ListCities(ranking_pb2.ListCitiesRequest())
    return [
        CityOut(name=c.name, state=c.state, latitude=c.latitude, longitude=c.longitude, programs=c.programs)
        for c in reply.cities
    ]


@router.put(
    "/v1/programs/facts",
    response_model=FactsApplied,
    tags=["programs"],
    responses={
        422: {
            "model": FactsRejected,
            "description": "Rows that are wrong, each with row, column and message; nothing was applied",
        }
    },
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def put_program_facts(request: Request, deps: Deps, caller: Caller):
    """Your school's facts about programs (visa sponsorship, resident shares, size, setting): all rows or none.

    They win over the public facts for your school, apply to every result computed after this answers, and
    your students' latest recommendations are scored again with them (each with a new
    RecommendationsGenerated, cause RECOMMENDATION_CAUSE_PROGRAM_FACTS_CHANGED).

    Send the CSV as the body (Content-Type: text/csv); its columns are described in docs/model.md."""
    tenant = auth.require_own_school_admin(caller)
    try:
        csv_text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(
            422, [{"loc": ["body"], "msg": "the CSV must be UTF-8 text", "type": "value_error"}]
        ) from None
    reply = await deps.ranking.rpc.EnrichPrograms(
        ranking_pb2.EnrichProgramsRequest(tenant_id=str(tenant), csv=csv_text)
    )
    if reply.errors:
        errors = [RowErrorOut(row=e.row, column=e.column, message=e.message).model_dump() for e in reply.errors]
        return JSONResponse({"detail": "nothing was applied; fix these rows", "errors": errors}, status_code=422)
    return FactsApplied(updated_programs=reply.updated_programs, rescoring_students=reply.rescoring_students)
