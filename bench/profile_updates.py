"""Benchmark: gateway profile-update throughput, and the latency from the HTTP answer to the
ProfileUpdated event being readable on Kafka (p50/p99).

Starts its own stack (Kafka, PostgreSQL, the services) in .state/bench on free ports, prints figures,
stops everything. Run: .venv/bin/python bench/profile_updates.py [--requests N] [--concurrency C] [--rate R]"""

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy/local"))
from devstack import REPO, VENV_BIN, IsolatedStack, Ports, ensure_topics, start_services

from smartpick_platform.kafka import header_map, partition_count
from smartpick_platform.topics import PROFILE_UPDATED


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


def profile(research: int) -> dict:
    return {
        "degree_type": "MD",
        "step2_ck_score": 250,
        "research_items": research,
        "preferences": {"specialties": ["Dermatology"], "application_budget": 60},
    }


class EventClock:
    """Notes when each event id becomes readable, reading every partition from the current end."""

    def __init__(self, bootstrap: str):
        self.bootstrap = bootstrap
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self.seen: dict[str, float] = {}

    async def start(self) -> None:
        await self.consumer.start()
        count = await partition_count(self.bootstrap, PROFILE_UPDATED.name)
        partitions = [TopicPartition(PROFILE_UPDATED.name, p) for p in range(count)]
        self.consumer.assign(partitions)
        await self.consumer.seek_to_end(*partitions)
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=50)
            now = time.monotonic()
            for records in batch.values():
                for record in records:
                    self.seen[header_map(record.headers)["ce_id"]] = now

    async def wait_for(self, event_ids: set[str], max_seconds: float = 120) -> None:
        deadline = time.monotonic() + max_seconds
        while not event_ids <= self.seen.keys():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(event_ids - self.seen.keys())} events never arrived")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        self.task.cancel()
        await self.consumer.stop()


async def setup_students(http: httpx.AsyncClient, operator_key: str, count: int) -> tuple[dict, list[str]]:
    school = (
        await http.post(
            "/v1/schools", json={"name": "Bench School"}, headers={"Authorization": f"Bearer {operator_key}"}
        )
    ).json()
    admin = {"Authorization": f"Bearer {school['admin_api_key']['api_key']}"}
    students = []
    for i in range(count):
        reply = await http.post(
            "/v1/students", json={"external_ref": f"bench-{i}", "display_name": f"Bench {i}"}, headers=admin
        )
        students.append(reply.json()["student_id"])
    return admin, students


SAVES_PER_STUDENT: dict[str, int] = {}


async def put(http, admin, student) -> tuple[float, str]:
    """Saves a changed profile (research_items moves by one per save), so every save is a new version."""
    SAVES_PER_STUDENT[student] = SAVES_PER_STUDENT.get(student, 0) + 1
    research = SAVES_PER_STUDENT[student] % 1000
    reply = await http.put(f"/v1/students/{student}/profile", json=profile(research), headers=admin)
    reply.raise_for_status()
    return time.monotonic(), reply.json()["event_id"]


async def throughput(http, admin, students, clock: EventClock, requests: int, concurrency: int) -> None:
    queue = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(students[i % len(students)])
    answered: list[tuple[float, str]] = []

    async def worker():
        while not queue.empty():
            answered.append(await put(http, admin, queue.get_nowait()))

    started = time.monotonic()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    http_seconds = time.monotonic() - started
    await clock.wait_for({event_id for _, event_id in answered})
    end_to_end = max(clock.seen[event_id] for _, event_id in answered) - started
    print(f"throughput: {requests} profile updates, concurrency {concurrency}")
    print(f"  HTTP answered:          {requests / http_seconds:8.1f} updates/s ({http_seconds:.2f} s)")
    print(f"  all events on Kafka:    {requests / end_to_end:8.1f} updates/s ({end_to_end:.2f} s)")


async def latency(http, admin, students, clock: EventClock, requests: int, rate: float, report: bool = True) -> None:
    tasks = []
    started = time.monotonic()
    for i in range(requests):
        await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
        tasks.append(asyncio.create_task(put(http, admin, students[i % len(students)])))
    answered = await asyncio.gather(*tasks)
    await clock.wait_for({event_id for _, event_id in answered})
    delays = [(clock.seen[event_id] - answered_at) * 1000 for answered_at, event_id in answered]
    if not report:
        return
    print(f"latency, HTTP answer -> event readable on Kafka: {requests} updates paced at {rate:.0f}/s")
    print(
        f"  p50 {percentile(delays, 0.50):7.1f} ms   p99 {percentile(delays, 0.99):7.1f} ms   max {max(delays):7.1f} ms"
    )


async def measure(base_url: str, bootstrap: str, operator_key: str, args) -> None:
    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as http:
        admin, students = await setup_students(http, operator_key, args.students)
        clock = EventClock(bootstrap)
        await clock.start()
        try:
            await latency(http, admin, students, clock, min(200, args.latency_requests), args.rate, report=False)
            clock.seen.clear()
            await throughput(http, admin, students, clock, args.requests, args.concurrency)
            await latency(http, admin, students, clock, args.latency_requests, args.rate)
        finally:
            await clock.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=50, help="paced updates per second for the latency run")
    parser.add_argument("--latency-requests", type=int, default=1000)
    parser.add_argument("--students", type=int, default=200)
    args = parser.parse_args()

    stack = IsolatedStack(REPO / ".state/bench")
    endpoints = stack.start()
    processes = []
    try:
        ensure_topics(endpoints)
        ports = Ports.free()
        processes = start_services(endpoints, ports, stack.state_dir / "logs")
        operator_key = subprocess.run(
            [str(VENV_BIN / "smartpick-gateway"), "issue-operator-key"],
            env=processes[-1].env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        asyncio.run(measure(f"http://127.0.0.1:{ports.gateway_http}", endpoints.kafka_bootstrap, operator_key, args))
    finally:
        for process in processes:
            process.stop()
        stack.stop()


if __name__ == "__main__":
    main()
