"""Benchmark: gateway profile-update throughput, and the latency from the HTTP answer to the
ProfileUpdated event being readable on Kafka (p50/p99).

Starts its own stack (Kafka, PostgreSQL, the services) in .state/bench on free ports, prints figures,
stops everything. Run: .venv/bin/python bench/profile_updates.py [--requests N] [--concurrency C] [--rate R]"""

import argparse
import asyncio
import time

import httpx
from common import TopicClock, bench_stack, percentile

from smartpick_platform.topics import PROFILE_UPDATED


def profile(research: int) -> dict:
    return {
        "degree_type": "MD",
        "step2_ck_score": 250,
        "research_items": research,
        "preferences": {"specialties": ["Dermatology"], "application_budget": 60},
    }


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


async def throughput(http, admin, students, clock: TopicClock, requests: int, concurrency: int) -> None:
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


async def latency(http, admin, students, clock: TopicClock, requests: int, rate: float, report: bool = True) -> None:
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
        clock = TopicClock(bootstrap, PROFILE_UPDATED)
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
    with bench_stack() as stack:
        asyncio.run(measure(stack.base_url, stack.endpoints.kafka_bootstrap, stack.operator_key, args))


if __name__ == "__main__":
    main()
