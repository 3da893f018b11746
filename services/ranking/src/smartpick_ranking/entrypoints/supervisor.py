"""Supervision of the ranking worker processes that `worker --workers N` starts: one that exits for any
reason but a stop request is started again, so the group's capacity never silently drops.

A worker that exits by itself soon after it started waits longer before each new start (capped), so one
that cannot run (the database gone, say) does not spin. One killed with SIGKILL (an operator, the OOM
killer) was stopped from outside, whatever its age: it starts again at once, as its consumer-group member
is waiting for it. SIGTERM or SIGINT stops them all, gracefully."""

import signal
import time
from collections.abc import Callable

import structlog
from prometheus_client import Counter

log = structlog.get_logger(__name__)

RESTARTS = Counter("smartpick_ranking_worker_restarts_total", "Ranking worker processes started again")
STEADY_SECONDS = 30.0  # a worker that ran this long before dying is restarted at once
MAX_DELAY_SECONDS = 30.0


class WorkerSupervisor:
    def __init__(self, count: int, context, target: Callable[[int], None], poll_seconds: float = 0.5):
        self.count = count
        self.context = context
        self.target = target
        self.poll_seconds = poll_seconds
        self.processes: dict[int, object] = {}
        self.started_at: dict[int, float] = {}
        self.quick_deaths: dict[int, int] = {}
        self.restart_at: dict[int, float] = {}
        self.stopping = False

    def _start(self, index: int) -> None:
        process = self.context.Process(target=self.target, args=(index,), name=f"ranking-worker-{index}")
        process.start()
        self.processes[index] = process
        self.started_at[index] = time.monotonic()

    def _request_stop(self, *_args) -> None:
        self.stopping = True

    def check(self) -> None:
        """Starts again each worker that has died, once its delay has passed."""
        now = time.monotonic()
        for index, process in list(self.processes.items()):
            if process.is_alive():
                continue
            if index not in self.restart_at:
                killed = process.exitcode == -signal.SIGKILL
                quick = not killed and now - self.started_at[index] < STEADY_SECONDS
                self.quick_deaths[index] = self.quick_deaths.get(index, 0) + 1 if quick else 0
                delay = min(MAX_DELAY_SECONDS, 0.5 * 2 ** self.quick_deaths[index]) if quick else 0.0
                self.restart_at[index] = now + delay
                log.error(
                    "ranking worker died; starting it again", worker=index, exit_code=process.exitcode, in_s=delay
                )
            if now >= self.restart_at[index]:
                del self.restart_at[index]
                RESTARTS.inc()
                self._start(index)

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._request_stop)
        signal.signal(signal.SIGINT, self._request_stop)
        for index in range(self.count):
            self._start(index)
        while not self.stopping:
            self.check()
            time.sleep(self.poll_seconds)
        self.stop()

    def stop(self, timeout: float = 30.0) -> None:
        for process in self.processes.values():
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
