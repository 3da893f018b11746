"""Per-client rate limits of the public endpoints, on the `limits` library (moving window, in memory).

In memory means per gateway process: with N HTTP worker processes a client gets at most N times the
limit. That bounds abuse of the public try-it scoring well enough; a shared store (Redis) is the
library's answer when a tighter bound is needed."""

import math
import time

from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter


class RateLimit:
    def __init__(self, rate: str, name: str):
        """`rate` in the library's notation, e.g. "20/minute"."""
        self.item = parse(rate)
        self.name = name
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    async def retry_after(self, client: str) -> int | None:
        """Counts one request of `client`; None if it is allowed, else the seconds until it would be."""
        if await self._limiter.hit(self.item, self.name, client):
            return None
        stats = await self._limiter.get_window_stats(self.item, self.name, client)
        return max(1, math.ceil(stats.reset_time - time.time()))
