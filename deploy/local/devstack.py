"""Runs Smart Pick natively: the infrastructure (stack.sh), the topics, the four services, demo data.

`python deploy/local/devstack.py run` is what `make run` calls. The integration tests import the same
pieces (ServiceProcess, service_commands) so that what they test is how the stack really starts."""

import argparse
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from smartpick_platform import kafka_access, local_ca, services
from smartpick_platform.kafka import security_options
from smartpick_platform.kafka_access import ADMIN_USER
from smartpick_platform.settings import KafkaSecuritySettings

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "deploy/local/stack.sh"
VENV_BIN = Path(sys.executable).parent
MANIFEST = services.manifest()
SERVICES = tuple(MANIFEST.services)
MAX_RESTARTS = 5  # per process and `make run`: past that, something needs a person


@dataclass(frozen=True)
class Endpoints:
    """Where the infrastructure answers, and with which passwords: what every backend (native, containers)
    provides. `kafka_passwords` has the broker admin's and every user's of smartpick_platform.kafka_access;
    `identity_dir` is the folder of the local CA that issues the services' certificates (local_ca.py)."""

    kafka_bootstrap: str
    database_urls: dict[str, str]  # per service, as its runtime role (what its processes serve with)
    migration_database_urls: dict[str, str]  # per service, as its migration role (the owner of its tables)
    kafka_passwords: dict[str, str]
    identity_dir: Path

    def kafka_security(self, user: str = ADMIN_USER) -> KafkaSecuritySettings:
        return KafkaSecuritySettings(
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="SCRAM-SHA-512",
            sasl_username=user,
            sasl_password=self.kafka_passwords[user],
        )

    def kafka_environment(self, user: str = ADMIN_USER) -> dict[str, str]:
        """The settings (SMARTPICK_KAFKA_*) of a Kafka client that authenticates as `user`."""
        security = self.kafka_security(user)
        return {
            "SMARTPICK_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "SMARTPICK_KAFKA_SECURITY_PROTOCOL": security.security_protocol,
            "SMARTPICK_KAFKA_SASL_MECHANISM": security.sasl_mechanism,
            "SMARTPICK_KAFKA_SASL_USERNAME": user,
            "SMARTPICK_KAFKA_SASL_PASSWORD": security.sasl_password.get_secret_value(),
        }

    def kafka_options(self, user: str = ADMIN_USER) -> dict:
        """aiokafka's arguments for a client of `user` (bootstrap_servers included)."""
        return {"bootstrap_servers": self.kafka_bootstrap, **security_options(self.kafka_security(user))}


@dataclass(frozen=True)
class Ports:
    """Where each process listens: its gRPC port, and the HTTP port of its health checks (the gateway's is its
    public HTTP port). The defaults are the manifest's, the ports of `make run`."""

    gateway_http: int = MANIFEST.port("gateway", "http_port")
    grpc: dict[str, int] = field(default_factory=lambda: _manifest_ports(grpc=True))
    ops: dict[str, int] = field(default_factory=lambda: _manifest_ports(grpc=False))

    @classmethod
    def free(cls) -> "Ports":
        """Ports nobody listens on now, so a test stack never collides with a running one."""
        return cls(
            gateway_http=free_port(),
            grpc={name: free_port() for name in _manifest_ports(grpc=True)},
            ops={name: free_port() for name in _manifest_ports(grpc=False)},
        )

    def port(self, process: str, key: str) -> int:
        """The port a process's settings field `key` (a key of its manifest ports) gets."""
        if key == "grpc_port":
            return self.grpc[process]
        return self.gateway_http if process == "gateway" else self.ops[process]


def _manifest_ports(grpc: bool) -> dict[str, int]:
    if grpc:
        return {p.name: p.grpc_port for p in MANIFEST.processes.values() if p.grpc_port is not None}
    return {p.name: p.health for p in MANIFEST.processes.values() if p.name != "gateway"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def native_endpoints(env: dict[str, str]) -> Endpoints:
    """Reads `stack.sh env` for the stack whose state dir and ports `env` names."""
    out = subprocess.run([str(STACK), "env"], env=env, check=True, capture_output=True, text=True).stdout
    values = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines() if line.startswith("export "))
    values = {k: shlex.split(v)[0] for k, v in values.items()}
    if "SMARTPICK_KAFKA_SASL_PASSWORD" not in values:
        raise RuntimeError("Kafka's admin password is not there yet: start the stack first (stack.sh start)")
    users_file = Path(values["SMARTPICK_KAFKA_SECRETS_DIR"]) / "users.json"
    state_dir = Path(env.get("SMARTPICK_STATE_DIR", REPO / ".state"))
    return Endpoints(
        kafka_bootstrap=values["SMARTPICK_KAFKA_BOOTSTRAP"],
        database_urls={s: values[f"SMARTPICK_{s.upper()}_DATABASE_URL"] for s in SERVICES},
        migration_database_urls={s: values[f"SMARTPICK_{s.upper()}_MIGRATION_DATABASE_URL"] for s in SERVICES},
        kafka_passwords={
            ADMIN_USER: values["SMARTPICK_KAFKA_SASL_PASSWORD"],
            **kafka_access.load_or_create_passwords(users_file, list(kafka_access.users())),
        },
        identity_dir=local_ca.ensure(state_dir / "identity"),
    )


class IsolatedStack:
    """Kafka and PostgreSQL in a fresh state dir on free ports (tests, benchmarks): never touches the
    `make run` stack or a previous run's data."""

    def __init__(self, state_dir: Path):
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

    def stop_part(self, part: str, immediate: bool = False) -> None:
        """Stops "postgres" (immediate: as in a crash) or "kafka" (immediate: SIGKILL of the broker)."""
        if part == "kafka" and immediate:
            os.kill(int((self.state_dir / "kafka/kafka.pid").read_text()), signal.SIGKILL)
            return
        env = {**self.env, "SMARTPICK_PG_STOP_MODE": "immediate" if immediate else "fast"}
        subprocess.run([str(STACK), "stop", part], env=env, check=True, capture_output=True)

    def start_part(self, part: str) -> None:
        subprocess.run([str(STACK), "start", part], env=self.env, check=True, capture_output=True)


def service_environment(service: str, endpoints: Endpoints, ports: Ports, **overrides: str) -> dict[str, str]:
    """The environment every process of `service` reads: the infrastructure, its ports, whom it calls. No Kafka
    credentials: each process gets its own user's (process_environment)."""
    prefix = MANIFEST.services[service].env_prefix
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SMARTPICK_KAFKA_")},
        "SMARTPICK_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        f"{prefix}DATABASE_URL": endpoints.database_urls[service],
        f"{prefix}MIGRATION_DATABASE_URL": endpoints.migration_database_urls[service],
        **local_ca.tls_environment(endpoints.identity_dir, service),
    }
    for process in MANIFEST.processes_of(service):
        env.update({f"{prefix}{key.upper()}": str(ports.port(process.name, key)) for key in process.ports})
        for callee in process.calls:
            env[f"{prefix}{callee.upper()}_GRPC_TARGET"] = f"127.0.0.1:{ports.grpc[callee]}"
    env.update({f"{prefix}{k.upper()}": v for k, v in overrides.items()})
    return env


def process_environment(name: str, endpoints: Endpoints, ports: Ports, **overrides: str) -> dict[str, str]:
    """A process's environment: its service's, and the Kafka credentials of its own user if it uses Kafka."""
    env = service_environment(MANIFEST.process(name).service, endpoints, ports, **overrides)
    user = kafka_access.client_user(name)
    return env | endpoints.kafka_environment(user) if user else env


# The processes a stack runs, in start order: (name, the service whose settings it reads, its arguments).
PROCESSES = tuple((p.name, p.service, p.args) for p in MANIFEST.processes.values())


def ready_url(name: str, ports: Ports) -> str:
    return f"http://127.0.0.1:{ports.port(name, MANIFEST.process(name).health_port)}/readyz"


class ServiceProcess:
    """One service as a child process, its output in a log file, started and stopped like production would."""

    def __init__(self, name: str, endpoints: Endpoints, ports: Ports, log_dir: Path, **overrides: str):
        _, self.service, self.arguments = next(p for p in PROCESSES if p[0] == name)
        self.name = name
        self.ports = ports
        self.env = process_environment(name, endpoints, ports, **overrides)
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "ServiceProcess":
        command = [str(VENV_BIN / MANIFEST.services[self.service].command), *self.arguments]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.pid_path.parent.mkdir(parents=True, exist_ok=True)
        self.pid_path.write_text(str(self.process.pid))
        return self

    @property
    def pid_path(self) -> Path:
        return self.log_path.parent.parent / "pids" / f"{self.name}.pid"

    def wait_ready(self, timeout: float = 60) -> "ServiceProcess":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(ready_url(self.name, self.ports), timeout=2) as reply:
                    if reply.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready after {timeout}s; see {self.log_path}")

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM and wait for the graceful stop; SIGKILL only past the timeout."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def set_up_kafka(endpoints: Endpoints) -> None:
    """As the broker's admin: the declared topics, then each client's user and ACLs (smartpick_platform.
    kafka_access)."""
    subprocess.run(
        [str(VENV_BIN / "python"), "-m", "smartpick_platform.topics", "--bootstrap", endpoints.kafka_bootstrap],
        env={**os.environ, **endpoints.kafka_environment(ADMIN_USER)},
        check=True,
    )
    kafka_access.apply(endpoints.kafka_bootstrap, endpoints.kafka_security(ADMIN_USER), endpoints.kafka_passwords)


def import_catalog(endpoints: Endpoints, ports: Ports) -> None:
    """The ranking service's program catalog (idempotent: a refresh when already there)."""
    subprocess.run(
        [str(VENV_BIN / "smartpick-ranking"), "import-catalog"],
        env=service_environment("ranking", endpoints, ports),
        check=True,
    )


def start_services(endpoints: Endpoints, ports: Ports, log_dir: Path, **gateway_overrides: str) -> list[ServiceProcess]:
    """Starts every process and waits until each answers /readyz; the gateway last, as it calls the others."""
    import_catalog(endpoints, ports)
    started: list[ServiceProcess] = []
    try:
        for name, *_ in PROCESSES:
            if name != "gateway":
                started.append(ServiceProcess(name, endpoints, ports, log_dir).start())
        for process in started:
            process.wait_ready()
        started.append(ServiceProcess("gateway", endpoints, ports, log_dir, **gateway_overrides).start())
        started[-1].wait_ready()
    except BaseException:
        for process in started:
            process.stop()
        raise
    return started


def run() -> None:
    subprocess.run([str(STACK), "start"], check=True)
    endpoints = native_endpoints(dict(os.environ))
    set_up_kafka(endpoints)
    ports = Ports()
    log_dir = REPO / ".state/logs"
    processes: list[ServiceProcess] = []
    stop_requested = False

    def request_stop(*_):
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        processes = start_services(endpoints, ports, log_dir)
        base_url = f"http://127.0.0.1:{ports.gateway_http}"
        subprocess.run(
            [str(VENV_BIN / "python"), str(REPO / "deploy/local/demo_data.py"), "--base-url", base_url],
            env=service_environment("gateway", endpoints, ports),
            check=True,
        )
        print(f"\nSmart Pick is running at {base_url}  (API docs: {base_url}/docs, logs: {log_dir})")
        print(f"Try it:  {(REPO / '.state/demo/curl-example.txt').read_text().strip()}")
        print("Press Ctrl-C to stop everything.", flush=True)
        restarts = dict.fromkeys((p.name for p in processes), 0)
        while not stop_requested:
            # A supervisor, as systemd or Kubernetes would be: a process that died is started again.
            for process in processes:
                if process.process.poll() is None:
                    continue
                restarts[process.name] += 1
                if restarts[process.name] > MAX_RESTARTS:
                    print(f"{process.name} keeps stopping; see {process.log_path}", file=sys.stderr)
                    request_stop()
                    break
                print(f"{process.name} stopped ({process.process.returncode}); starting it again", file=sys.stderr)
                process.start()
            time.sleep(0.5)
    finally:
        print("Stopping services...", flush=True)
        for process in reversed(processes):
            process.stop()
            process.pid_path.unlink(missing_ok=True)
        subprocess.run([str(STACK), "stop"], check=False)


def stop() -> None:
    """Stops services left by a `run` that could not clean up (killed hard), then the infrastructure."""
    for pid_file in (REPO / ".state/pids").glob("*.pid"):
        try:
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
            print(f"stopped {pid_file.stem}")
        except (ProcessLookupError, ValueError):
            pass
        pid_file.unlink()
    subprocess.run([str(STACK), "stop"], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["run", "stop"])
    {"run": run, "stop": stop}[parser.parse_args().command]()


if __name__ == "__main__":
    main()
