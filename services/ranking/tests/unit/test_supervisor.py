"""Supervision of the worker processes: a worker that dies is started again, after a delay that grows
while it keeps dying young; a stop request ends them all."""

import multiprocessing
import os
import signal
import time

from smartpick_ranking.entrypoints import supervisor
from smartpick_ranking.entrypoints.supervisor import WorkerSupervisor


def sleep_forever(_index: int) -> None:
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        time.sleep(1)


def wait_for(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise TimeoutError


def test_a_killed_worker_is_started_again_and_a_stop_ends_every_worker(monkeypatch):
    monkeypatch.setattr(supervisor, "MAX_DELAY_SECONDS", 0.2)
    workers = WorkerSupervisor(2, multiprocessing.get_context("fork"), sleep_forever)
    for index in range(2):
        workers._start(index)
    try:
        first = workers.processes[0]
        os.kill(first.pid, signal.SIGKILL)
        first.join()

        def restarted() -> bool:
            workers.check()
            return workers.processes[0] is not first and workers.processes[0].is_alive()

        wait_for(restarted)
        assert workers.quick_deaths[0] == 1 and workers.processes[1].is_alive()
    finally:
        workers.stop(timeout=10)
    assert not any(p.is_alive() for p in workers.processes.values())
