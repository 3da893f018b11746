"""What the benchmarks share: a whole stack of their own, percentiles, and a clock on a topic."""

import asyncio
import contextlib
import dataclasses
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy/local"))
from devstack import (
    REPO,
    VENV_BIN,
    Endpoints,
    IsolatedStack,
    Ports,
    ServiceProcess,
    free_port,
    set_up_kafka,
    start_services,
)

from smartpick_platform.kafka import header_map, partition_count, security_options
from smartpick_platform.topics import Topic


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


@dataclass
class BenchStack:
    endpoints: Endpoints
    ports: Ports
    processes: dict[str, ServiceProcess]
    operator_key: str
    log_dir: Path
    infra: IsolatedStack

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway_http}"


def ranking_worker_replica(stack: BenchStack, log_name: str = "ranking-worker") -> ServiceProcess:
    """One more ranking worker process (not started) beside the stack's own, on its own ops port, so its own
    static member of the ranking group."""
    ports = dataclasses.replace(stack.ports, ops={**stack.ports.ops, "ranking-worker": free_port()})
    replica = ServiceProcess("ranking-worker", stack.endpoints, ports, stack.log_dir)
    replica.log_path = stack.log_dir / f"{log_name}.log"
    return replica


UNLIMITED_RATES = {"key_rate_limit": "1000000/second", "client_rate_limit": "1000000/second"}


@contextlib.contextmanager
def bench_stack(state: str = "bench", **gateway_overrides: str) -> Iterator[BenchStack]:
    """Kafka, PostgreSQL and every service in .state/<state> on free ports; all stopped on exit.

    The benchmarks drive the stack from one address with a few keys, which is what the gateway's rate
    limits exist to stop, so they are lifted here (what the limits do is tested, not benchmarked)."""
    gateway_overrides = {**UNLIMITED_RATES, **gateway_overrides}
    stack = IsolatedStack(REPO / ".state" / state)
    endpoints = stack.start()
    # The benchmark's own Kafka clients (clocks, counts) read as the broker's admin, as an operator's tools do.
    os.environ.update(endpoints.kafka_environment())
    processes: list[ServiceProcess] = []
    try:
        set_up_kafka(endpoints)
        ports = Ports.free()
        processes = start_services(endpoints, ports, stack.state_dir / "logs", **gateway_overrides)
        operator_key = subprocess.run(
            [str(VENV_BIN / "smartpick-gateway"), "issue-operator-key"],
            env=processes[-1].env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        bench = BenchStack(
            endpoints, ports, {p.name: p for p in processes}, operator_key, stack.state_dir / "logs", stack
        )
        processes = bench.processes.values()  # with whatever a benchmark added to it
        yield bench
    finally:
        for process in processes:
            process.stop()
        stack.stop()


def by_event_id(record) -> str:
    return header_map(record.headers)["ce_id"]


class TopicClock:
    """Notes when each message becomes readable on a topic (by `key_of`), reading from the current end."""

    def __init__(self, bootstrap: str, topic: Topic, key_of: Callable = by_event_id):
        self.bootstrap = bootstrap
        self.topic = topic
        self.key_of = key_of
        self.consumer = AIOKafkaConsumer(**security_options(), bootstrap_servers=bootstrap, enable_auto_commit=False)
        self.seen: dict[str, float] = {}

    async def start(self) -> None:
        await self.consumer.start()
        count = await partition_count(self.bootstrap, self.topic.name)
        partitions = [TopicPartition(self.topic.name, p) for p in range(count)]
        self.consumer.assign(partitions)
        await self.consumer.seek_to_end(*partitions)
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=50)
            now = time.monotonic()
            for records in batch.values():
                for record in records:
                    self.seen[self.key_of(record)] = now

    async def wait_for(self, keys: set[str], max_seconds: float = 120) -> None:
        deadline = time.monotonic() + max_seconds
        while not keys <= self.seen.keys():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(keys - self.seen.keys())} messages never arrived on {self.topic.name}")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self.task.cancel()
        await self.consumer.stop()


CPU_GROUPS = [
    ("gateway", lambda cmd: "smartpick-gateway" in cmd),
    ("profile", lambda cmd: "smartpick-profile" in cmd),
    ("ranking workers", lambda cmd: "smartpick-ranking worker" in cmd),
    ("ranking api", lambda cmd: "smartpick-ranking serve" in cmd),
    ("mentorship", lambda cmd: "smartpick-mentorship" in cmd),
    ("kafka", lambda cmd: "kafka.Kafka" in cmd),
    ("postgresql", lambda cmd: cmd.split(" ", 1)[0].rstrip(":").endswith("postgres")),
]


def cpu_seconds_by_group() -> dict[str, float]:
    """CPU seconds (user + system) used so far by the live processes of each part of the stack."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals = dict.fromkeys(["this benchmark (load, clock)", *(name for name, _ in CPU_GROUPS)], 0.0)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        if int(proc.name) == os.getpid():
            totals["this benchmark (load, clock)"] += seconds
            continue
        for name, matches in CPU_GROUPS:
            if matches(cmd):
                totals[name] += seconds
                break
    return totals


class CpuMeter:
    """Share of the machine's cores each part of the stack used between start() and report()."""

    def start(self) -> None:
        self.started, self.before = time.monotonic(), cpu_seconds_by_group()

    def report(self, label: str) -> None:
        seconds = time.monotonic() - self.started
        after = cpu_seconds_by_group()
        used = {name: (after[name] - self.before.get(name, 0.0)) / seconds * 100 for name in after}
        parts = "  ".join(f"{name} {share:.0f}%" for name, share in used.items())
        print(f"  CPU during {label} (100% = one core of {os.cpu_count()}): {parts}; total {sum(used.values()):.0f}%")
