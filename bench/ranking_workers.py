"""Benchmark: ranking throughput against the number of worker processes on one topic; memory; storage per event.

N ranking worker processes (one consumer each, one consumer group, the 12 partitions of ProfileUpdated shared
among them) for N = 1 .. --max-workers (default: the machine's cores): ProfileUpdated events produced straight
to Kafka, RecommendationsGenerated readable on Kafka, events per second through Kafka and PostgreSQL. The
mentorship service consumes during the warm-up, then stops, so the workers have the cores to themselves (the
gateway and profile idle). Then the peak resident memory (VmHWM) of every process of the stack, and the bytes
each event left in Kafka's logs and in the ranking database (what storage grows by per profile save). The
Kubernetes resources, the KEDA lag threshold and docs/operations.md rest on these figures.

Starts its own stack in .state/bench. Run: .venv/bin/python bench/ranking_workers.py [--events N]"""

import argparse
import asyncio
import dataclasses
import os
import random
import time
import uuid
from pathlib import Path

import asyncpg
from common import bench_stack
from devstack import ServiceProcess, free_port
from ranking_pipeline import pipeline_rate, random_profile


def peak_memory_mib(state_dir: Path, services: list[ServiceProcess]) -> dict[str, list[float]]:
    """Peak resident set (VmHWM, MiB) of each process of this stack, by kind: the services this benchmark
    started, the Kafka broker and the PostgreSQL server's processes (the postmaster and its children)."""
    pids: dict[str, list[int]] = {}
    for service in services:
        if service.process is not None and service.process.poll() is None:
            pids.setdefault(service.name, []).append(service.process.pid)
    pids["kafka"] = [int((state_dir / "kafka/kafka.pid").read_text())]
    postmaster = int((state_dir / "postgres/data/postmaster.pid").read_text().split()[0])
    pids["postgresql (per process)"] = [postmaster, *_children(postmaster)]
    return {name: [_hwm_mib(pid) for pid in group] for name, group in pids.items()}


def kafka_bytes_by_topic(state_dir: Path) -> dict[str, int]:
    """Bytes of each topic's log segments on the broker's disk (one replica)."""
    sizes: dict[str, int] = {}
    for partition in (state_dir / "kafka/data").iterdir():
        topic, _, index = partition.name.rpartition("-")
        if partition.is_dir() and index.isdigit() and topic.startswith("smartpick."):
            sizes[topic] = sizes.get(topic, 0) + sum(f.stat().st_size for f in partition.glob("*.log"))
    return sizes


async def database_bytes(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetchval("SELECT pg_database_size(current_database())")
    finally:
        await connection.close()


def _children(pid: int) -> list[int]:
    return [int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()]


def _hwm_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000, help="events per run")
    parser.add_argument("--warmup-events", type=int, default=600, help="events first, to warm the broker and caches")
    parser.add_argument("--max-workers", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    results: list[tuple[int, float]] = []
    with bench_stack() as stack:
        bootstrap = stack.endpoints.kafka_bootstrap
        ranking_db = stack.endpoints.database_urls["ranking"]
        ranking_db_before = asyncio.run(database_bytes(ranking_db))
        tenant = str(uuid.uuid4())
        extra: list[ServiceProcess] = []
        try:
            # The warm-up runs with the mentorship service consuming both topics, so its memory is measured
            # at work; then it stops, and the workers have the cores to themselves.
            warmup = [random_profile(rng) for _ in range(args.warmup_events)]
            asyncio.run(pipeline_rate(bootstrap, tenant, warmup, "warm-up, mentorship consuming"))
            mentorship = stack.processes["mentorship"]
            mentorship_mib = _hwm_mib(mentorship.process.pid)
            mentorship.stop()
            for workers in range(1, args.max_workers + 1):
                while 1 + len(extra) < workers:
                    ports = dataclasses.replace(stack.ports, ops={**stack.ports.ops, "ranking-worker": free_port()})
                    extra.append(ServiceProcess("ranking-worker", stack.endpoints, ports, stack.log_dir).start())
                    extra[-1].wait_ready()
                time.sleep(5)  # the group rebalances onto its new members
                batch = [random_profile(rng) for _ in range(args.events)]
                results.append((workers, asyncio.run(pipeline_rate(bootstrap, tenant, batch, f"{workers} worker(s)"))))
            memory = {**peak_memory_mib(stack.log_dir.parent, [*stack.processes.values(), *extra])}
            memory["mentorship"] = [mentorship_mib]
            ranking_db_growth = asyncio.run(database_bytes(ranking_db)) - ranking_db_before
            topic_bytes = kafka_bytes_by_topic(stack.log_dir.parent)
        finally:
            for process in extra:
                process.stop()
    print(f"\nranking workers on one topic ({os.cpu_count()} cores, mentorship stopped)")
    print("  workers   events/s   per worker   speed-up")
    for workers, rate in results:
        print(f"  {workers:7d}   {rate:8.1f}   {rate / workers:10.1f}   {rate / results[0][1]:7.2f}x")
    print("peak resident memory (VmHWM) by process, MiB:")
    for name, values in sorted(memory.items()):
        print(f"  {name:28s} max {max(values):7.1f}  ({len(values)} process(es))")
    events = args.warmup_events + args.events * len(results)
    print(f"storage per event ({events} events; Kafka: one replica, before compression by retention):")
    for topic, size in sorted(topic_bytes.items()):
        print(f"  kafka {topic:42s} {size / events:8.0f} bytes")
    print(f"  ranking database growth                          {ranking_db_growth / events:8.0f} bytes")


if __name__ == "__main__":
    main()
