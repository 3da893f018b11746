"""What the routes share: the components built at start-up, the authenticated caller, idempotency."""

import hashlib
import uuid
from pathlib import Path
from typing import Annotated

import structlog
from fastapi import Cookie, Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from smartpick.mentorship.v1 import mentorship_pb2_grpc
from smartpick.profile.v1 import profile_pb2_grpc
from smartpick.ranking.v1 import ranking_pb2_grpc

from smartpick_gateway.adapters.catalog_names import CityNames, SpecialtyNames
from smartpick_gateway.adapters.grpc_client import ServiceClient
from smartpick_gateway.adapters.rate_limit import RateLimit
from smartpick_gateway.adapters.repository import GatewayRepository, StoredResponse
from smartpick_gateway.adapters.sessions_repository import Session, SessionsRepository
from smartpick_gateway.domain import auth, sessions
from smartpick_gateway.settings import GatewaySettings
from smartpick_platform import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", max_length=200, description="Replaying a request with the same key repeats its answer"
    ),
]


class Components:
    """What the routes use, built once at start-up (the composition root). The gateway owns no event and
    runs no background task: the services that own the data write and relay their events."""

    def __init__(self, settings: GatewaySettings):
        self.settings = settings
        self.repo: GatewayRepository
        self.sessions: SessionsRepository
        self.profiles: ServiceClient
        self.ranking: ServiceClient
        self.mentorship: ServiceClient
        self.specialties: SpecialtyNames
        self.cities: CityNames
        self.try_it_limit = RateLimit(settings.try_it_rate_limit, "try-it")
        self.sign_in_limit = RateLimit(settings.sign_in_rate_limit, "sign-in")

    async def start(self) -> None:
        await db.migrate(self.settings.database_url, MIGRATIONS)
        self.repo = GatewayRepository(await db.create_pool(self.settings.database_url, max_size=20))
        self.sessions = SessionsRepository(self.repo.pool)
        timeout = self.settings.grpc_timeout_seconds
        self.profiles = ServiceClient(
            "profile", self.settings.profile_grpc_target, profile_pb2_grpc.ProfileServiceStub, timeout
        )
        self.ranking = ServiceClient(
            "ranking", self.settings.ranking_grpc_target, ranking_pb2_grpc.RankingServiceStub, timeout
        )
        self.mentorship = ServiceClient(
            "mentorship", self.settings.mentorship_grpc_target, mentorship_pb2_grpc.MentorshipServiceStub, timeout
        )
        self.specialties = SpecialtyNames(self.ranking)
        self.cities = CityNames(self.ranking)

    async def stop(self) -> None:
        await self.profiles.close()
        await self.ranking.close()
        await self.mentorship.close()
        await self.repo.pool.close()

    async def readiness(self) -> dict[str, bool]:
        return {"database": await db.is_ready(self.repo.pool), "profile_service": await self.profiles.is_serving()}


async def components(request: Request) -> Components:
    """Async, as every dependency here: FastAPI would run a plain function in its thread pool."""
    return request.app.state.components


Deps = Annotated[Components, Depends(components)]


async def within_rate(limit: RateLimit, request: Request, what: str) -> None:
    """429 with Retry-After once this client address is over the limit."""
    wait = await limit.retry_after(request.client.host if request.client else "unknown")
    if wait is not None:
        raise HTTPException(
            429,
            f"too many {what} requests from your address; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )


SessionCookie = Annotated[str | None, Cookie(alias=sessions.SESSION_COOKIE, include_in_schema=False)]
CsrfHeader = Annotated[str | None, Header(alias=sessions.CSRF_HEADER, include_in_schema=False)]
# The API key as the OpenAPI's security scheme; a missing or non-bearer header is ours to refuse (401 below).
ApiKey = Annotated[
    HTTPAuthorizationCredentials | None,
    Depends(HTTPBearer(auto_error=False, bearerFormat="spk_<key id>_<secret>", description="An API key")),
]


async def principal(
    deps: Deps,
    request: Request,
    api_key: ApiKey,
    session_token: SessionCookie = None,
    csrf: CsrfHeader = None,
) -> auth.Principal:
    """A machine's bearer API key, or a person's session cookie (with its CSRF token on state changes)."""
    if request.headers.get("authorization") is None and session_token is not None:
        found = (await signed_in_session(deps, session_token)).principal
        if not sessions.csrf_ok(request.method, session_token, csrf):
            raise HTTPException(403, f"send the session's CSRF token as {sessions.CSRF_HEADER} (GET /v1/session)")
    else:
        parsed = auth.parse_token(api_key.credentials.strip()) if api_key else None
        found = await deps.repo.authenticate(*parsed) if parsed else None
        if found is None:
            raise HTTPException(
                401, "send a valid API key as 'Authorization: Bearer spk_...'", headers={"WWW-Authenticate": "Bearer"}
            )
    structlog.contextvars.bind_contextvars(key_id=found.key_id)
    return found


async def signed_in_session(deps: Components, session_token: str | None) -> Session:
    parsed = sessions.parse_session_token(session_token or "")
    found = await deps.sessions.find_session(*parsed) if parsed else None
    if found is None:
        raise HTTPException(401, "your session has ended or expired; sign in again with a new sign-in link")
    return found


Caller = Annotated[auth.Principal, Depends(principal)]


class Idempotency:
    """An Idempotency-Key's life in one request: replay a stored answer, or record the new one.

    A change the services make is idempotent there too (the request id below), so a gateway that dies
    between a service's commit and its own record answers the retry with the same change."""

    def __init__(self, deps: Components, request: Request, caller: auth.Principal, key: str | None):
        self._deps, self._request, self.caller, self.key = deps, request, caller, key
        self.fingerprint = b""

    async def earlier_answer(self) -> StoredResponse | None:
        """The answer stored for this key, if any; 422 when the key was used for another request."""
        if self.key is None:
            return None
        self.fingerprint = hashlib.sha256(
            f"{self._request.method} {self._request.url.path}\n".encode() + await self._request.body()
        ).digest()
        stored = await self._deps.repo.find_response(self.caller.key_id, self.key)
        if stored is not None and stored.request_sha256 != self.fingerprint:
            raise HTTPException(
                422,
                [
                    {
                        "loc": ["header", "Idempotency-Key"],
                        "msg": "was already used for a different request; use a new key",
                        "type": "value_error",
                    }
                ],
            )
        return stored

    async def stored_answer(self) -> JSONResponse | None:
        stored = await self.earlier_answer()
        if stored is None:
            return None
        return JSONResponse(stored.body, status_code=stored.status_code, headers={"Idempotent-Replay": "true"})

    async def answer(self, status: int, body: BaseModel) -> JSONResponse:
        content = body.model_dump(mode="json")
        if self.key is not None:
            await self._deps.repo.record(self.caller, self.key, self.fingerprint, status, content)
        return JSONResponse(content, status_code=status)

    @property
    def request_id(self) -> str:
        """The id that makes the downstream change idempotent: stable for a client's key, fresh without one."""
        return f"{self.caller.key_id}:{self.key}" if self.key else str(uuid.uuid4())


async def idempotency(deps: Deps, request: Request, caller: Caller, key: IdempotencyKey = None) -> Idempotency:
    return Idempotency(deps, request, caller, key)


Idempotent = Annotated[Idempotency, Depends(idempotency)]
