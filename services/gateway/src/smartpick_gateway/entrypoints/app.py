"""The public HTTP API (FastAPI): the app, its lifespan, cross-cutting middleware, and the route modules."""

import time
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from prometheus_client import Counter, Histogram
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartpick_gateway.entrypoints.body_limit import BodyLimitMiddleware
from smartpick_gateway.entrypoints.dependencies import Components
from smartpick_gateway.entrypoints.errors import ERROR_RESPONSES, install_error_handlers
from smartpick_gateway.entrypoints.in_flight import InFlightLimitMiddleware
from smartpick_gateway.entrypoints.routes import cohort, mentorship, public, ranking, schools, sessions, students
from smartpick_gateway.entrypoints.routes.web import mount_web
from smartpick_gateway.settings import GatewaySettings
from smartpick_platform import heap
from smartpick_platform.ops_http import ops_routes
from smartpick_platform.telemetry import TRACE_HEADER, configure_logging, instrument_fastapi, set_trace_id

log = structlog.get_logger(__name__)

HTTP_REQUESTS = Counter("smartpick_http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram("smartpick_http_request_seconds", "HTTP request latency", ["method", "route"])


class TelemetryMiddleware:
    """Trace id, metrics and one log line per request; plain ASGI, so it adds no task per request."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        trace_id = set_trace_id(Headers(scope=scope).get(TRACE_HEADER))
        started = time.perf_counter()
        status = 500

        async def send_with_trace(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[TRACE_HEADER] = trace_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_trace)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels(scope["method"], route, status).inc()
            HTTP_LATENCY.labels(scope["method"], route).observe(elapsed)
            log.info("http", method=scope["method"], route=route, status=status, ms=round(elapsed * 1000, 1))


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    configure_logging("gateway", settings.log_level, settings.log_format)
    components = Components(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        await components.start()
        heap.settle_after_startup()
        log.info("gateway ready")
        yield
        await components.stop()

    app = FastAPI(
        title="Smart Pick API",
        version="1.0.0",
        description="Residency selection and mentorship. Machines authenticate with `Authorization: Bearer <api key>`; "
        "people sign in with a one-time code their school issues (a session cookie, with X-CSRF-Token on changes).",
        lifespan=lifespan,
        docs_url=None,  # served by mount_web from local files, not a CDN
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    app.state.components = components
    app.router.routes.extend(ops_routes(components.readiness))
    for module in (schools, students, ranking, mentorship, sessions, cohort, public):
        app.include_router(module.router)
    mount_web(app, settings.web_dir)

    # The last added is the outermost: the trace id is set before the in-flight cap may refuse.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(InFlightLimitMiddleware, max_in_flight=settings.http_max_in_flight)
    app.add_middleware(TelemetryMiddleware)
    instrument_fastapi(app)

    install_error_handlers(app)
    return app
