"""Infrastructure backends for the integration tests: each starts Kafka and PostgreSQL and says where they are.

The tests see only `Endpoints`. SMARTPICK_TEST_BACKEND picks the backend: `native` (processes started by
deploy/local/stack.sh), `containers` (the project's Kafka and PostgreSQL images, started with testcontainers)
or `auto`, the default: containers when a Docker engine answers and those images exist, native otherwise."""

import os
import secrets
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import docker
from devstack import MANIFEST, REPO, Endpoints, IsolatedStack, free_port
from docker.errors import ImageNotFound
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.exceptions import ContainerStartException

from smartpick_platform import kafka_access, local_ca

# Where a test run keeps its state and logs; set it to run several test sessions side by side.
TEST_STATE_DIR = Path(os.environ.get("SMARTPICK_TEST_STATE_DIR", REPO / ".state/test")).resolve()
# The engine deploy/docker/dockerd.sh starts (same defaults as the script); used when DOCKER_HOST names none.
STATE_DIR = Path(os.environ.get("SMARTPICK_STATE_DIR", REPO / ".state"))
PROJECT_DOCKER_SOCKET = Path(os.environ.get("SMARTPICK_DOCKER_DIR", STATE_DIR / "docker")) / "docker.sock"
IMAGE_PREFIX = os.environ.get("SMARTPICK_IMAGE_PREFIX", "smartpick/")
IMAGE_TAG = os.environ.get("SMARTPICK_IMAGE_TAG", "latest")
INFRA_IMAGES = ("kafka", "postgres")
NATIVE_PG_BIN = Path("/usr/lib/postgresql/15/bin")  # Debian's PostgreSQL 15, as stack.sh and the image use
START_TIMEOUT = 180  # seconds; a cold Kafka on a busy 2-core machine needs most of a minute


class InfraBackend(Protocol):
    name: str
    reason: str

    def start(self) -> Endpoints: ...

    def stop(self) -> None: ...

    def stop_part(self, part: str, immediate: bool = False) -> None: ...

    def start_part(self, part: str) -> None: ...

    def dump_database(self, database_url: str) -> bytes: ...

    def infrastructure_logs(self) -> dict[str, bytes]: ...


def pg_dump_command(database_url: str, socket_dir: str) -> list[str]:
    """pg_dump of every table, data included, over the server's socket: as the superuser (peer login), since a
    service's own role sees only what row-level security lets it."""
    url = urlsplit(database_url)
    return ["pg_dump", "--no-owner", "-h", socket_dir, "-p", str(url.port), "-d", url.path.lstrip("/")]


class NativeBackend(IsolatedStack):
    """Kafka and PostgreSQL as local processes (deploy/local/stack.sh) in TEST_STATE_DIR."""

    name = "native"

    def __init__(self, reason: str = "SMARTPICK_TEST_BACKEND=native"):
        super().__init__(TEST_STATE_DIR)
        self.reason = reason

    def dump_database(self, database_url: str) -> bytes:
        """As stack.sh reaches its server: the postgres user when run as root, else the caller's own."""
        command = pg_dump_command(database_url, str(self.state_dir / "postgres/run"))
        command[0] = str(NATIVE_PG_BIN / "pg_dump")
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=True, capture_output=True, timeout=120).stdout

    def infrastructure_logs(self) -> dict[str, bytes]:
        """None apart: Kafka's and PostgreSQL's logs are files under the test state dir with the services'."""
        return {}


def image(name: str) -> str:
    return f"{IMAGE_PREFIX}{name}:{IMAGE_TAG}"


def database_urls(port: int, migration: bool = False) -> dict[str, str]:
    """Each service's database, as its runtime role or its migration role, as the PostgreSQL image (and
    stack.sh) create them."""
    role = "migration_role" if migration else "runtime_role"
    return {
        name: f"postgresql://{getattr(s, role)}:{getattr(s, role)}_dev@127.0.0.1:{port}/{s.database}"
        for name, s in MANIFEST.services.items()
    }


def use_project_engine() -> None:
    """Points the Docker clients at the project's own engine when DOCKER_HOST names none and it runs."""
    if "DOCKER_HOST" not in os.environ and PROJECT_DOCKER_SOCKET.is_socket():
        os.environ["DOCKER_HOST"] = f"unix://{PROJECT_DOCKER_SOCKET}"


def configure_testcontainers() -> None:
    """No reaper (Ryuk): its image comes from a registry, which cannot be reached here. The containers are
    removed by stop() instead, and .ci/run removes whatever a killed run left."""
    testcontainers_config.ryuk_disabled = True


def missing_images(names: tuple[str, ...]) -> list[str]:
    """The images among `names` the engine does not have; raises if no engine answers."""
    client = docker.from_env(timeout=10)
    try:
        client.ping()
        missing = []
        for name in names:
            try:
                client.images.get(image(name))
            except ImageNotFound:
                missing.append(image(name))
        return missing
    finally:
        client.close()


def host_network_container(name: str, env: dict[str, str], **options):
    """A container of one of the project's images on the host's network (the engine makes no bridges)."""
    return DockerContainer(image(name), env=env, network_mode="host", labels={"org.smartpick.test": name}, **options)


def wait_healthy(container: DockerContainer, timeout: float = START_TIMEOUT) -> None:
    """Waits for the image's own HEALTHCHECK to pass. Unlike testcontainers' HealthcheckWaitStrategy, gives up
    at once when the container exits, and says why with the end of its output."""
    wrapped = container.get_wrapped_container()
    deadline = time.monotonic() + timeout
    while True:
        wrapped.reload()
        state = wrapped.attrs["State"]
        health = state.get("Health", {}).get("Status")
        if health == "healthy":
            return
        if state["Status"] == "exited" or time.monotonic() > deadline:
            stdout, stderr = container.get_logs()
            raise RuntimeError(
                f"{wrapped.attrs['Config']['Image']} is {state['Status']} (exit code {state['ExitCode']}), "
                f"health {health}; its last output:\n{(stdout + stderr).decode(errors='replace')[-3000:]}"
            )
        time.sleep(0.5)


def start_all(containers: dict) -> None:
    """Starts the containers, then waits for all of them at once (they start side by side)."""
    for container in containers.values():
        container.start()
    with ThreadPoolExecutor(len(containers)) as pool:
        for result in [pool.submit(wait_healthy, c) for c in containers.values()]:
            result.result()


def save_logs(containers: dict, log_dir: Path) -> None:
    """Keeps each container's output beside the services' logs, for reading after a failed run."""
    log_dir.mkdir(parents=True, exist_ok=True)
    for name, container in containers.items():
        try:
            stdout, stderr = container.get_logs()
        except ContainerStartException:
            continue
        (log_dir / f"{name}-container.log").write_bytes(stdout + stderr)


class ContainersBackend:
    """Kafka and PostgreSQL from the project's images (deploy/images), started with testcontainers: host
    networking, ports chosen free for each run, removed (with their data) at stop."""

    name = "containers"

    def __init__(self, reason: str = "SMARTPICK_TEST_BACKEND=containers", log_dir: Path = TEST_STATE_DIR / "logs"):
        self.reason = reason
        self.log_dir = log_dir
        self.containers: dict = {}

    def start(self) -> Endpoints:
        use_project_engine()
        configure_testcontainers()
        missing = missing_images(INFRA_IMAGES)
        if missing:
            raise RuntimeError(f"images {missing} are missing; build them with deploy/images/build-images.sh infra")
        kafka_port, pg_port = free_port(), free_port()
        # Fresh passwords for each run's broker: its admin's and controller's, and every client user's.
        passwords = {name: secrets.token_urlsafe(24) for name in [kafka_access.ADMIN_USER, *kafka_access.users()]}
        kafka_env = {
            "KAFKA_PORT": str(kafka_port),
            "KAFKA_CONTROLLER_PORT": str(free_port()),
            "KAFKA_ADMIN_PASSWORD": passwords[kafka_access.ADMIN_USER],
            "KAFKA_CONTROLLER_PASSWORD": secrets.token_urlsafe(24),
        }
        self.containers = {
            "postgres": host_network_container("postgres", {"POSTGRES_PORT": str(pg_port)}),
            "kafka": host_network_container("kafka", kafka_env),
        }
        try:
            start_all(self.containers)
        except BaseException:
            self.stop()
            raise
        return Endpoints(
            kafka_bootstrap=f"127.0.0.1:{kafka_port}",
            database_urls=database_urls(pg_port),
            migration_database_urls=database_urls(pg_port, migration=True),
            kafka_passwords=passwords,
            identity_dir=local_ca.ensure(TEST_STATE_DIR / "identity"),
        )

    def stop_part(self, part: str, immediate: bool = False) -> None:
        """Stops "postgres" or "kafka" (immediate: SIGKILL), keeping its container and data for start_part."""
        wrapped = self.containers[part].get_wrapped_container()
        wrapped.kill() if immediate else wrapped.stop()

    def start_part(self, part: str) -> None:
        self.containers[part].get_wrapped_container().start()
        wait_healthy(self.containers[part])

    def dump_database(self, database_url: str) -> bytes:
        """pg_dump inside the PostgreSQL container (its own client, so of the server's version), as the image's
        postgres user over the container's socket."""
        command = pg_dump_command(database_url, "/var/run/postgresql")
        wrapped = self.containers["postgres"].get_wrapped_container()
        exit_code, (stdout, stderr) = wrapped.exec_run(command, user="postgres", demux=True)
        if exit_code != 0:
            raise RuntimeError(f"{' '.join(command)} exited {exit_code}: {(stderr or b'').decode(errors='replace')}")
        return stdout or b""

    def infrastructure_logs(self) -> dict[str, bytes]:
        """Each container's output so far (stop() also saves it beside the services' logs)."""
        return {f"{name}-container": b"".join(c.get_logs()) for name, c in self.containers.items()}

    def stop(self) -> None:
        try:
            save_logs(self.containers, self.log_dir)
        finally:
            for container in self.containers.values():
                container.stop()
            self.containers = {}


def automatic_backend() -> InfraBackend:
    use_project_engine()
    where = os.environ.get("DOCKER_HOST", "the default socket")
    try:
        missing = missing_images(INFRA_IMAGES)
    except Exception as error:  # any failure to reach an engine means: no engine here
        return NativeBackend(f"auto: no Docker engine answers at {where} ({type(error).__name__})")
    if missing:
        return NativeBackend(f"auto: the Docker engine at {where} lacks {', '.join(missing)}")
    return ContainersBackend(f"auto: the Docker engine at {where} answers and has the images")


BACKENDS = {"native": NativeBackend, "containers": ContainersBackend, "auto": automatic_backend}


def selected_backend() -> InfraBackend:
    name = os.environ.get("SMARTPICK_TEST_BACKEND", "auto")
    if name not in BACKENDS:
        raise ValueError(f"SMARTPICK_TEST_BACKEND={name!r}; choose one of {sorted(BACKENDS)}")
    return BACKENDS[name]()
