"""The public HTTP API (FastAPI): authentication, validation, idempotency, and the profile outbox."""

import asyncio
import hashlib
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import structlog
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Histogram
from pydantic import BaseModel
from smartpick.profile.v1 import profile_pb2

from smartpick_gateway.adapters.outbox_relay import OutboxRelay
from smartpick_gateway.adapters.profile_client import ProfileClient
from smartpick_gateway.adapters.repository import GatewayRepository, OutboxMessage
from smartpick_gateway.domain import auth
from smartpick_gateway.domain.events import EVENT_SOURCE, PROFILE_UPDATED_TYPE, profile_updated
from smartpick_gateway.entrypoints import schemas
from smartpick_gateway.settings import GatewaySettings
from smartpick_platform import db, kafka
from smartpick_platform.ops_http import ops_routes
from smartpick_platform.telemetry import TRACE_HEADER, current_trace_id, set_trace_id
from smartpick_platform.topics import PROFILE_UPDATED

log = structlog.get_logger(__name__)

HTTP_REQUESTS = Counter("smartpick_http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram("smartpick_http_request_seconds", "HTTP request latency", ["method", "route"])

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
        self.profiles: ProfileClient
        self.relay: OutboxRelay | None = None

    async def start(self) -> list[asyncio.Task]:
        await db.migrate(self.settings.database_url, MIGRATIONS)
        self.repo = GatewayRepository(await db.create_pool(self.settings.database_url, max_size=20))
        self.profiles = ProfileClient(self.settings.profile_grpc_target, self.settings.grpc_timeout_seconds)
        if not self.settings.relay_enabled:
            return []
        producer = kafka.create_producer(self.settings.kafka_bootstrap, "smartpick-gateway-relay")
        await producer.start()
        self._producer = producer
        self.relay = OutboxRelay(self.repo.pool, producer)
        return [asyncio.create_task(self.relay.run(), name="outbox-relay")]

    async def stop(self, tasks: list[asyncio.Task]) -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.relay is not None:
            await self._producer.stop()
        await self.profiles.close()
        await self.repo.pool.close()

    async def readiness(self) -> dict[str, bool]:
        checks = {"database": await db.is_ready(self.repo.pool), "profile_service": await self.profiles.is_serving()}
        if self.relay is not None:
            checks["outbox_relay"] = self.relay.active
        return checks


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    components = Components(settings or GatewaySettings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        tasks = await components.start()
        log.info("gateway ready", relay=components.relay is not None)
        yield
        await components.stop(tasks)

    app = FastAPI(
        title="Smart Pick API",
        version="1.0.0",
        description="Residency selection and mentorship. Authenticate with `Authorization: Bearer <api key>`.",
        lifespan=lifespan,
    )
    app.router.routes.extend(ops_routes(components.readiness))

    @app.middleware("http")
    async def telemetry(request: Request, call_next):
        trace_id = set_trace_id(request.headers.get(TRACE_HEADER))
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        elapsed = time.perf_counter() - started
        HTTP_REQUESTS.labels(request.method, route, response.status_code).inc()
        HTTP_LATENCY.labels(request.method, route).observe(elapsed)
        log.info("http", method=request.method, route=route, status=response.status_code, ms=round(elapsed * 1000, 1))
        response.headers[TRACE_HEADER] = trace_id
        return response

    @app.exception_handler(auth.Forbidden)
    async def forbidden(_request, exc: auth.Forbidden):
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(auth.NotVisible)
    async def not_visible(_request, _exc):
        return JSONResponse({"detail": "not found"}, status_code=404)

    async def principal(authorization: Annotated[str | None, Header()] = None) -> auth.Principal:
        scheme, _, token = (authorization or "").partition(" ")
        parsed = auth.parse_token(token.strip()) if scheme.lower() == "bearer" else None
        found = await components.repo.authenticate(*parsed) if parsed else None
        if found is None:
            raise HTTPException(
                401, "send a valid API key as 'Authorization: Bearer spk_...'", headers={"WWW-Authenticate": "Bearer"}
            )
        structlog.contextvars.bind_contextvars(key_id=found.key_id)
        return found

    Caller = Annotated[auth.Principal, Depends(principal)]

    async def replay(request: Request, caller: auth.Principal, key: str | None) -> tuple[bytes, JSONResponse | None]:
        """The request's fingerprint, and the stored answer if this idempotency key was used before."""
        fingerprint = hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + await request.body()).digest()
        if key is None:
            return fingerprint, None
        stored = await components.repo.find_response(caller.key_id, key)
        if stored is None:
            return fingerprint, None
        if stored.request_sha256 != fingerprint:
            raise HTTPException(422, "Idempotency-Key was already used for a different request; use a new key")
        return fingerprint, JSONResponse(
            stored.body, status_code=stored.status_code, headers={"Idempotent-Replay": "true"}
        )

    async def finish(
        caller, key, fingerprint, status: int, body: BaseModel, outbox: list[OutboxMessage] = ()
    ) -> JSONResponse:
        content = body.model_dump(mode="json")
        await components.repo.record(caller, key, fingerprint, status, content, outbox)
        return JSONResponse(content, status_code=status)

    async def issue_key(
        role: auth.Role, tenant_id: uuid.UUID | None, student_id: uuid.UUID | None, label: str
    ) -> schemas.ApiKeyOut:
        key = auth.new_key()
        await components.repo.save_key(key, role, tenant_id, student_id, label)
        return schemas.ApiKeyOut(key_id=key.key_id, role=role, api_key=key.token)

    def school_out(school: profile_pb2.School) -> dict:
        return {"school_id": school.school_id, "name": school.name, "created_at": school.create_time.ToJsonString()}

    @app.post("/v1/schools", status_code=201, response_model=schemas.SchoolCreated, tags=["schools"])
    async def create_school(
        body: schemas.SchoolIn, request: Request, caller: Caller, idempotency_key: IdempotencyKey = None
    ):
        """Registers a school (operators only) and returns its first admin key."""
        auth.require_operator(caller)
        fingerprint, stored = await replay(request, caller, idempotency_key)
        if stored:
            return stored
        reply = await components.profiles.call("CreateSchool", profile_pb2.CreateSchoolRequest(name=body.name))
        school_id = uuid.UUID(reply.school.school_id)
        admin_key = await issue_key(auth.Role.SCHOOL_ADMIN, school_id, None, f"first admin of {body.name}")
        created = schemas.SchoolCreated(**school_out(reply.school), admin_api_key=admin_key)
        return await finish(caller, idempotency_key, fingerprint, 201, created)

    @app.get("/v1/schools/{school_id}", response_model=schemas.SchoolOut, tags=["schools"])
    async def get_school(school_id: uuid.UUID, caller: Caller):
        auth.require_school_member(caller, school_id)
        reply = await components.profiles.call("GetSchool", profile_pb2.GetSchoolRequest(school_id=str(school_id)))
        return school_out(reply.school)

    @app.post("/v1/schools/{school_id}/api-keys", status_code=201, response_model=schemas.ApiKeyOut, tags=["schools"])
    async def create_api_key(school_id: uuid.UUID, body: schemas.ApiKeyIn, caller: Caller):
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
            await components.profiles.call(
                "GetStudent", profile_pb2.GetStudentRequest(tenant_id=str(school_id), student_id=str(body.student_id))
            )
        return await issue_key(auth.Role(body.role), school_id, body.student_id, body.label)

    @app.post("/v1/students", status_code=201, response_model=schemas.StudentOut, tags=["students"])
    async def create_student(body: schemas.StudentIn, response: Response, caller: Caller):
        """Adds a student; an existing external_ref returns that student with 200."""
        tenant = auth.require_can_create_students(caller)
        reply = await components.profiles.call(
            "CreateStudent", profile_pb2.CreateStudentRequest(tenant_id=str(tenant), **body.model_dump())
        )
        if not reply.created:
            response.status_code = 200
        return schemas.StudentOut.from_proto(reply.student)

    @app.get("/v1/students", response_model=schemas.StudentPage, tags=["students"])
    async def list_students(
        caller: Caller,
        page_size: Annotated[int, Query(ge=1, le=500)] = 100,
        page_token: Annotated[str | None, Query()] = None,
    ):
        tenant = auth.require_can_list_students(caller)
        reply = await components.profiles.call(
            "ListStudents",
            profile_pb2.ListStudentsRequest(tenant_id=str(tenant), page_size=page_size, page_token=page_token or ""),
        )
        return schemas.StudentPage(
            students=[schemas.StudentOut.from_proto(s) for s in reply.students],
            next_page_token=reply.next_page_token or None,
        )

    @app.get("/v1/students/{student_id}", response_model=schemas.StudentOut, tags=["students"])
    async def get_student(student_id: uuid.UUID, caller: Caller):
        tenant = auth.require_can_read_student(caller, student_id)
        reply = await components.profiles.call(
            "GetStudent", profile_pb2.GetStudentRequest(tenant_id=str(tenant), student_id=str(student_id))
        )
        return schemas.StudentOut.from_proto(reply.student)

    @app.put(
        "/v1/students/{student_id}/profile", status_code=202, response_model=schemas.ProfileAccepted, tags=["profiles"]
    )
    async def put_profile(
        student_id: uuid.UUID,
        body: schemas.ProfileIn,
        request: Request,
        caller: Caller,
        idempotency_key: IdempotencyKey = None,
    ):
        """Stores a new profile version and queues its ProfileUpdated event; answers before Kafka sees it."""
        tenant = auth.require_can_write_student(caller, student_id)
        fingerprint, stored = await replay(request, caller, idempotency_key)
        if stored:
            return stored
        request_id = f"{caller.key_id}:{idempotency_key}" if idempotency_key else str(uuid.uuid4())
        reply = await components.profiles.call(
            "UpsertProfile",
            profile_pb2.UpsertProfileRequest(
                tenant_id=str(tenant), student_id=str(student_id), profile=body.to_proto(), request_id=request_id
            ),
            body_field="profile",
        )
        version = reply.profile_version
        event = profile_updated(version)
        message = OutboxMessage(
            event_id=uuid.UUID(event.event_id),
            tenant_id=version.tenant_id,
            topic=PROFILE_UPDATED.name,
            key=version.student_id,
            payload=event.SerializeToString(),
            headers=kafka.cloudevent_headers(
                event_id=event.event_id,
                event_type=PROFILE_UPDATED_TYPE,
                source=EVENT_SOURCE,
                time=event.occur_time.ToDatetime(),
                trace_id=current_trace_id(),
            ),
        )
        accepted = schemas.ProfileAccepted(
            student_id=version.student_id, version=version.version, created=reply.created, event_id=event.event_id
        )
        return await finish(caller, idempotency_key, fingerprint, 202, accepted, [message])

    @app.get("/v1/students/{student_id}/profile", response_model=schemas.ProfileOut, tags=["profiles"])
    async def get_profile(student_id: uuid.UUID, caller: Caller, version: Annotated[int, Query(ge=0)] = 0):
        """The latest profile version, or the one asked for with ?version=N."""
        tenant = auth.require_can_read_student(caller, student_id)
        reply = await components.profiles.call(
            "GetProfile",
            profile_pb2.GetProfileRequest(tenant_id=str(tenant), student_id=str(student_id), version=version),
        )
        stored = reply.profile_version
        return schemas.ProfileOut(
            student_id=stored.student_id,
            version=stored.version,
            created_at=stored.create_time.ToJsonString(),
            profile=schemas.ProfileIn.from_proto(stored.profile),
        )

    app.state.components = components
    return app
