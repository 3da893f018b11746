"""What anyone may use without an account: scoring a profile against the public catalog, stored nowhere."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from smartpick.profile.v1 import profile_pb2
from smartpick.ranking.v1 import ranking_pb2

from smartpick_gateway.entrypoints import schemas
from smartpick_gateway.entrypoints.dependencies import Deps, within_rate
from smartpick_gateway.entrypoints.errors import body_of
from smartpick_gateway.entrypoints.ranking_out import RecommendationsOut, recommendations_out

router = APIRouter(tags=["try it"])

NOTHING_KEPT = "Nothing you send here is stored: the profile is scored and forgotten."


class TryItOut(RecommendationsOut):
    stored: bool = Field(False, description="Always false: nothing of a try-it request is kept")
    privacy_note: str = NOTHING_KEPT


@router.post(
    "/v1/try-it",
    response_model=TryItOut,
    responses={429: {"description": "Too many requests from this client; wait Retry-After seconds"}},
)
async def try_it(body: schemas.ProfileIn, request: Request, deps: Deps):
    """Scores a profile against the public program catalog, without an account; nothing is stored or
    published. Rate-limited per client address (429 with Retry-After)."""
    await within_rate(deps.try_it_limit, request, "try-it")
    await schemas.require_known_catalog_names(deps.specialties, deps.cities, body)
    profile = body.to_proto()
    await body_of("profile", deps.profiles.rpc.ValidateProfile(profile_pb2.ValidateProfileRequest(profile=profile)))
    # page_size 0: the whole list, as long as the application budget the profile names.
    reply = await body_of(
        "profile", deps.ranking.rpc.ScoreWhatIf(ranking_pb2.ScoreWhatIfRequest(tenant_id="", profile=profile))
    )
    scored = recommendations_out(reply, status="try-it").model_dump()
    return JSONResponse(TryItOut(**scored).model_dump(mode="json"), headers={"Cache-Control": "no-store"})
