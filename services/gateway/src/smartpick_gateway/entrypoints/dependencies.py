"""What the routes share: the components built at start-up, the authenticated caller, idempotency."""

import asyncio
import hashlib
import uuid
from datetime import timedelta
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
from smartpick_gateway.adapters.key_revocations import RevocationListener
from smartpick_gateway.adapters.rate_limit import RateLimit
from smartpick_gateway.adapters.repository import GatewayRepository, StoredResponse, retention_purges
from smartpick_gateway.adapters.sessions_repository import Session, SessionsRepository
from smartpick_gateway.domain import auth, sessions
from smartpick_gateway.settings import GatewaySettings
from smartpick_platform import background, caller_context, db, retention
from smartpick_platform.identity import ServiceIdentity

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", max_length=200, description="Replaying a request with the same key repeats its answer"
    ),
]


class Components:
    """What the routes use, built once at start-up (the composition root). The gateway owns no event (the
    services that own the data write and relay theirs); its background tasks listen for key revocations
    and purge what is past its time."""

    def __init__(self, settings: GatewaySettings):
        self.settings = settings
        self.repo: GatewayRepository
        self.sessions: SessionsRepository
        self.profiles: ServiceClient[profile_pb2_grpc.ProfileServiceStub]
        self.ranking: ServiceClient[ranking_pb2_grpc.RankingServiceStub]
        self.mentorship: ServiceClient[mentorship_pb2_grpc.MentorshipServiceStub]
        self.specialties: SpecialtyNames
        self.cities: CityNames
        self.try_it_limit = RateLimit(settings.try_it_rate_limit, "try-it")
        self.sign_in_limit = RateLimit(settings.sign_in_rate_limit, "sign-in")
        self.key_limit = RateLimit(settings.key_rate_limit, "credential")
        self.client_limit = RateLimit(settings.client_rate_limit, "client")
        self.revocations: RevocationListener
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        await db.migrate(
            self.settings.database_url, MIGRATIONS, migration_database_url=self.settings.migration_database_url
        )
        idempotency_window = timedelta(hours=self.settings.idempotency_hours)
        pool = await db.create_pool(self.settings.database_url, max_size=20)
        self.repo = GatewayRepository(pool, idempotency_window)
        self.sessions = SessionsRepository(pool)
        self.revocations = RevocationListener(
            self.settings.database_url, self.repo.forget_key, self.repo.forget_all_keys
        )
        self.repo.cache_trusted = lambda: self.revocations.listening
        purges = retention_purges(idempotency_window, timedelta(days=self.settings.sign_in_code_retention_days))
        self._tasks = [
            background.start(self.revocations.run(), "key-revocations"),
            background.start(
                retention.run_retention(
                    pool, purges, self.settings.retention_interval_seconds, self.settings.retention_batch_rows
                ),
                "retention",
            ),
        ]
        timeout = self.settings.grpc_timeout_seconds
        identity = ServiceIdentity.load()
        self.profiles = ServiceClient(
            "profile", self.settings.profile_grpc_target, profile_pb2_grpc.ProfileServiceStub, timeout, identity
        )
        self.ranking = ServiceClient(
            "ranking", self.settings.ranking_grpc_target, ranking_pb2_grpc.RankingServiceStub, timeout, identity
        )
        self.mentorship = ServiceClient(
            "mentorship",
            self.settings.mentorship_grpc_target,
            mentorship_pb2_grpc.MentorshipServiceStub,
            timeout,
            identity,
        )
        self.specialties = SpecialtyNames(self.ranking)
        self.cities = CityNames(self.ranking)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
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


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def within_rate(limit: RateLimit, request: Request, what: str) -> None:
    """429 with Retry-After once this client address is over the limit."""
    await _within(limit, client_address(request), f"too many {what} requests from your address")


async def _within(limit: RateLimit, who: str, too_many: str) -> None:
    wait = await limit.retry_after(who)
    if wait is not None:
        raise HTTPException(429, f"{too_many}; try again in {wait} s", headers={"Retry-After": str(wait)})


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
    """A machine's bearer API key, or a person's session cookie (with its CSRF token on state changes).

    Every such request counts against its client address's rate and, once authenticated, its credential's:
    one key (or session) over its limit gets 429s while every other key goes on."""
    await _within(deps.client_limit, client_address(request), "too many requests from your address")
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
    await _within(deps.key_limit, found.key_id, "too many requests with this credential")
    # The services' calls of this request act for this caller, in a context they verify (caller_context.py).
    caller_context.act_as(context_of(found))
    return found


def context_of(principal: auth.Principal) -> caller_context.CallerContext:
    """What the services behind the gateway are told of the caller."""
    return caller_context.CallerContext(
        role=principal.role.value,
        tenant_id=str(principal.tenant_id or ""),
        student_id=str(principal.student_id or ""),
        mentor_id=str(principal.mentor_id or ""),
        subject=principal.key_id,
    )


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
        stored = await self._deps.repo.find_response(self.caller, self.key)
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
