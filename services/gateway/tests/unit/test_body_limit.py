"""The edge's body-size bound: 413 past the limit, whether the client declares the length or streams."""

import httpx

from smartpick_gateway.entrypoints.app import create_app
from smartpick_gateway.settings import GatewaySettings

A_PROFILE = "/v1/students/7f1d3c9e-0b7a-4a51-9d0e-3f5c2b8a6e10/profile"


def client() -> httpx.AsyncClient:
    """The app without its lifespan: nothing here reaches a database or another service."""
    app = create_app(GatewaySettings(database_url="postgresql://unused/unused", max_body_bytes=4096))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")


async def test_a_body_over_the_limit_gets_413_before_authentication():
    async with client() as http:
        reply = await http.put(A_PROFILE, content=b"x" * 4097, headers={"content-type": "application/json"})
    assert reply.status_code == 413
    assert "4096 bytes" in reply.json()["detail"]


async def test_a_streamed_body_over_the_limit_gets_413():
    async def chunks():
        for _ in range(10):
            yield b"y" * 1000

    async with client() as http:
        reply = await http.put(A_PROFILE, content=chunks(), headers={"content-type": "application/json"})
    assert reply.status_code == 413


async def test_a_body_within_the_limit_reaches_the_route():
    async with client() as http:
        reply = await http.put(A_PROFILE, content=b"{}", headers={"content-type": "application/json"})
    assert reply.status_code == 401  # the route's own first check: no credentials
