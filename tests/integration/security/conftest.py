"""The attack suite's own gateway (the session's stack behind it) and the records it attacks.

A gateway of its own, so the suite's thousands of requests meet no per-address limit other tests depend on
(and the public endpoints' limits do not hide what is behind them): the same code and settings otherwise."""

import dataclasses
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from devstack import ServiceProcess, free_port
from infra import TEST_STATE_DIR
from world import World, make_world

LOG_DIR = TEST_STATE_DIR / "logs" / "attack"  # its log and pid file apart from the session's gateway
# The per-address and per-credential limits, raised past what the suite sends (the limits have tests of their own).
UNLIMITED = {
    "try_it_rate_limit": "100000/minute",
    "sign_in_rate_limit": "100000/minute",
    "key_rate_limit": "1000000/second",
    "client_rate_limit": "1000000/second",
}


@pytest.fixture(scope="session")
def attack_gateway(stack) -> Iterator[str]:
    ports = dataclasses.replace(stack.ports, gateway_http=free_port())
    gateway = ServiceProcess("gateway", stack.endpoints, ports, LOG_DIR, **UNLIMITED)
    gateway.start().wait_ready()
    try:
        yield f"http://127.0.0.1:{ports.gateway_http}"
    finally:
        gateway.stop()


@pytest.fixture(scope="session")
async def world(attack_gateway: str, operator_key: str) -> AsyncIterator[World]:
    """Made once per session; its client stays open for the fresh records cells ask for."""
    async with httpx.AsyncClient(base_url=attack_gateway, timeout=30) as http:
        yield await make_world(http, operator_key)


@pytest.fixture(scope="session")
async def attack_http(attack_gateway: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=attack_gateway, timeout=30) as client:
        yield client
