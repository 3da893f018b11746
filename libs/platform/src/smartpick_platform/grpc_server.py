"""gRPC server bootstrap shared by the gRPC services: mutual TLS and the caller's signed context (identity.py,
caller_context.py), health, metrics, trace ids, graceful stop; reflection only where a setting turns it on."""

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable, Iterable

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import Counter, Histogram

from smartpick_platform import background, heap, services
from smartpick_platform.caller_context import AccessPolicy, CallerContextInterceptor
from smartpick_platform.identity import ServiceIdentity
from smartpick_platform.ops_http import ReadinessCheck, serve_ops_http
from smartpick_platform.settings import GrpcServiceSettings
from smartpick_platform.telemetry import TRACE_HEADER, set_trace_id

log = structlog.get_logger(__name__)

GRPC_REQUESTS = Counter("smartpick_grpc_requests_total", "gRPC calls handled", ["method", "code"])
GRPC_LATENCY = Histogram("smartpick_grpc_request_seconds", "gRPC call latency", ["method"])


class TelemetryInterceptor(grpc.aio.ServerInterceptor):
    """Adopts the caller's trace id and records count and latency per method and status code."""

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        metadata = dict(handler_call_details.invocation_metadata or ())
        inner = handler.unary_unary

        async def unary(request, context: grpc.aio.ServicerContext):
            set_trace_id(metadata.get(TRACE_HEADER))
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            try:
                return await inner(request, context)
            except Exception:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            finally:
                code = context.code() or code
                GRPC_REQUESTS.labels(method, code.name).inc()
                GRPC_LATENCY.labels(method).observe(time.perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(
            unary,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


Registrar = Callable[[grpc.aio.Server], Iterable[str]]


async def run_grpc_service(
    settings: GrpcServiceSettings,
    register: Registrar,
    readiness: ReadinessCheck,
    on_stop: Callable[[], Awaitable[None]] | None = None,
    access: AccessPolicy = AccessPolicy(),
) -> None:
    """Serves until SIGTERM/SIGINT, then drains in-flight calls for the grace period.

    `register` adds the servicers and returns their full service names, which get health (and reflection, when
    on); `access` says which roles call which methods. Only the services the manifest lets call this one, with
    their certificates and a caller context, are served."""
    identity = ServiceIdentity.load()
    callers = services.manifest().callers_of(identity.name)
    server = grpc.aio.server(
        interceptors=[TelemetryInterceptor(), CallerContextInterceptor(identity.name, callers, access)],
        maximum_concurrent_rpcs=settings.max_concurrent_rpcs,
    )
    service_names = list(register(server))
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if settings.grpc_reflection:
        reflection.enable_server_reflection([*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    address = f"{settings.grpc_host}:{settings.grpc_port}"
    server.add_secure_port(address, identity.server_credentials())
    await server.start()
    for name in ["", *service_names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    ops_server, ops_task = await serve_ops_http(settings.grpc_host, settings.ops_port, readiness)
    heap.settle_after_startup()
    log.info(
        "serving",
        identity=identity.name,
        callers=sorted(callers),
        reflection=settings.grpc_reflection,
        grpc=address,
        ops=f"{settings.grpc_host}:{settings.ops_port}",
        services=service_names,
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()

    log.info("stopping", grace_seconds=settings.shutdown_grace_seconds)
    await health_servicer.enter_graceful_shutdown()
    await server.stop(settings.shutdown_grace_seconds)
    ops_server.should_exit = True
    await ops_task
    if on_stop is not None:
        await on_stop()
    log.info("stopped", tasks_died=background.died())
    background.exit_if_a_task_died()
