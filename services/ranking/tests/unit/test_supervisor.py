"""Supervision of the worker processes: a worker that dies is started again, after a delay that grows
while it keeps exiting young by itself (at once when it was killed from outside); a stop request ends them
all."""

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


def exit_with_an_error(_index: int) -> None:
    os._exit(3)


def wait_for(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise TimeoutError


def test_a_young_worker_killed_from_outside_is_started_again_at_once_and_a_stop_ends_every_worker():
    workers = WorkerSupervisor(2, multiprocessing.get_context("fork"), sleep_forever)
    for index in range(2):
        workers._start(index)
    try:
        first = workers.processes[0]
        os.kill(first.pid, signal.SIGKILL)
        first.join()
        workers.check()  # no delay: the first check starts it again
        assert workers.processes[0] is not first and workers.processes[0].is_alive()
        assert workers.quick_deaths[0] == 0 and workers.processes[1].is_alive()
    finally:
        workers.stop(timeout=10)
    assert not any(p.is_alive() for p in workers.processes.values())


def test_a_worker_that_exits_young_by_itself_waits_longer_each_time(monkeypatch):
    monkeypatch.setattr(supervisor, "MAX_DELAY_SECONDS", 0.3)
    workers = WorkerSupervisor(1, multiprocessing.get_context("fork"), exit_with_an_error)
    workers._start(0)
    try:
        first = workers.processes[0]
        first.join()
        workers.check()
        assert workers.processes[0] is first and workers.quick_deaths[0] == 1 and 0 in workers.restart_at

        def restarted() -> bool:
            workers.check()
            return workers.processes[0] is not first

        wait_for(restarted)
        workers.processes[0].join()
        workers.check()
        assert workers.quick_deaths[0] == 2
    finally:
        workers.stop(timeout=10)
