import asyncio
import time

from smartpick_gateway.adapters.rate_limit import RateLimit


async def within_one_window(seconds: float, window: float) -> None:
    """Waits until the clock-aligned window of `window` seconds the counter keeps has `seconds` left: at a
    window's end the previous window's requests start to count for less, and exact counts no longer hold."""
    left = window - time.time() % window
    if left < seconds:
        await asyncio.sleep(left + 0.01)


async def test_a_client_over_the_limit_is_told_how_long_to_wait_and_others_are_not():
    limit = RateLimit("2/minute", "test")
    await within_one_window(5, 60)
    assert await limit.retry_after("10.0.0.1") is None
    assert await limit.retry_after("10.0.0.1") is None
    wait = await limit.retry_after("10.0.0.1")
    assert wait is not None and 1 <= wait <= 60
    assert await limit.retry_after("10.0.0.2") is None


async def test_every_one_of_several_limits_holds_and_a_refused_request_is_not_counted():
    limit = RateLimit("3/second;4/minute", "test")
    await within_one_window(5, 60)
    await within_one_window(0.5, 1)
    assert [await limit.retry_after("key-a") for _ in range(3)] == [None] * 3
    assert await limit.retry_after("key-a") is not None  # over 3/second
    assert await limit.retry_after("key-b") is None  # another key is unaffected
    await asyncio.sleep(1.05)
    assert await limit.retry_after("key-a") is None  # the refused one did not count against 4/minute
    wait = await limit.retry_after("key-a")
    assert wait is not None and 1 <= wait <= 60  # now the minute's limit holds: until the window moves on


async def test_a_client_that_waits_as_told_gets_through():
    limit = RateLimit("2/second", "test")
    await within_one_window(0.5, 1)
    assert [await limit.retry_after("key-a") for _ in range(2)] == [None] * 2
    wait = await limit.retry_after("key-a")
    assert wait is not None and wait <= 2
    await asyncio.sleep(wait)
    assert await limit.retry_after("key-a") is None
