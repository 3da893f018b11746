from smartpick_gateway.adapters.rate_limit import RateLimit


async def test_a_client_over_the_limit_is_told_how_long_to_wait_and_others_are_not():
    limit = RateLimit("2/minute", "test")
    assert await limit.retry_after("10.0.0.1") is None
    assert await limit.retry_after("10.0.0.1") is None
    wait = await limit.retry_after("10.0.0.1")
    assert wait is not None and 1 <= wait <= 60
    assert await limit.retry_after("10.0.0.2") is None
