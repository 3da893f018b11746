"""The gateway's bound on what one process handles at once: past `max_in_flight` requests, 503 at once.

It counts requests being handled, from the moment their head is read to the end of their answer, not open
connections: an idle connection costs the cap nothing (uvicorn's own `limit_concurrency` counts connections,
the asking one included, and answers a bare plain-text 503). No queue: a request past the cap is refused at
once with `Retry-After` and the documented error body, so a client backs off instead of piling up behind a
slow one. The ops endpoints are not counted and never refused: a process that is busy is still alive and
ready, and a liveness probe refused under load would have the platform restart a pod for being busy."""

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from smartpick_platform.telemetry import current_trace_id

OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
RETRY_AFTER_SECONDS = 1


class InFlightLimitMiddleware:
    """Plain ASGI. One event loop per process, and no await between the check and the count: no lock needed."""

    def __init__(self, app: ASGIApp, max_in_flight: int):
        self.app = app
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPS_PATHS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            await self._refuse(send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _refuse(self, send: Send) -> None:
        detail = (
            f"the gateway is handling as many requests as it takes at once ({self.max_in_flight}); retry after "
            f"{RETRY_AFTER_SECONDS} s; trace id {current_trace_id()}"
        )
        body = json.dumps({"detail": detail}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
