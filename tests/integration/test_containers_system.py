"""The whole system from its images: Kafka, PostgreSQL and every service process as containers (host
networking, ports free for this run), driven through the gateway container over HTTP.

It runs when the session runs on the containers backend (a Docker engine answers and the images exist), and
builds the service images first when their inputs changed (deploy/images/build-images.sh does nothing when
they are current), so it always tests the code in the work tree."""

import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from devstack import PROCESSES, REPO, Endpoints, Ports, process_environment, ready_url, set_up_kafka
from infra import TEST_STATE_DIR, ContainersBackend, host_network_container, start_all
from smartpick.events.v1 import profile_events_pb2
from support import bearer, profile, read_topic

from smartpick_platform import local_ca
from smartpick_platform.topics import PROFILE_UPDATED

pytestmark = pytest.mark.integration

LOG_DIR = TEST_STATE_DIR / "logs/system"
CONTAINER_TLS_DIR = "/etc/smartpick/tls"
IMAGE_UID = 10001  # the services' user in deploy/images/service/Dockerfile


@dataclass
class System:
    endpoints: Endpoints
    base_url: str
    containers: dict


def container_environment(name: str, service: str, endpoints: Endpoints, ports: Ports) -> dict[str, str]:
    """What the native stack gives the process (only the service's own and the Kafka settings of its user),
    bound to loopback as the containers share the host's network, and the port the image's health check asks."""
    prefix = f"SMARTPICK_{service.upper()}_"
    env = {
        key: value
        for key, value in process_environment(name, endpoints, ports).items()
        if key.startswith((prefix, "SMARTPICK_KAFKA_"))
    }
    env.update(local_ca.tls_environment(Path(CONTAINER_TLS_DIR), service))
    env[f"{prefix}{'HTTP' if service == 'gateway' else 'GRPC'}_HOST"] = "127.0.0.1"
    env["SMARTPICK_HEALTHCHECK_PORT"] = str(urlsplit(ready_url(name, ports)).port)
    return env


def identity_for_the_images(directory: Path) -> Path:
    """The test CA's certificates and keys, readable by the images' user, for the containers to mount."""
    copy = LOG_DIR / "identity"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(directory, copy)
    for path in [copy, *copy.iterdir()]:
        shutil.chown(path, IMAGE_UID, IMAGE_UID)
    return copy


def run_to_completion(service: str, env: dict[str, str], command: list[str], timeout: float = 180) -> None:
    """A one-shot container (a set-up command of the service's image) that must exit 0."""
    container = host_network_container(service, env, command=command).start()
    try:
        status = container.get_wrapped_container().wait(timeout=timeout)["StatusCode"]
        stdout, stderr = container.get_logs()
        assert status == 0, (command, (stdout + stderr).decode()[-3000:])
    finally:
        container.stop()


@pytest.fixture(scope="module")
def system(backend) -> Iterator[System]:
    if backend.name != "containers":
        pytest.skip(
            f"the system test runs the images, so it needs the containers backend; this session runs on "
            f"the {backend.name} backend ({backend.reason})"
        )
    subprocess.run([str(REPO / "deploy/images/build-images.sh"), "services"], check=True)
    infrastructure = ContainersBackend(reason="system test", log_dir=LOG_DIR)
    endpoints = infrastructure.start()
    ports = Ports.free()
    try:
        set_up_kafka(endpoints)
        ranking_env = container_environment("ranking", "ranking", endpoints, ports)
        run_to_completion("ranking", ranking_env, ["import-catalog"])
        identity = identity_for_the_images(endpoints.identity_dir)
        containers = {
            name: host_network_container(
                service, container_environment(name, service, endpoints, ports), command=list(arguments)
            ).with_volume_mapping(str(identity), CONTAINER_TLS_DIR, "ro")
            for name, service, arguments in PROCESSES
        }
        # Kept with Kafka and PostgreSQL, so that stopping the infrastructure saves every log and removes all.
        infrastructure.containers.update(containers)
        start_all({name: container for name, container in containers.items() if name != "gateway"})
        start_all({"gateway": containers["gateway"]})  # last: it calls the others
        yield System(endpoints, f"http://127.0.0.1:{ports.gateway_http}", infrastructure.containers)
    finally:
        infrastructure.stop()


def test_every_process_runs_from_its_image_as_a_non_root_user(system):
    for name, container in system.containers.items():
        result = container.exec(["id", "-u"])
        assert result.exit_code == 0 and result.output.strip() != b"0", name


async def test_the_gateway_container_serves_the_web_app_and_its_assets(system):
    """The image carries web/dist: the pages, the scripts they load and the API docs answer, none 503."""
    async with httpx.AsyncClient(base_url=system.base_url, timeout=15) as http:
        for path in ("/", "/signin", "/student", "/advisor", "/mentor", "/admin"):
            page = await http.get(path)
            assert page.status_code == 200, (path, page.status_code, page.text[:300])
            assert page.headers["content-type"].startswith("text/html"), path
            assert "default-src 'self'" in page.headers["content-security-policy"], path
        home = await http.get("/")
        assert '<div id="app">' in home.text
        scripts = re.findall(r'(?:src|href)="(/assets/[^"]+\.js)"', home.text)
        assert scripts, home.text
        for script in scripts:
            asset = await http.get(script)
            assert asset.status_code == 200 and "javascript" in asset.headers["content-type"], script
            assert "immutable" in asset.headers["cache-control"], script
        docs = await http.get("/docs")
        assert docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text, docs.text[:300]
        bundle = await http.get("/docs-assets/swagger-ui-bundle.js")
        assert bundle.status_code == 200 and len(bundle.content) > 100_000


async def test_a_profile_saved_through_the_gateway_container_reaches_kafka(system):
    gateway = system.containers["gateway"].get_wrapped_container()
    status, (stdout, stderr) = gateway.exec_run(
        ["smartpick-gateway", "issue-operator-key", "--label", "system test"], demux=True
    )
    assert status == 0, stderr
    operator = bearer(stdout.decode().strip())

    async with httpx.AsyncClient(base_url=system.base_url, timeout=15) as http:
        school = await http.post(
            "/v1/schools", json={"name": f"System School {uuid.uuid4().hex[:8]}"}, headers=operator
        )
        assert school.status_code == 201, school.text
        admin = bearer(school.json()["admin_api_key"]["api_key"])
        student = await http.post(
            "/v1/students", json={"external_ref": uuid.uuid4().hex, "display_name": "System Student"}, headers=admin
        )
        assert student.status_code == 201, student.text
        student_id = student.json()["student_id"]

        saved = await http.put(f"/v1/students/{student_id}/profile", json=profile(research=12), headers=admin)
        assert saved.status_code == 202, saved.text
        assert saved.json()["version"] == 1
        stored = await http.get(f"/v1/students/{student_id}/profile", headers=admin)
        assert stored.status_code == 200 and stored.json()["profile"]["research_items"] == 12

    records = await read_topic(system.endpoints, PROFILE_UPDATED.name, student_id, expect=1)
    events = [profile_events_pb2.ProfileUpdated.FromString(r.value) for r in records]
    assert [(e.event_id, e.profile_version, e.tenant_id) for e in events] == [
        (saved.json()["event_id"], 1, school.json()["school_id"])
    ]
