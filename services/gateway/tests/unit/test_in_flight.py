"""The in-flight cap: requests being handled are counted, the one past the cap is refused at once with 503,
Retry-After and the documented body, and a request is served again as soon as one leaves."""

import asyncio

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from smartpick_gateway.entrypoints.app import create_app
from smartpick_gateway.entrypoints.in_flight import InFlightLimitMiddleware
from smartpick_gateway.settings import GatewaySettings
from smartpick_platform.telemetry import TRACE_HEADER

A_PROFILE = "/v1/students/7f1d3c9e-0b7a-4a51-9d0e-3f5c2b8a6e10/profile"


class HeldApp:
    """Answers 200 to /fast at once; a request to /held waits until `release` is set."""

    def __init__(self):
        self.release = asyncio.Event()
        self.entered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/held":
            self.entered += 1
            await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def client_of(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")


async def until(condition) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the held requests never reached the app")


async def test_the_cap_counts_requests_exactly_and_refuses_the_next_at_once():
    inner = HeldApp()
    limiter = InFlightLimitMiddleware(inner, max_in_flight=3)
    async with client_of(limiter) as http:
        held = [asyncio.create_task(http.get("/held")) for _ in range(3)]
        await until(lambda: inner.entered == 3)
        assert limiter.in_flight == 3
        past = await asyncio.wait_for(http.get("/fast"), timeout=1)  # refused at once, not queued
        inner.release.set()
        answers = await asyncio.gather(*held)
        after = await http.get("/fast")
    assert past.status_code == 503
    assert past.headers["retry-after"] == "1"
    assert past.headers["content-type"] == "application/json"
    assert "at once (3)" in past.json()["detail"]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert after.status_code == 200
    assert limiter.in_flight == 0


async def test_under_the_cap_a_request_is_served_while_others_are_held():
    inner = HeldApp()
    limiter = InFlightLimitMiddleware(inner, max_in_flight=3)
    async with client_of(limiter) as http:
        held = [asyncio.create_task(http.get("/held")) for _ in range(2)]
        await until(lambda: inner.entered == 2)
        under = await http.get("/fast")
        inner.release.set()
        await asyncio.gather(*held)
    assert under.status_code == 200


async def test_a_request_that_fails_leaves_the_count():
    async def failing(_scope, _receive, _send):
        raise RuntimeError("boom")

    limiter = InFlightLimitMiddleware(failing, max_in_flight=1)
    async with client_of(limiter) as http:
        for _ in range(2):
            try:
                await http.get("/any")
            except RuntimeError:
                pass
    assert limiter.in_flight == 0


async def test_the_ops_endpoints_are_neither_counted_nor_refused():
    inner = HeldApp()
    limiter = InFlightLimitMiddleware(inner, max_in_flight=1)
    async with client_of(limiter) as http:
        held = asyncio.create_task(http.get("/held"))
        await until(lambda: inner.entered == 1)
        ops = [(await http.get(path)).status_code for path in ("/healthz", "/readyz", "/metrics")]
        api = (await http.get("/fast")).status_code
        inner.release.set()
        await held
    assert ops == [200, 200, 200]
    assert api == 503


async def test_the_gateways_refusal_carries_the_trace_id_in_its_header_and_body():
    """The app as served: a PUT whose body never finishes holds the one place; the next request gets the 503."""
    app = create_app(GatewaySettings(database_url="postgresql://unused/unused", http_max_in_flight=1))
    finish_body = asyncio.Event()

    async def slow_body():
        yield b"{"
        await finish_body.wait()
        yield b"}"

    async with client_of(app) as http:
        held = asyncio.create_task(
            http.put(A_PROFILE, content=slow_body(), headers={"content-type": "application/json"})
        )
        await asyncio.sleep(0.1)
        past = await http.get(A_PROFILE)
        finish_body.set()
        held_answer = await held
        after = await http.get(A_PROFILE)
    assert past.status_code == 503
    assert past.headers["retry-after"] == "1"
    trace = past.headers[TRACE_HEADER]
    assert past.json()["detail"].endswith(f"trace id {trace}")
    assert held_answer.status_code == 401  # it reached the route: no credentials
    assert after.status_code == 401


def test_the_connection_backstop_must_be_above_the_request_cap():
    with pytest.raises(ValueError, match="http_max_connections"):
        GatewaySettings(database_url="postgresql://unused/unused", http_max_in_flight=10, http_max_connections=10)
