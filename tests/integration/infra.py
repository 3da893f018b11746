"""Infrastructure backends for the integration tests: each starts Kafka and PostgreSQL and says where they are.

The tests see only `Endpoints`; a backend is chosen by SMARTPICK_TEST_BACKEND (default: native). A
containers backend (testcontainers) plugs in here beside the native one without touching the tests."""

import os
from pathlib import Path
from typing import Protocol

from devstack import REPO, Endpoints, IsolatedStack


class InfraBackend(Protocol):
    name: str

    def start(self) -> Endpoints: ...

    def stop(self) -> None: ...


# Where a test run keeps its state and logs; set it to run several test sessions side by side.
TEST_STATE_DIR = Path(os.environ.get("SMARTPICK_TEST_STATE_DIR", REPO / ".state/test")).resolve()


class NativeBackend(IsolatedStack):
    """Kafka and PostgreSQL as local processes (deploy/local/stack.sh) in TEST_STATE_DIR."""

    name = "native"

    def __init__(self):
        super().__init__(TEST_STATE_DIR)


BACKENDS = {"native": NativeBackend}


def selected_backend() -> InfraBackend:
    name = os.environ.get("SMARTPICK_TEST_BACKEND", "native")
    if name not in BACKENDS:
        raise ValueError(f"SMARTPICK_TEST_BACKEND={name!r}; choose one of {sorted(BACKENDS)}")
    return BACKENDS[name]()
