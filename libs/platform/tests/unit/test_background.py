"""A watched background task that dies asks its own process to stop, and the process then exits non-zero."""

import asyncio
import signal

import pytest

from smartpick_platform import background


async def test_a_task_that_dies_stops_its_process_and_a_cancelled_one_does_not():
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        cancelled = background.start(asyncio.sleep(60), "sleeper")
        cancelled.cancel()
        await asyncio.gather(cancelled, return_exceptions=True)
        await asyncio.sleep(0.05)
        assert not stop.is_set() and background.died() == []

        async def relay():
            raise ConnectionError("closed under it")

        background.start(relay(), "outbox-relay")
        await asyncio.wait_for(stop.wait(), 5)
        assert background.died() == ["outbox-relay"]
        with pytest.raises(SystemExit) as exited:
            background.exit_if_a_task_died()
        assert exited.value.code == background.EXIT_TASK_DIED
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        background._died.clear()
