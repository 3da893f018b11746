"""Bounded concurrency: a gRPC service serves at most max_concurrent_rpcs calls at once and refuses the rest at
once with RESOURCE_EXHAUSTED (the gateway answers 503 with Retry-After); a service at the default serves a burst
whole. A second ranking server on ports of its own, capped at one call, beside the stack's. And the gateway's
own cap on the requests it handles at once (its in-flight middleware), with uvicorn's limit_concurrency as a higher
backstop on connections: a second gateway capped low, beside the stack's. And how long an idle keep-alive
connection stays open."""

import asyncio
import dataclasses
import time
import uuid

import grpc
import httpx
import pytest
from devstack import Ports, ServiceProcess, free_port
from infra import TEST_STATE_DIR
from smartpick.ranking.v1 import ranking_pb2, ranking_pb2_grpc

from smartpick_platform import caller_context, local_ca
from smartpick_platform.caller_context import CallerContext
from smartpick_platform.grpc_channel import connect
from smartpick_platform.telemetry import TRACE_HEADER

BURST = 40


async def burst_of_city_lists(stack, target: str) -> list[grpc.StatusCode]:
    """BURST concurrent ListCities calls (the catalog's thousands of cities: a call of some milliseconds)."""
    caller_context.act_as(CallerContext(role="advisor", tenant_id=str(uuid.uuid4())))
    gateway = local_ca.identity(stack.endpoints.identity_dir, "gateway")
    async with connect(gateway, target, "ranking") as channel:
        stub = ranking_pb2_grpc.RankingServiceStub(channel)

        async def one() -> grpc.StatusCode:
            try:
                await stub.ListCities(ranking_pb2.ListCitiesRequest(), timeout=30)
                return grpc.StatusCode.OK
            except grpc.aio.AioRpcError as error:
                return error.code()

        await one()  # the channel is up before the burst
        return list(await asyncio.gather(*(one() for _ in range(BURST))))


async def test_a_service_past_its_concurrency_cap_refuses_at_once_and_one_at_the_default_serves_the_burst(stack):
    ports = Ports.free()
    capped = ServiceProcess("ranking", stack.endpoints, ports, TEST_STATE_DIR / "logs", max_concurrent_rpcs="1")
    capped.log_path = capped.log_path.with_name("ranking-capped.log")
    try:
        capped.start().wait_ready()
        codes = await burst_of_city_lists(stack, f"127.0.0.1:{ports.grpc['ranking']}")
    finally:
        capped.stop()
    assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes, codes
    assert grpc.StatusCode.OK in codes, codes
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}, codes

    at_default = await burst_of_city_lists(stack, f"127.0.0.1:{stack.ports.grpc['ranking']}")
    assert at_default == [grpc.StatusCode.OK] * BURST


GATEWAY_CAP = 4  # SMARTPICK_GATEWAY_HTTP_MAX_IN_FLIGHT of the capped gateway
GATEWAY_CONNECTIONS = 12  # its SMARTPICK_GATEWAY_HTTP_MAX_CONNECTIONS (uvicorn's limit_concurrency)
GATEWAY_KEEP_ALIVE = 3  # its SMARTPICK_GATEWAY_HTTP_KEEP_ALIVE_SECONDS (uvicorn's timeout_keep_alive)
A_PROFILE = f"/v1/students/{uuid.uuid4()}/profile"  # without credentials: the route answers 401 at once


@pytest.fixture(scope="module")
def capped_gateway(stack):
    """The port of a second gateway, capped at GATEWAY_CAP requests and GATEWAY_CONNECTIONS connections, that
    keeps an idle connection GATEWAY_KEEP_ALIVE seconds."""
    ports = dataclasses.replace(stack.ports, gateway_http=free_port())
    capped = ServiceProcess(
        "gateway",
        stack.endpoints,
        ports,
        TEST_STATE_DIR / "logs" / "capped",
        http_max_in_flight=str(GATEWAY_CAP),
        http_max_connections=str(GATEWAY_CONNECTIONS),
        http_keep_alive_seconds=str(GATEWAY_KEEP_ALIVE),
    )
    try:
        capped.start().wait_ready()
        yield ports.gateway_http
    finally:
        capped.stop()


async def hold_a_request(port: int) -> asyncio.StreamWriter:
    """A request the gateway is handling and cannot finish: its headers sent, its body (declared 1,000 bytes)
    only begun, so the try-it route waits on the rest (a slow client's upload)."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /v1/try-it HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n{"
    )
    await writer.drain()
    return writer


async def open_idle(port: int, count: int) -> list[asyncio.StreamWriter]:
    """Connections that send nothing at all."""
    return [(await asyncio.open_connection("127.0.0.1", port))[1] for _ in range(count)]


def close_all(writers: list[asyncio.StreamWriter]) -> None:
    for writer in writers:
        writer.close()


async def probe(port: int) -> tuple[httpx.Response, float]:
    """An API request (no credentials, so 401 when it is handled) on a connection of its own: the answer and how
    long it took (seconds)."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        started = time.perf_counter()
        reply = await client.get(A_PROFILE)
        return reply, time.perf_counter() - started


async def test_the_gateway_serves_exactly_its_cap_and_refuses_the_next_at_once_with_the_documented_503(
    capped_gateway,
):
    """With CAP - 1 requests held the probe is the CAP-th and is handled; with CAP held it is refused while the
    others are still open (so at once: they never finish), with Retry-After and the ErrorOut body naming the trace
    id; once they leave, it is handled again."""
    held: list[asyncio.StreamWriter] = []
    try:
        held = [await hold_a_request(capped_gateway) for _ in range(GATEWAY_CAP - 1)]
        await asyncio.sleep(0.5)  # the gateway has read their headers and is handling them
        under, under_seconds = await probe(capped_gateway)

        held.append(await hold_a_request(capped_gateway))
        await asyncio.sleep(0.5)
        past, past_seconds = await probe(capped_gateway)
    finally:
        close_all(held)
    for _ in range(50):  # until the gateway has seen them leave
        after, _ = await probe(capped_gateway)
        if after.status_code != 503:
            break
        await asyncio.sleep(0.2)

    assert under.status_code == 401, under.text
    assert past.status_code == 503, past.text
    assert past.headers["retry-after"] == "1"
    assert past.headers["content-type"] == "application/json"
    trace = past.headers[TRACE_HEADER]
    assert past.json() == {
        "detail": f"the gateway is handling as many requests as it takes at once ({GATEWAY_CAP}); retry after 1 s; "
        f"trace id {trace}"
    }
    assert after.status_code == 401, after.text
    print(
        f"cap {GATEWAY_CAP}: with {GATEWAY_CAP - 1} requests held, the probe {under.status_code} in "
        f"{under_seconds * 1000:.1f} ms; with {GATEWAY_CAP} held, {past.status_code} in "
        f"{past_seconds * 1000:.1f} ms (Retry-After: {past.headers['retry-after']})"
    )


async def test_idle_connections_do_not_shut_the_gateway_out_and_the_connection_backstop_is_uvicorns(
    capped_gateway,
):
    """Twice the request cap in connections that never send a request: requests are still handled (401), the cap
    counts requests, not connections. Past the connection backstop uvicorn itself refuses with its bare 503."""
    idle: list[asyncio.StreamWriter] = []
    try:
        idle = await open_idle(capped_gateway, 2 * GATEWAY_CAP)
        await asyncio.sleep(0.5)
        beside_idle, beside_seconds = await probe(capped_gateway)
        # With the probe's own connection, GATEWAY_CONNECTIONS open: uvicorn's limit_concurrency is reached.
        idle += await open_idle(capped_gateway, GATEWAY_CONNECTIONS - 1 - len(idle))
        await asyncio.sleep(0.5)
        at_backstop, _ = await probe(capped_gateway)
    finally:
        close_all(idle)
    for _ in range(50):
        after, _ = await probe(capped_gateway)
        if after.status_code != 503:
            break
        await asyncio.sleep(0.2)

    assert beside_idle.status_code == 401, beside_idle.text
    assert at_backstop.status_code == 503
    assert at_backstop.text == "Service Unavailable"  # uvicorn's own answer: the backstop, not the API's cap
    assert after.status_code == 401, after.text
    print(
        f"with {2 * GATEWAY_CAP} idle connections (cap {GATEWAY_CAP}), the probe {beside_idle.status_code} in "
        f"{beside_seconds * 1000:.1f} ms; with {GATEWAY_CONNECTIONS - 1} idle, uvicorn's backstop answered "
        f"{at_backstop.status_code}"
    )


async def seconds_until_closed(reader: asyncio.StreamReader, limit: float) -> float | None:
    started = time.perf_counter()
    try:
        while await asyncio.wait_for(reader.read(65536), timeout=limit):
            pass
    except TimeoutError:
        return None
    return time.perf_counter() - started


async def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_setting(capped_gateway):
    """After an answer, a connection that sends nothing more is closed after SMARTPICK_GATEWAY_HTTP_KEEP_ALIVE_SECONDS
    (uvicorn's timeout_keep_alive). One that never sent a request is not: uvicorn has no timer for a request head
    (the ingress bounds it); measured here."""
    reader, writer = await asyncio.open_connection("127.0.0.1", capped_gateway)
    fresh_reader, fresh_writer = await asyncio.open_connection("127.0.0.1", capped_gateway)
    try:
        writer.write(f"GET {A_PROFILE} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        await writer.drain()
        kept_alive, fresh = await asyncio.gather(
            seconds_until_closed(reader, 10), seconds_until_closed(fresh_reader, 10)
        )
    finally:
        close_all([writer, fresh_writer])
    assert kept_alive is not None and GATEWAY_KEEP_ALIVE - 0.5 < kept_alive < GATEWAY_KEEP_ALIVE + 2, kept_alive
    print(f"keep-alive connection closed after {kept_alive:.1f} s; a fresh one sending nothing: {fresh} after 10 s")


async def test_the_gateway_keeps_an_idle_connection_past_the_five_seconds_clients_keep_theirs(stack):
    """At uvicorn's default, 5 s, which is httpx's too, a client could reuse a connection in the instant the
    gateway closed it, and its request failed (the likely cause of the httpx.ReadError in
    bench/profile_updates.py). The stack's gateway, at the default setting, still answers on a connection idle
    for 6.5 s."""
    reader, writer = await asyncio.open_connection("127.0.0.1", stack.ports.gateway_http)
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    async def status_of_an_answer() -> bytes:
        writer.write(request)
        await writer.drain()
        status, length = await asyncio.wait_for(reader.readline(), timeout=10), 0
        while (line := await asyncio.wait_for(reader.readline(), timeout=10)) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        return status

    try:
        assert (await status_of_an_answer()).startswith(b"HTTP/1.1 200")
        await asyncio.sleep(6.5)
        assert not reader.at_eof(), "the gateway closed an idle keep-alive connection within 6.5 s"
        assert (await status_of_an_answer()).startswith(b"HTTP/1.1 200")
    finally:
        close_all([writer])
