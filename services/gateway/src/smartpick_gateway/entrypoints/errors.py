"""What an error answers, said once for the whole API: the bodies (documented in the OpenAPI, so a client and
the attack suite can hold every answer to them) and the handlers that make them.

A 4xx says what to fix, naming the field (`loc`) when one is to blame. A 5xx says which part failed and the
trace id to quote, and nothing else: what went wrong inside stays in the logs."""

import dataclasses
from collections.abc import Awaitable
from typing import TypeVar

import grpc
import structlog
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from smartpick_gateway.adapters.grpc_client import ServiceCallFailed
from smartpick_gateway.domain import auth
from smartpick_platform.telemetry import TRACE_HEADER, current_trace_id

log = structlog.get_logger(__name__)

UNREADABLE_BODY = "There was an error parsing the body"  # FastAPI's words (fastapi.routing)
HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 422,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 503,  # the service is at its max_concurrent_rpcs
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
Reply = TypeVar("Reply")


class FieldError(BaseModel):
    loc: list[str | int] = Field(description='Where the bad value is, e.g. ["body", "research_items"]')
    msg: str = Field(description="What is wrong with it and how to fix it")
    type: str


class ErrorOut(BaseModel):
    detail: str | list[FieldError] = Field(description="A sentence, or one entry per bad field")


def _error(description: str) -> dict:
    return {"model": ErrorOut, "description": description}


# Every API operation may answer these (the route's own documented answers come on top).
ERROR_RESPONSES = {
    401: _error("No valid API key or session"),
    403: _error("The caller is known but may not do this"),
    404: _error("Not found, or not visible to the caller"),
    409: _error("The request conflicts with the current state"),
    413: _error("The request body is larger than the gateway takes"),
    422: _error("Invalid input: each entry names its field (loc) and says what to fix"),
    429: _error("Too many requests; wait Retry-After seconds"),
    500: _error("An unexpected failure: the body carries only the trace id to quote"),
    502: _error("A service behind the gateway failed: which one, and the trace id"),
    503: _error(
        "A service behind the gateway is unavailable, or the gateway is at its cap on requests at once (then "
        "Retry-After): which, and the trace id"
    ),
    504: _error("A service behind the gateway did not answer in time: which one, and the trace id"),
}


async def body_of(body_field: str, call: Awaitable[Reply]) -> Reply:
    """`call`'s reply; a field it names under `body_field` (the request field the HTTP body maps to) is
    reported at its place in the body: "profile.research_items" reads ["body", "research_items"]."""
    try:
        return await call
    except ServiceCallFailed as failed:
        raise dataclasses.replace(failed, body_field=body_field) from failed


def service_error(failed: ServiceCallFailed) -> JSONResponse:
    """What a failed backend call answers: what to fix (4xx), or which service failed and the trace id (5xx)."""
    status = HTTP_STATUS.get(failed.code, 502)
    if status == 422:
        prefix = f"{failed.body_field}." if failed.body_field else ""
        detail = [
            {"loc": ["body", *name.removeprefix(prefix).split(".")], "msg": why, "type": "value_error"}
            for name, why in failed.violations.items()
        ] or [{"loc": ["body"], "msg": failed.details or "invalid", "type": "value_error"}]
        return JSONResponse({"detail": detail}, status_code=422)
    if status < 500:
        return JSONResponse({"detail": failed.details}, status_code=status)
    # What went wrong inside stays in the logs; the caller gets the trace id to quote.
    trace = current_trace_id()
    log.error("service call failed", service=failed.service, code=failed.code.name, details=failed.details)
    busy = failed.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    return JSONResponse(
        {"detail": f"the {failed.service} service could not answer ({failed.code.name}); trace id {trace}"},
        status_code=status,
        headers={"Retry-After": "1"} if busy else None,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceCallFailed)
    async def failed_call(_request: Request, exc: ServiceCallFailed):
        return service_error(exc)

    @app.exception_handler(auth.Forbidden)
    async def forbidden(_request: Request, exc: auth.Forbidden):
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(auth.NotVisible)
    async def not_visible(_request: Request, _exc: auth.NotVisible):
        return JSONResponse({"detail": "not found"}, status_code=404)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        """FastAPI's own 400 for a body it cannot read at all becomes the 422 every other bad body gets."""
        if exc.status_code == 400 and exc.detail == UNREADABLE_BODY:
            detail = [{"loc": ["body"], "msg": "is not readable: send UTF-8 JSON", "type": "json_invalid"}]
            return JSONResponse({"detail": detail}, status_code=422)
        return await http_exception_handler(request, exc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        """Starlette's last resort answers plain text; this one the documented body, with the trace id."""
        trace = current_trace_id()
        log.error("unexpected failure", path=request.url.path, exc_info=exc)
        return JSONResponse(
            {"detail": f"the gateway failed unexpectedly; trace id {trace}"},
            status_code=500,
            headers={TRACE_HEADER: trace} if trace else None,
        )
