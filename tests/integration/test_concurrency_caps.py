"""Bounded concurrency: a gRPC service serves at most max_concurrent_rpcs calls at once and refuses the rest at
once with RESOURCE_EXHAUSTED (the gateway answers 503 with Retry-After); a service at the default serves a burst
whole. A second ranking server on ports of its own, capped at one call, beside the stack's. And the gateway's
own cap on what it handles at once (uvicorn's limit_concurrency): a second gateway capped low, beside the stack's."""

import asyncio
import dataclasses
import time
import uuid

import grpc
import httpx
from devstack import Ports, ServiceProcess, free_port
from infra import TEST_STATE_DIR
from smartpick.ranking.v1 import ranking_pb2, ranking_pb2_grpc

from smartpick_platform import caller_context, local_ca
from smartpick_platform.caller_context import CallerContext
from smartpick_platform.grpc_channel import connect

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


async def probe(base_url: str) -> tuple[httpx.Response, float]:
    """GET /healthz on a connection of its own: the answer and how long it took (seconds)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        started = time.perf_counter()
        reply = await client.get("/healthz")
        return reply, time.perf_counter() - started


async def test_the_gateway_past_its_in_flight_cap_answers_503_at_once_and_under_it_serves(stack):
    """uvicorn counts the open connections, the asking one included, and the requests being handled: at a cap of
    C, C - 1 requests on connections of their own are handled at once, and the next one is refused with a 503
    while the others are still held (so at once: they never finish). Once they leave, requests are served again."""
    ports = dataclasses.replace(stack.ports, gateway_http=free_port())
    capped = ServiceProcess(
        "gateway", stack.endpoints, ports, TEST_STATE_DIR / "logs" / "capped", http_max_in_flight=str(GATEWAY_CAP)
    )
    base_url = f"http://127.0.0.1:{ports.gateway_http}"
    held: list[asyncio.StreamWriter] = []
    try:
        capped.start().wait_ready()
        held = [await hold_a_request(ports.gateway_http) for _ in range(GATEWAY_CAP - 2)]
        await asyncio.sleep(0.5)  # the gateway has read their headers and is handling them
        under, under_seconds = await probe(base_url)

        held.append(await hold_a_request(ports.gateway_http))
        await asyncio.sleep(0.5)
        past, past_seconds = await probe(base_url)

        for writer in held:
            writer.close()
        held = []
        for _ in range(50):  # until the gateway has seen them leave
            after, _ = await probe(base_url)
            if after.status_code != 503:
                break
            await asyncio.sleep(0.2)
    finally:
        for writer in held:
            writer.close()
        capped.stop()

    assert under.status_code == 200, under.text
    assert past.status_code == 503, past.text
    assert past.headers["content-type"].startswith("text/plain") and past.text == "Service Unavailable"
    assert after.status_code == 200, after.text
    print(
        f"cap {GATEWAY_CAP}: with {GATEWAY_CAP - 2} requests held, /healthz {under.status_code} in "
        f"{under_seconds * 1000:.1f} ms; with {GATEWAY_CAP - 1} held, {past.status_code} in "
        f"{past_seconds * 1000:.1f} ms (Retry-After: {past.headers.get('retry-after')})"
    )
