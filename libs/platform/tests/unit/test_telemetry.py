"""W3C trace context: adopted from a caller, started when there is none, kept by an event that already has one."""

from opentelemetry import context, trace

from smartpick_platform import telemetry

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def in_fresh_context(function):
    token = context.attach(context.Context())
    try:
        return function()
    finally:
        context.detach(token)


def test_the_callers_trace_is_adopted():
    assert in_fresh_context(lambda: telemetry.set_trace_id(CALLER)) == CALLER


def test_without_a_valid_caller_a_new_trace_starts():
    for given in (None, "", "not-a-traceparent"):
        started = in_fresh_context(lambda g=given: telemetry.set_trace_id(g))
        version, trace_id, span_id, _ = started.split("-")
        assert (version, len(trace_id), len(span_id)) == ("00", 32, 16)
        assert trace_id not in ("0" * 32, CALLER.split("-")[1])


def test_inside_a_span_of_the_same_trace_nothing_changes():
    def within_span():
        telemetry.configure_tracing("test")
        with trace.get_tracer("test").start_as_current_span("request") as span:
            mine = telemetry.current_trace_id()
            assert telemetry.set_trace_id(mine) == mine
            return span.get_span_context().trace_id, mine

    trace_id, traceparent = in_fresh_context(within_span)
    assert traceparent.split("-")[1] == trace.format_trace_id(trace_id)


def test_outside_a_trace_there_is_no_traceparent():
    assert in_fresh_context(telemetry.current_trace_id) is None


def test_kafka_headers_that_carry_a_traceparent_keep_it_and_others_get_one():
    propagator = telemetry.EventContextPropagator()

    def inject(carrier):
        telemetry.set_trace_id("00-11111111111111111111111111111111-2222222222222222-01")
        propagator.inject(carrier, setter=_ListSetter())
        return carrier

    kept = in_fresh_context(lambda: inject([("traceparent", CALLER.encode())]))
    assert kept == [("traceparent", CALLER.encode())]
    given = in_fresh_context(lambda: inject([("ce_id", b"e1")]))
    assert given[1][0] == "traceparent" and b"11111111111111111111111111111111" in given[1][1]


class _ListSetter:
    def set(self, carrier, key, value):
        carrier.append((key, value.encode()))
