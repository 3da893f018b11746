"""The operations HTTP surface every service exposes: /healthz, /readyz and /metrics."""

import asyncio
from collections.abc import Awaitable, Callable

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]


def ops_routes(readiness: ReadinessCheck) -> list:
    """Routes to mount into any Starlette/FastAPI app. /readyz answers 503 naming what is not ready."""

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        checks = await readiness()
        ready = all(checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)]


async def serve_ops_http(host: str, port: int, readiness: ReadinessCheck) -> tuple[uvicorn.Server, asyncio.Task]:
    """Starts the ops endpoints on their own port beside a gRPC server, in the same event loop."""
    app = Starlette(routes=ops_routes(readiness))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    return server, task
