"""Client of one backend gRPC service: mutual TLS and the caller's signed context (the platform's channel),
deadlines, trace propagation, and gRPC errors as HTTP errors."""

import grpc
import structlog
from fastapi import HTTPException
from grpc_health.v1 import health_pb2, health_pb2_grpc

from smartpick_platform.grpc_channel import connect
from smartpick_platform.grpc_errors import field_violations
from smartpick_platform.identity import ServiceIdentity
from smartpick_platform.telemetry import current_trace_id

log = structlog.get_logger(__name__)

HTTP_STATUS = {
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 503,  # the service is at its max_concurrent_rpcs
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


class ServiceClient:
    """`stub_class` is the generated stub, e.g. profile_pb2_grpc.ProfileServiceStub."""

    def __init__(self, name: str, target: str, stub_class, timeout_seconds: float, identity: ServiceIdentity):
        self.name = name
        self._channel = connect(identity, target, name)
        self._stub = stub_class(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self._timeout = timeout_seconds

    async def call(self, method: str, request, body_field: str = ""):
        """Calls one RPC; its failures become the HTTP error a client can act on.

        `body_field` is the request field that the HTTP body maps to, so a bad "profile.x" reads "body.x"."""
        try:
            # The traceparent travels in the metadata by the gRPC client instrumentation (telemetry.py), the
            # caller's signed context by the channel's interceptor (the principal the route authenticated).
            return await getattr(self._stub, method)(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as error:
            raise _http_error(self.name, error, body_field) from error

    async def is_serving(self) -> bool:
        try:
            reply = await self._health.Check(health_pb2.HealthCheckRequest(), timeout=1)
        except grpc.aio.AioRpcError:
            return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    async def close(self) -> None:
        await self._channel.close()


def _http_error(service: str, error: grpc.aio.AioRpcError, body_field: str) -> HTTPException:
    if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
        violations = field_violations(error)
        if violations:
            prefix = f"{body_field}." if body_field else ""
            detail = [
                {"loc": ["body", *field.removeprefix(prefix).split(".")], "msg": why, "type": "value_error"}
                for field, why in violations.items()
            ]
            return HTTPException(422, detail=detail)
        # No field named: the request as a whole (or the part the body maps to) is what to fix.
        return HTTPException(422, [{"loc": ["body"], "msg": error.details() or "invalid", "type": "value_error"}])
    status = HTTP_STATUS.get(error.code(), 502)
    if status < 500:
        return HTTPException(status, detail=error.details())
    # What went wrong inside stays in the logs; the caller gets the trace id to quote.
    trace = current_trace_id()
    log.error("service call failed", service=service, code=error.code().name, details=error.details())
    busy = error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    return HTTPException(
        status,
        detail=f"the {service} service could not answer ({error.code().name}); trace id {trace}",
        headers={"Retry-After": "1"} if busy else None,
    )
