"""Background tasks that take their process down when they die.

A relay or a consumer that stopped for good while the API kept answering would be a silent outage (the
outbox grows, the lag grows, /readyz may even stay green on another check). A task watched here that ends,
other than by being cancelled, asks its process to stop (SIGTERM: the usual graceful stop), and the
process then exits non-zero, so its supervisor (systemd, Kubernetes, the dev launcher) starts it again."""

import asyncio
import os
import signal

import structlog

log = structlog.get_logger(__name__)

EXIT_TASK_DIED = 70  # EX_SOFTWARE
_died: list[str] = []


def watch(task: asyncio.Task) -> asyncio.Task:
    task.add_done_callback(_stop_process_if_ended)
    return task


def start(coroutine, name: str) -> asyncio.Task:
    """A watched task running `coroutine`."""
    return watch(asyncio.create_task(coroutine, name=name))


def _stop_process_if_ended(task: asyncio.Task) -> None:
    if task.cancelled():
        return
    error = task.exception()
    _died.append(task.get_name())
    log.critical(
        "background task ended; stopping the process so that its supervisor restarts it",
        task=task.get_name(),
        error=repr(error) if error else "returned",
        exc_info=error,
    )
    os.kill(os.getpid(), signal.SIGTERM)


def died() -> list[str]:
    """The watched tasks that ended on their own in this process."""
    return list(_died)


def exit_if_a_task_died() -> None:
    """Call after the graceful stop: a process stopped by a dead task must not exit 0."""
    if _died:
        raise SystemExit(EXIT_TASK_DIED)
