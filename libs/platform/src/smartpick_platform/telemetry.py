"""Structured JSON logs with a trace id that follows a request across HTTP, gRPC and Kafka."""

import logging
import sys
import uuid
from contextvars import ContextVar

import structlog

TRACE_HEADER = "x-trace-id"
_trace_id: ContextVar[str | None] = ContextVar("trace_id", default=None)


def configure_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    """Route both structlog and stdlib logging (aiokafka, uvicorn, grpc) through one JSON renderer."""
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
    trace_id = _trace_id.get()
    if trace_id:
        event_dict.setdefault("trace_id", trace_id)
    return event_dict


def new_trace_id() -> str:
    return uuid.uuid4().hex


def current_trace_id() -> str | None:
    return _trace_id.get()


def set_trace_id(trace_id: str | None) -> str:
    """Adopt the caller's trace id, or start a new trace; returns the id in force."""
    trace_id = trace_id or new_trace_id()
    _trace_id.set(trace_id)
    return trace_id
