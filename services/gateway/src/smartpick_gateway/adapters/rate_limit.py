"""Rate limits, on the `limits` library (sliding window counter, in memory): per client address for the
public endpoints and every request with a credential, and per credential (API key or session).

A sliding window counter counts requests per clock-aligned window and weighs the previous window's count
by how much of it a window ending now still covers, so a limit holds to within a request or so of an exact
moving window. The library's exact moving window keeps every request's timestamp, and its in-memory expiry
hands every key to a thread on every pass: 0.3 ms of CPU a request with one busy client, 5 ms with a
thousand clients, against 0.05 and 0.4 ms here (bench/gateway_rate_limits.py).

In memory means per gateway process: with N HTTP worker processes a client gets at most N times the
limit. That bounds abuse well enough; a shared store (Redis) is the library's answer when a tighter bound
is needed."""

import math
import time

from limits import parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter


class RateLimit:
    def __init__(self, rate: str, name: str):
        """`rate` in the library's notation: one limit ("20/minute") or several ("20/second;600/minute"),
        each of which must hold."""
        self.items = parse_many(rate)
        self.name = name
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    async def retry_after(self, who: str) -> int | None:
        """Counts one request of `who`; None if it is allowed, else the seconds until it would be (a refused
        request is not counted, so a client that waits as told gets through)."""
        for item in self.items:
            if not await self._limiter.test(item, self.name, who):
                stats = await self._limiter.get_window_stats(item, self.name, who)
                return max(1, math.ceil(stats.reset_time - time.time()))
        for item in self.items:
            await self._limiter.hit(item, self.name, who)
        return None
