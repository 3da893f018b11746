"""Bounded concurrency: a gRPC service serves at most max_concurrent_rpcs calls at once and refuses the rest at
once with RESOURCE_EXHAUSTED (the gateway answers 503 with Retry-After); a service at the default serves a burst
whole. A second ranking server on ports of its own, capped at one call, beside the stack's."""

import asyncio
import uuid

import grpc
from devstack import Ports, ServiceProcess
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
