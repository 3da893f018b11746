"""Client of one backend gRPC service: its generated stub, typed, over the platform's channel (mutual TLS,
the caller's signed context), with an interceptor that gives every call its deadline and turns a failed
call into `ServiceCallFailed`. The traceparent travels by the gRPC client instrumentation (telemetry.py).
What an HTTP client is answered is the entrypoint's to say (`entrypoints/errors.py`)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from smartpick_platform.grpc_channel import connect
from smartpick_platform.grpc_errors import field_violations
from smartpick_platform.identity import ServiceIdentity

Stub = TypeVar("Stub")


@dataclass
class ServiceCallFailed(Exception):
    """A call to `service` ended in `code`: `details` as the service said it, `violations` the fields it
    named (by their path in the request), `body_field` the request field the HTTP body maps to (set by the
    route, `errors.body_of`)."""

    service: str
    code: grpc.StatusCode
    details: str
    violations: dict[str, str] = field(default_factory=dict)
    body_field: str = ""

    def __str__(self) -> str:
        return f"{self.service}: {self.code.name} {self.details}"


class CallPolicy(grpc.aio.UnaryUnaryClientInterceptor):
    """Every call's deadline (unless the caller gave one), and its failure as ServiceCallFailed."""

    def __init__(self, service: str, timeout_seconds: float):
        self._service = service
        self._timeout = timeout_seconds

    async def intercept_unary_unary(self, continuation, client_call_details, request):
        if client_call_details.timeout is None:
            client_call_details = client_call_details._replace(timeout=self._timeout)
        call = await continuation(client_call_details, request)
        try:
            return await call
        except grpc.aio.AioRpcError as error:
            raise ServiceCallFailed(
                self._service, error.code(), error.details() or "", field_violations(error)
            ) from error


class ServiceClient(Generic[Stub]):
    """`stub_class` is the generated stub, e.g. profile_pb2_grpc.ProfileServiceStub; `rpc` is that stub."""

    def __init__(
        self,
        name: str,
        target: str,
        stub_class: Callable[[grpc.aio.Channel], Stub],
        timeout_seconds: float,
        identity: ServiceIdentity,
    ):
        self.name = name
        self._channel = connect(identity, target, name, interceptors=[CallPolicy(name, timeout_seconds)])
        self.rpc: Stub = stub_class(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)

    async def is_serving(self) -> bool:
        try:
            reply = await self._health.Check(health_pb2.HealthCheckRequest(), timeout=1)
        except ServiceCallFailed:
            return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    async def close(self) -> None:
        await self._channel.close()
