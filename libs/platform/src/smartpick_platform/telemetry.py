"""Structured JSON logs and OpenTelemetry traces that follow a request across HTTP, gRPC and Kafka.

The trace context is W3C's `traceparent`: FastAPI, gRPC (server and client), aiokafka and asyncpg are
instrumented, so each HTTP request, gRPC call, Kafka send and receive and SQL statement is a span, and every log
line carries the trace id of the span it was written in. Spans go to an OTLP collector when
SMARTPICK_OTLP_ENDPOINT names one (gRPC, e.g. http://otel-collector.monitoring:4317), and nowhere otherwise;
the trace ids in logs and headers are there either way.

An event keeps the trace context it was written with: the outbox stores the `traceparent` of the request that
wrote the event, and the relay sends it later from a loop of its own, so a Kafka send whose headers already
hold a `traceparent` is not given a second one (`EventContextPropagator`)."""

import logging
import sys
from collections.abc import MutableSequence

import structlog
from opentelemetry import context, propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

TRACE_HEADER = "traceparent"
_TRACE_CONTEXT = TraceContextTextMapPropagator()
_ids = RandomIdGenerator()
_configured_service: str | None = None


class TelemetrySettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="SMARTPICK_")

    otlp_endpoint: str | None = Field(None, description="OTLP/gRPC collector; no export when unset")
    otlp_insecure: bool = Field(False, description="plaintext to the collector (inside a cluster's mesh)")
    trace_sample_ratio: float = Field(1.0, ge=0.0, le=1.0, description="share of new traces recorded")


class EventContextPropagator(TextMapPropagator):
    """W3C trace context and baggage, except that Kafka headers already holding a traceparent keep it."""

    def __init__(self):
        self._inner = CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])

    def inject(self, carrier, context=None, setter=None) -> None:
        if isinstance(carrier, MutableSequence) and any(key == TRACE_HEADER for key, _ in carrier):
            return
        if setter is None:
            self._inner.inject(carrier, context)
        else:
            self._inner.inject(carrier, context, setter)

    def extract(self, carrier, context=None, getter=None):
        if getter is None:
            return self._inner.extract(carrier, context)
        return self._inner.extract(carrier, context, getter)

    @property
    def fields(self) -> set[str]:
        return self._inner.fields


def configure_tracing(service: str, settings: TelemetrySettings | None = None) -> None:
    """The tracer provider, the propagator and the instrumentation of gRPC, aiokafka and asyncpg; once per
    process (before its gRPC servers and channels are made, which the instrumentation wraps)."""
    global _configured_service
    if _configured_service is not None:
        return
    from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient, GrpcAioInstrumentorServer

    settings = settings or TelemetrySettings()
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: f"smartpick-{service}"}),
        sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
    )
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.otlp_endpoint, insecure=settings.otlp_insecure)
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    propagate.set_global_textmap(EventContextPropagator())
    GrpcAioInstrumentorServer().instrument()
    GrpcAioInstrumentorClient().instrument()
    AIOKafkaInstrumentor().instrument()
    AsyncPGInstrumentor().instrument()
    _configured_service = service


def instrument_fastapi(app) -> None:
    """A server span per HTTP request, continuing the caller's traceparent; the ops endpoints are left out, and
    so are the ASGI `receive` and `send` spans inside each request (three or more a request, saying only that
    the body was read and the answer written)."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"])


def configure_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    """Route both structlog and stdlib logging (aiokafka, uvicorn, grpc) through one JSON renderer, with the
    trace id of the current span; and set up tracing (configure_tracing)."""
    configure_tracing(service)
    renderer = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    shared = [
        structlog.contextvars.merge_contextvars,
        _add_trace_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    structlog.contextvars.bind_contextvars(service=service)


def _add_trace_id(_logger, _method, event_dict):
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        event_dict.setdefault("trace_id", trace.format_trace_id(span.trace_id))
    return event_dict


def current_trace_id() -> str | None:
    """The W3C traceparent of the current span (what an event or a call carries on), or None outside a trace."""
    carrier: dict[str, str] = {}
    _TRACE_CONTEXT.inject(carrier)
    return carrier.get(TRACE_HEADER)


def set_trace_id(traceparent: str | None) -> str:
    """Adopt the caller's trace context (a traceparent from a Kafka header, say), or start a new trace when it
    has none (or an invalid one); within a span of that trace already, nothing changes. Returns the
    traceparent in force."""
    current = trace.get_current_span().get_span_context()
    given = trace.get_current_span(_TRACE_CONTEXT.extract({TRACE_HEADER: traceparent or ""})).get_span_context()
    if current.is_valid and (not given.is_valid or given.trace_id == current.trace_id):
        return current_trace_id()
    if not given.is_valid:
        given = trace.SpanContext(
            trace_id=_ids.generate_trace_id(),
            span_id=_ids.generate_span_id(),
            is_remote=False,
            trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
        )
    context.attach(trace.set_span_in_context(trace.NonRecordingSpan(given)))
    return current_trace_id()
