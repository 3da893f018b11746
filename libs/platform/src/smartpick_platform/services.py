"""The services manifest (services.toml beside this module), read once, typed.

Everything that starts the services reads its names, ports, topics and databases from here, so that moving a
port or adding a service is one edit. `python -m smartpick_platform.services` prints it as JSON for scripts."""

import json
import tomllib
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

MANIFEST = Path(__file__).with_name("services.toml")


@dataclass(frozen=True)
class Service:
    """A deployable: one package, one console script, one database it alone owns."""

    name: str
    package: str
    database: str
    outbox: bool = False  # the platform's transactional outbox lives in its database
    web_app: bool = False  # it serves the web app (web/dist), so its image carries the build

    @property
    def command(self) -> str:
        return self.package

    @property
    def runtime_role(self) -> str:
        """The role the service's processes connect as: DML on its tables, no ownership, no BYPASSRLS."""
        return self.database

    @property
    def migration_role(self) -> str:
        """The role that owns the service's database and tables and applies its migrations."""
        return f"{self.database}_owner"

    @property
    def env_prefix(self) -> str:
        return f"SMARTPICK_{self.name.upper().replace('-', '_')}_"


@dataclass(frozen=True)
class Process:
    """One kind of running process of a service (a Deployment in Kubernetes, a child of the dev launcher)."""

    name: str
    service: str
    args: tuple[str, ...]
    ports: dict[str, int]
    health_port: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    calls: tuple[str, ...]
    consumer_group: str | None = None

    @property
    def grpc_port(self) -> int | None:
        return self.ports.get("grpc_port")

    @property
    def health(self) -> int:
        return self.ports[self.health_port]


@dataclass(frozen=True)
class Partner:
    """A partner system: reads the topics it was granted, in consumer groups of its own name's prefix."""

    name: str
    reads: tuple[str, ...]


@dataclass(frozen=True)
class Manifest:
    services: dict[str, Service]
    processes: dict[str, Process]
    partners: dict[str, Partner]

    def process(self, name: str) -> Process:
        try:
            return self.processes[name]
        except KeyError:
            raise KeyError(f"no process {name!r} in {MANIFEST.name}; known: {', '.join(self.processes)}") from None

    def port(self, process: str, key: str) -> int:
        return self.process(process).ports[key]

    def grpc_target(self, process: str, host: str = "127.0.0.1") -> str:
        return f"{host}:{self.port(process, 'grpc_port')}"

    def processes_of(self, service: str) -> list[Process]:
        return [p for p in self.processes.values() if p.service == service]

    def callers_of(self, service: str) -> frozenset[str]:
        """The services with a process that calls one of `service`'s: the only clients its gRPC port serves."""
        served = {p.name for p in self.processes_of(service)}
        return frozenset(p.service for p in self.processes.values() if served & set(p.calls))


def parse(document: dict) -> Manifest:
    services = {name: Service(name=name, **fields) for name, fields in document["services"].items()}
    processes = {}
    for name, fields in document["processes"].items():
        process = Process(
            name=name,
            **{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()},
        )
        if process.service not in services:
            raise ValueError(f"process {name!r} names unknown service {process.service!r}")
        if process.health_port not in process.ports:
            raise ValueError(f"process {name!r}: health_port {process.health_port!r} is not one of its ports")
        processes[name] = process
    for process in processes.values():
        for callee in process.calls:
            if processes.get(callee) is None or processes[callee].grpc_port is None:
                raise ValueError(f"process {process.name!r} calls {callee!r}, which serves no gRPC port")
    partners = {name: Partner(name, tuple(fields["reads"])) for name, fields in document.get("partners", {}).items()}
    return Manifest(services, processes, partners)


@cache
def manifest() -> Manifest:
    return parse(tomllib.loads(MANIFEST.read_text()))


def port(process: str, key: str) -> int:
    """A default port of the settings: `grpc_port: int = services.port("profile", "grpc_port")`."""
    return manifest().port(process, key)


def grpc_target(process: str) -> str:
    """A default gRPC target of the settings, on this machine."""
    return manifest().grpc_target(process)


def main() -> None:
    current = manifest()
    print(
        json.dumps(
            {
                "services": {n: {**asdict(s), "command": s.command} for n, s in current.services.items()},
                "processes": {n: asdict(p) for n, p in current.processes.items()},
                "partners": {n: asdict(p) for n, p in current.partners.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
