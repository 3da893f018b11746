"""What the gateway's rate limits cost a request in CPU: the product's `RateLimit` (the `limits` library's
sliding window counter) against the library's moving window on the same in-memory storage, with 1, 100 and
1,000 clients active at once. Each request is checked as the gateway checks it: two limiters (per credential
and per client address), each with a per-second and a per-minute limit, tested and then counted; the limits
are set high enough that no request is refused, so every request takes the same path.

    .venv/bin/python bench/gateway_rate_limits.py [--requests 600]"""

import argparse
import asyncio
import resource

from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from smartpick_gateway.adapters.rate_limit import RateLimit

RATE = "1000/second;60000/minute"
PACE_SECONDS = 0.005  # between requests, so the storage's expiry passes run as they do under load


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class MovingWindow(RateLimit):
    """The same checks on the library's moving window (what the gateway used before)."""

    def __init__(self, rate: str, name: str):
        super().__init__(rate, name)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())


async def cpu_per_request(kind: type[RateLimit] | None, clients: int, requests: int) -> float:
    """CPU seconds of `requests` paced checks over `clients` keys; `kind` None: the pacing alone."""
    limiters = [kind(RATE, "credential"), kind(RATE, "address")] if kind else []
    started = cpu_seconds()
    for i in range(requests):
        for limiter in limiters:
            await limiter.retry_after(f"client-{i % clients}")
        await asyncio.sleep(PACE_SECONDS)
    return (cpu_seconds() - started) / requests


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=600)
    args = parser.parse_args()
    paced = f"{args.requests} requests paced {PACE_SECONDS * 1e3:.0f} ms apart"
    print(f"CPU per request of two limiters ({RATE} each), {paced}")
    print("  clients   sliding window counter (shipped)   moving window")
    for clients in (1, 100, 1000):
        pacing = asyncio.run(cpu_per_request(None, clients, args.requests))
        shipped = asyncio.run(cpu_per_request(RateLimit, clients, args.requests)) - pacing
        moving = asyncio.run(cpu_per_request(MovingWindow, clients, args.requests)) - pacing
        print(f"  {clients:7d}   {shipped * 1e3:29.3f} ms   {moving * 1e3:10.3f} ms")


if __name__ == "__main__":
    main()
