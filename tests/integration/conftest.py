"""The real stack for the integration tests: infrastructure from the selected backend, topics, and the four
services as real processes on free ports. Started once per test session, stopped at its end."""

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from devstack import VENV_BIN, Endpoints, Ports, ServiceProcess, set_up_kafka, start_services
from infra import TEST_STATE_DIR, InfraBackend, selected_backend
from support import School, bearer

LOG_DIR = TEST_STATE_DIR / "logs"
pytest_plugins = ["browser"]  # the browser tests' fixtures


@dataclass
class Stack:
    endpoints: Endpoints
    ports: Ports
    processes: dict[str, ServiceProcess] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway_http}"

    def start_gateway(self, **overrides: str) -> ServiceProcess:
        self.processes["gateway"] = ServiceProcess("gateway", self.endpoints, self.ports, LOG_DIR, **overrides)
        return self.processes["gateway"].start().wait_ready()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "after_everything: runs after every other test (it checks what the whole run left behind)"
    )


def pytest_collection_modifyitems(items):
    """The attack suite runs after the product's tests (what it registers, platform-wide mentors among them,
    must not show in their lists), and tests marked after_everything go last; a stable sort keeps each
    group's own order."""

    def group(item) -> int:
        if item.get_closest_marker("after_everything") is not None:
            return 2
        return 1 if "security" in item.path.relative_to(Path(__file__).parent).parts[:-1] else 0

    items.sort(key=group)


def pytest_terminal_summary(terminalreporter, config):
    backend = getattr(config, "smartpick_backend", None)
    if backend:
        terminalreporter.write_line(
            f"integration tests ran on the {backend.name} infrastructure backend ({backend.reason})"
        )


@pytest.fixture(scope="session")
def backend(pytestconfig) -> InfraBackend:
    """The session's infrastructure backend, chosen once (SMARTPICK_TEST_BACKEND); `stack` starts it."""
    chosen = selected_backend()
    pytestconfig.smartpick_backend = chosen
    return chosen


@pytest.fixture(scope="session")
def stack(backend: InfraBackend) -> Iterator[Stack]:
    stack = Stack(backend.start(), Ports.free())
    try:
        set_up_kafka(stack.endpoints)
        stack.processes = {p.name: p for p in start_services(stack.endpoints, stack.ports, LOG_DIR)}
        yield stack
    finally:
        for process in stack.processes.values():
            process.stop()
        backend.stop()


@pytest.fixture(scope="session")
def operator_key(stack: Stack) -> str:
    gateway = stack.processes["gateway"]
    return subprocess.run(
        [str(VENV_BIN / "smartpick-gateway"), "issue-operator-key", "--label", "tests"],
        env=gateway.env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture
async def http(stack: Stack):
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=15) as client:
        yield client


@pytest.fixture
async def new_school(http: httpx.AsyncClient, operator_key: str):
    """Makes a fresh school (and its admin key) per call, so tests never share students."""

    async def make() -> School:
        reply = await http.post(
            "/v1/schools", json={"name": f"Test School {uuid.uuid4().hex[:8]}"}, headers=bearer(operator_key)
        )
        assert reply.status_code == 201, reply.text
        body = reply.json()
        return School(body["school_id"], bearer(body["admin_api_key"]["api_key"]))

    return make
