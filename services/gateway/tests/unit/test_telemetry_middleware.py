"""The gateway's request telemetry: every answer carries a W3C traceparent (the caller's trace, or a new one),
and is counted by route and status."""

import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY

from smartpick_gateway.entrypoints.app import create_app
from smartpick_gateway.settings import GatewaySettings

PROFILE = "/v1/students/{student_id}/profile"
A_PROFILE = "/v1/students/7f1d3c9e-0b7a-4a51-9d0e-3f5c2b8a6e10/profile"
CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def trace_id(traceparent: str) -> str:
    version, trace, span, flags = traceparent.split("-")
    assert (version, len(trace), len(span)) == ("00", 32, 16) and int(flags, 16) & 1  # sampled
    return trace


def requests_counted(route: str, status: str) -> float:
    labels = {"method": "GET", "route": route, "status": status}
    value = REGISTRY.get_sample_value("smartpick_http_requests_total", labels)
    return value or 0.0


def client() -> httpx.AsyncClient:
    """The app without its lifespan: nothing here reaches a database or another service."""
    app = create_app(GatewaySettings(database_url="postgresql://unused/unused"))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")


async def test_an_answer_carries_the_callers_trace_id_or_a_new_one_and_is_counted_by_route():
    before = requests_counted(PROFILE, "401")

    async with client() as http:
        given = await http.get(A_PROFILE, headers={"traceparent": CALLER})
        fresh = await http.get(A_PROFILE)

    assert given.status_code == 401
    assert trace_id(given.headers["traceparent"]) == trace_id(CALLER)
    assert trace_id(fresh.headers["traceparent"]) not in (trace_id(CALLER), "0" * 32)
    assert requests_counted(PROFILE, "401") == before + 2


async def test_an_unknown_path_is_counted_as_unmatched_with_its_status():
    before = requests_counted("unmatched", "404")

    async with client() as http:
        answer = await http.get("/no/such/path")

    assert answer.status_code == 404 and "traceparent" in answer.headers
    assert requests_counted("unmatched", "404") == before + 1


async def test_a_request_is_one_server_span_without_the_asgi_send_and_receive_spans():
    exporter = InMemorySpanExporter()
    trace.get_tracer_provider().add_span_processor(SimpleSpanProcessor(exporter))  # configure_tracing's provider
    async with client() as http:
        answer = await http.get(A_PROFILE, headers={"traceparent": CALLER})
    spans = [s for s in exporter.get_finished_spans() if s.context.trace_id == int(trace_id(CALLER), 16)]
    assert answer.status_code == 401
    assert [s.kind for s in spans] == [SpanKind.SERVER]
