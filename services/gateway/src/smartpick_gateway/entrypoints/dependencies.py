"""What the routes share: the components built at start-up, the authenticated caller, idempotency."""

import asyncio
import hashlib
from pathlib import Path
from typing import Annotated

import structlog
from fastapi import Cookie, Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from smartpick.mentorship.v1 import mentorship_pb2_grpc
from smartpick.profile.v1 import profile_pb2_grpc
from smartpick.ranking.v1 import ranking_pb2_grpc

from smartpick_gateway.adapters.grpc_client import ServiceClient
from smartpick_gateway.adapters.rate_limit import RateLimit
from smartpick_gateway.adapters.repository import GatewayRepository, OutboxMessage
from smartpick_gateway.adapters.sessions_repository import Session, SessionsRepository
from smartpick_gateway.domain import auth, sessions
from smartpick_gateway.settings import GatewaySettings
from smartpick_platform import db, kafka
from smartpick_platform.outbox import OutboxRelay

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", max_length=200, description="Replaying a request with the same key repeats its answer"
    ),
]


class Components:
    """What the routes use, built once at start-up (the composition root)."""

    def __init__(self, settings: GatewaySettings):
        self.settings = settings
        self.repo: GatewayRepository
        self.sessions: SessionsRepository
        self.profiles: ServiceClient
        self.ranking: ServiceClient
        self.mentorship: ServiceClient
        self.relay: OutboxRelay | None = None
        self.try_it_limit = RateLimit(settings.try_it_rate_limit, "try-it")
        self.sign_in_limit = RateLimit(settings.sign_in_rate_limit, "sign-in")

    async def start(self) -> list[asyncio.Task]:
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
        if not self.settings.relay_enabled:
            return []
        self._producer = kafka.create_producer(self.settings.kafka_bootstrap, "smartpick-gateway-relay")
        await self._producer.start()
        self.relay = OutboxRelay(self.repo.pool, self._producer)
        return [asyncio.create_task(self.relay.run(), name="outbox-relay")]

    async def stop(self, tasks: list[asyncio.Task]) -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.relay is not None:
            await self._producer.stop()
        await self.profiles.close()
        await self.ranking.close()
        await self.mentorship.close()
        await self.repo.pool.close()

    async def readiness(self) -> dict[str, bool]:
        checks = {"database": await db.is_ready(self.repo.pool), "profile_service": await self.profiles.is_serving()}
        if self.relay is not None:
            checks["outbox_relay"] = self.relay.active
        return checks


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


async def principal(
    deps: Deps,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    session_token: SessionCookie = None,
    csrf: CsrfHeader = None,
) -> auth.Principal:
    """A machine's bearer API key, or a person's session cookie (with its CSRF token on state changes)."""
    if authorization is None and session_token is not None:
        found = (await signed_in_session(deps, session_token)).principal
        if not sessions.csrf_ok(request.method, session_token, csrf):
            raise HTTPException(403, f"send the session's CSRF token as {sessions.CSRF_HEADER} (GET /v1/session)")
    else:
        scheme, _, token = (authorization or "").partition(" ")
        parsed = auth.parse_token(token.strip()) if scheme.lower() == "bearer" else None
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

    The record is written in the same transaction as the request's outbox messages."""

    def __init__(self, deps: Components, request: Request, caller: auth.Principal, key: str | None):
        self._deps, self._request, self._caller, self._key = deps, request, caller, key
        self._fingerprint = b""

    async def stored_answer(self) -> JSONResponse | None:
        if self._key is None:
            return None
        self._fingerprint = hashlib.sha256(
            f"{self._request.method} {self._request.url.path}\n".encode() + await self._request.body()
        ).digest()
        stored = await self._deps.repo.find_response(self._caller.key_id, self._key)
        if stored is None:
            return None
        if stored.request_sha256 != self._fingerprint:
            raise HTTPException(422, "Idempotency-Key was already used for a different request; use a new key")
        return JSONResponse(stored.body, status_code=stored.status_code, headers={"Idempotent-Replay": "true"})

    async def answer(self, status: int, body: BaseModel, outbox: list[OutboxMessage] = ()) -> JSONResponse:
        content = body.model_dump(mode="json")
        await self._deps.repo.record(self._caller, self._key, self._fingerprint, status, content, outbox)
        return JSONResponse(content, status_code=status)

    @property
    def request_id(self) -> str | None:
        """A stable id for downstream idempotent commands, when the client gave a key."""
        return f"{self._caller.key_id}:{self._key}" if self._key else None


async def idempotency(deps: Deps, request: Request, caller: Caller, key: IdempotencyKey = None) -> Idempotency:
    return Idempotency(deps, request, caller, key)


Idempotent = Annotated[Idempotency, Depends(idempotency)]
