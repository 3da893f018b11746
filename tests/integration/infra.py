"""Infrastructure backends for the integration tests: each starts Kafka and PostgreSQL and says where they are.

The tests see only `Endpoints`; a backend is chosen by SMARTPICK_TEST_BACKEND (default: native). A
containers backend (testcontainers) plugs in here beside the native one without touching the tests."""

import os
import shutil
import subprocess
from pathlib import Path
from typing import Protocol

from devstack import REPO, STACK, Endpoints, free_port, native_endpoints


class InfraBackend(Protocol):
    name: str

    def start(self) -> Endpoints: ...

    def stop(self) -> None: ...


class NativeBackend:
    """Kafka and PostgreSQL as local processes (deploy/local/stack.sh), in a fresh state dir on free ports,
    so a test run never touches a `make run` stack or a previous run's data."""

    name = "native"

    def __init__(self, state_dir: Path = REPO / ".state/test"):
        self.state_dir = state_dir
        self.env = {
            **os.environ,
            "SMARTPICK_STATE_DIR": str(state_dir),
            "SMARTPICK_KAFKA_PORT": str(free_port()),
            "SMARTPICK_KAFKA_CONTROLLER_PORT": str(free_port()),
            "SMARTPICK_PG_PORT": str(free_port()),
        }

    def start(self) -> Endpoints:
        self.stop()
        shutil.rmtree(self.state_dir, ignore_errors=True)
        subprocess.run([str(STACK), "start"], env=self.env, check=True)
        return native_endpoints(self.env)

    def stop(self) -> None:
        if self.state_dir.exists():
            subprocess.run([str(STACK), "stop"], env=self.env, check=True)


BACKENDS = {"native": NativeBackend}


def selected_backend() -> InfraBackend:
    name = os.environ.get("SMARTPICK_TEST_BACKEND", "native")
    if name not in BACKENDS:
        raise ValueError(f"SMARTPICK_TEST_BACKEND={name!r}; choose one of {sorted(BACKENDS)}")
    return BACKENDS[name]()
