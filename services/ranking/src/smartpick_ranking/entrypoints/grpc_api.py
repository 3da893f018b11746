"""ranking.v1.RankingService over gRPC: parses requests and calls the service layer or the repository."""

import grpc
from smartpick.ranking.v1 import ranking_pb2, ranking_pb2_grpc

from smartpick_platform.grpc_errors import abort_invalid, require_uuid
from smartpick_platform.names import unknown_city_message, unknown_name_message
from smartpick_ranking.adapters.messages import city_message, program_message
from smartpick_ranking.domain.enrichment import parse_enrichment_csv
from smartpick_ranking.service import RankingService

MAX_PAGE_SIZE = 200
MAX_LIST_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50
MAX_CSV_BYTES = 2_000_000


class RankingServicer(ranking_pb2_grpc.RankingServiceServicer):
    def __init__(self, service: RankingService):
        self._service = service

    async def GetRecommendations(self, request, context):
        tenant_id = await require_uuid(context, "tenant_id", request.tenant_id)
        student_id = await require_uuid(context, "student_id", request.student_id)
        if request.profile_version < 0:
            await abort_invalid(context, {"profile_version": "must be 0 (latest) or positive"})
        offset = await _list_page(context, request)
        found = await self._service.recommendations(tenant_id, student_id, request.profile_version)
        if found is None:
            version = f"profile version {request.profile_version}" if request.profile_version else "any profile version"
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no recommendations yet for {version}")
        total, next_token = _slice(found, offset, request.page_size)
        return ranking_pb2.GetRecommendationsResponse(
            recommendations=found, next_page_token=next_token, total_programs=total
        )

    async def ScoreWhatIf(self, request, context):
        # An empty tenant scores against the public catalog alone (the gateway's public try-it page).
        tenant_id = await require_uuid(context, "tenant_id", request.tenant_id) if request.tenant_id else None
        if not request.profile.preferences.specialties:
            await abort_invalid(context, {"profile.preferences.specialties": "name at least one specialty"})
        if request.profile.preferences.application_budget <= 0:
            await abort_invalid(context, {"profile.preferences.application_budget": "must be at least 1"})
        unknown = {
            f"profile.preferences.specialties[{i}]": unknown_name_message("specialty", name, self._service.by_specialty)
            for i, name in enumerate(request.profile.preferences.specialties)
            if name not in self._service.by_specialty
        }
        home_city = request.profile.preferences.home_city
        if home_city and home_city not in self._service.cities:
            unknown["profile.preferences.home_city"] = unknown_city_message(home_city, self._service.cities)
        if unknown:
            await abort_invalid(context, unknown)
        offset = await _list_page(context, request)
        try:
            result = await self._service.what_if(tenant_id, request.profile)
        except ValueError as invalid:
            await abort_invalid(context, {"profile": str(invalid)})
        total, next_token = _slice(result, offset, request.page_size)
        return ranking_pb2.ScoreWhatIfResponse(recommendations=result, next_page_token=next_token, total_programs=total)

    async def SearchPrograms(self, request, context):
        tenant_id = await require_uuid(context, "tenant_id", request.tenant_id) if request.tenant_id else None
        if not 0 <= request.page_size <= MAX_PAGE_SIZE:
            await abort_invalid(context, {"page_size": f"must be 0-{MAX_PAGE_SIZE}"})
        near = None
        distance_fields = [request.HasField(f) for f in ("within_miles", "near_latitude", "near_longitude")]
        if any(distance_fields):
            if not all(distance_fields):
                await abort_invalid(
                    context, {"within_miles": "give within_miles, near_latitude and near_longitude together"}
                )
            if not (-90 <= request.near_latitude <= 90 and -180 <= request.near_longitude <= 180):
                await abort_invalid(context, {"near_latitude": "latitude -90..90 and longitude -180..180"})
            if request.within_miles <= 0:
                await abort_invalid(context, {"within_miles": "must be positive"})
            near = (request.near_latitude, request.near_longitude, request.within_miles)
        if request.page_token and not request.page_token.isdigit():
            await abort_invalid(context, {"page_token": "use the next_page_token of the previous page"})
        offset = int(request.page_token or 0)
        size = request.page_size or DEFAULT_PAGE_SIZE
        programs, total = await self._service.repo.search_programs(
            tenant_id, request.specialty, request.state.upper(), request.name_query, near, offset, size
        )
        next_token = str(offset + size) if offset + size < total else ""
        return ranking_pb2.SearchProgramsResponse(
            programs=[program_message(p) for p in programs], next_page_token=next_token, total_size=total
        )

    async def ListSpecialties(self, request, context):
        return ranking_pb2.ListSpecialtiesResponse(specialties=self._service.specialties())

    async def ListCities(self, request, context):
        return ranking_pb2.ListCitiesResponse(cities=[city_message(c) for c in self._service.cities.values()])

    async def EnrichPrograms(self, request, context):
        tenant_id = await require_uuid(context, "tenant_id", request.tenant_id)
        if len(request.csv.encode()) > MAX_CSV_BYTES:
            await abort_invalid(context, {"csv": f"at most {MAX_CSV_BYTES // 1_000_000} MB per upload"})
        facts, errors = parse_enrichment_csv(request.csv, await self._service.repo.program_ids())
        if errors:
            return ranking_pb2.EnrichProgramsResponse(
                errors=[ranking_pb2.RowError(row=e.row, column=e.column, message=e.message) for e in errors]
            )
        queued = await self._service.repo.replace_facts(tenant_id, facts)
        return ranking_pb2.EnrichProgramsResponse(updated_programs=len(facts), rescoring_students=queued)


async def _list_page(context, request) -> int:
    """The offset a list request's page token names (INVALID_ARGUMENT naming the field otherwise)."""
    if not 0 <= request.page_size <= MAX_LIST_PAGE_SIZE:
        await abort_invalid(context, {"page_size": f"must be 0 (the whole list) to {MAX_LIST_PAGE_SIZE}"})
    if not request.page_token:
        return 0
    if not request.page_token.isdigit():
        await abort_invalid(context, {"page_token": "use the next_page_token of the previous page"})
    return int(request.page_token)


def _slice(found: ranking_pb2.Recommendations, offset: int, page_size: int) -> tuple[int, str]:
    """Keeps one page of the application list in place; returns the list's length and the next token."""
    total = len(found.application_list)
    end = total if page_size == 0 else min(total, offset + page_size)
    page = list(found.application_list[offset:end])
    del found.application_list[:]
    found.application_list.extend(page)
    return total, str(end) if end < total else ""
