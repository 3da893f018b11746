"""Chaos run: profile updates through the gateway at a steady rate while one fault at a time hits the real
stack, then, once it drained, what was lost, orphaned or duplicated, and how long recovery took.

Faults (one run each): none; kill -9 of the gateway every 15 s; kill -9 of the ranking worker every 10 s;
kill -9 of one of two supervised ranking worker processes (`worker --workers 2`) every 10 s;
kill -9 of the profile service every 15 s; PostgreSQL stopped as in a crash (immediate) and started again
every 60 s; the Kafka broker killed (SIGKILL) and kept down for a while (2 minutes by default).

The client is a demanding one: an update not answered 2xx is retried with its Idempotency-Key for up to
30 s. Acknowledged = answered 2xx. Per run it prints: updates acknowledged, versions stored, distinct
ProfileUpdated and RecommendationsGenerated events, lost (acknowledged versions with no
RecommendationsGenerated), orphans (stored versions with no ProfileUpdated), visible duplicates (a version
with two different RecommendationsGenerated event ids, or with two open mentor matches: the run drafts and
publishes mentorship rounds through the gateway every 15 s), dead letters, service restarts the launcher made,
the seconds after the fault and the load ended until the outbox backlog and the ranking group's lag were zero,
and the seconds after the fault ended until the stack kept up again (at most one second of load waiting in the
outbox and in the lag: for a fault that ends before the load, such as the Kafka outage, its recovery), with
the share of the cores each part of the stack used meanwhile.

--ranking-replicas N runs N ranking worker processes side by side, as an operator scales them (each its own
group member and ops port); the ranking-worker fault then kills one of them. Default 1.

Starts its own stack in .state/chaos on free ports. Exits 1 if anything was lost, orphaned or duplicated.
Run: .venv/bin/python bench/chaos.py [--updates N] [--rate R] [--faults none,gateway,...] [--short]"""

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import chaos_count as count
import httpx
from common import BenchStack, CpuMeter, bench_stack, ranking_worker_replica

FAULTS = ("none", "gateway", "ranking-worker", "ranking-child", "profile", "postgres", "kafka")
SUPERVISED_WORKERS = ("worker", "--workers", "2")
RETRY_SECONDS = 30.0
# Mentorship during every run: each school has mentors; before each round a few more of its students ask for
# one, then the round is drafted and published, so matches are made while the fault hits.
MENTORS_PER_SCHOOL = 5
MENTOR_CAPACITY = 20
ROUND_EVERY_SECONDS = 15.0
ASKING_PER_ROUND = 5


@dataclass
class Run:
    fault: str
    tenants: set[str] = field(default_factory=set)
    acknowledged: set[count.Version] = field(default_factory=set)
    gave_up: int = 0
    restarts: int = 0
    fault_ended: float = 0.0
    schools: list[tuple[dict, list[str]]] = field(default_factory=list)  # (admin headers, its students)
    rounds: int = 0
    rounds_failed: int = 0


def profile(research: int) -> dict:
    return {
        "degree_type": "MD",
        "step2_ck_score": 245,
        "research_items": research,
        "preferences": {"specialties": ["Internal Medicine"], "application_budget": 40},
    }


async def setup_schools(http: httpx.AsyncClient, operator_key: str, schools: int, students: int, run: Run):
    """The run's schools and students: (student id, its school's admin headers)."""
    pairs = []
    for s in range(schools):
        reply = await http.post(
            "/v1/schools", json={"name": f"Chaos {run.fault} {s}"}, headers={"Authorization": f"Bearer {operator_key}"}
        )
        reply.raise_for_status()
        school = reply.json()
        run.tenants.add(school["school_id"])
        admin = {"Authorization": f"Bearer {school['admin_api_key']['api_key']}"}
        for i in range(students):
            made = await http.post(
                "/v1/students", json={"external_ref": f"c{i}", "display_name": f"Chaos {i}"}, headers=admin
            )
            made.raise_for_status()
            pairs.append((made.json()["student_id"], admin))
        for m in range(MENTORS_PER_SCHOOL):
            mentor = {
                "display_name": f"Dr Chaos {m}",
                "specialty": "Internal Medicine",
                "state": "CA",
                "capacity": MENTOR_CAPACITY,
            }
            (await http.post("/v1/mentorship/mentors", json=mentor, headers=admin)).raise_for_status()
        run.schools.append((admin, [student for student, headers in pairs if headers is admin]))
    return pairs


async def update(http: httpx.AsyncClient, student: str, admin: dict, research: int, run: Run) -> None:
    """One update, retried with its Idempotency-Key until answered 2xx or RETRY_SECONDS passed."""
    headers = {**admin, "Idempotency-Key": str(uuid.uuid4())}
    deadline = time.monotonic() + RETRY_SECONDS
    while time.monotonic() < deadline:
        try:
            reply = await http.put(f"/v1/students/{student}/profile", json=profile(research), headers=headers)
            if reply.status_code == 202:
                run.acknowledged.add((student, reply.json()["version"]))
                return
            if reply.status_code < 500 and reply.status_code != 429:
                raise RuntimeError(f"update refused: {reply.status_code} {reply.text}")
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.5)
    run.gave_up += 1


async def retried(http: httpx.AsyncClient, method: str, url: str, **options) -> httpx.Response | None:
    """The call, again while it gets no answer, a 5xx or a 429, for up to RETRY_SECONDS; None if it never
    got one. A 4xx other than 429 is a mistake of this script and raises."""
    deadline = time.monotonic() + RETRY_SECONDS
    while time.monotonic() < deadline:
        try:
            reply = await http.request(method, url, **options)
            if reply.status_code < 400:
                return reply
            if reply.status_code < 500 and reply.status_code != 429:
                raise RuntimeError(f"{method} {url} refused: {reply.status_code} {reply.text}")
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.5)
    return None


async def mentorship_rounds(http: httpx.AsyncClient, run: Run, stop: asyncio.Event) -> None:
    """Until `stop`: every ROUND_EVERY_SECONDS, per school, a few more students ask for a mentor, then a round
    is drafted and published (a round that never got an answer counts in `rounds_failed`)."""
    asked = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), ROUND_EVERY_SECONDS)
        for admin, students in run.schools:
            for student in students[asked : asked + ASKING_PER_ROUND]:
                body = {"goals": ["interviews"], "preferred_specialties": ["Internal Medicine"]}
                await retried(http, "PUT", f"/v1/students/{student}/mentorship-request", json=body, headers=admin)
            drafted = await retried(http, "POST", "/v1/mentorship/rounds", headers=admin)
            published = drafted and await retried(
                http, "POST", f"/v1/mentorship/rounds/{drafted.json()['round_id']}/publish", headers=admin
            )
            run.rounds += 1
            run.rounds_failed += published is None
        asked += ASKING_PER_ROUND


async def load(http, pairs, updates: int, rate: float, run: Run) -> None:
    """`updates` changes paced at `rate`/s, round-robin over the students; each changes research_items."""
    tasks = []
    started = time.monotonic()
    for i in range(updates):
        await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
        student, admin = pairs[i % len(pairs)]
        tasks.append(asyncio.create_task(update(http, student, admin, i // len(pairs) + 1, run)))
    await asyncio.gather(*tasks)


async def restart(stack: BenchStack, name: str) -> None:
    """kill -9 and start again with no await between, so `supervise` never sees it down (it would start a
    second one); then wait, off the event loop, until it is ready."""
    process = stack.processes[name]
    process.kill()
    process.start()
    await asyncio.to_thread(process.wait_ready, 120)


def children(pid: int | str) -> list[str]:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


def kill_a_worker_child(stack: BenchStack) -> None:
    """kill -9 of one of the worker processes `worker --workers 2` supervises (its supervisor restarts it):
    the children its fork server forked (or, spawned, its own children running spawn_main)."""
    workers = []
    for pid in children(stack.processes["ranking-worker"].process.pid):
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"forkserver" in command:
            workers += children(pid)
        elif b"spawn_main" in command:
            workers.append(pid)
    if not workers:
        raise RuntimeError("no ranking worker process to kill under `worker --workers 2`")
    os.kill(int(workers[0]), signal.SIGKILL)


async def use_ranking_workers(stack: BenchStack, arguments: tuple[str, ...]) -> None:
    process = stack.processes["ranking-worker"]
    if process.arguments != arguments:
        process.arguments = arguments
        process.stop()
        process.start()
        await asyncio.to_thread(process.wait_ready, 120)


async def inject(stack: BenchStack, fault: str, args, stop: asyncio.Event, run: Run) -> None:
    """Hits the stack with `fault` until `stop` (a Kafka outage lasts its full length)."""
    every = {
        "gateway": 15.0,
        "ranking-worker": 10.0,
        "ranking-child": 10.0,
        "profile": 15.0,
        "postgres": args.postgres_every,
    }
    if fault == "kafka":
        await asyncio.sleep(5)
        stack.infra.stop_part("kafka", immediate=True)
        await asyncio.sleep(args.kafka_down)
        await asyncio.to_thread(stack.infra.start_part, "kafka")
    elif fault in every:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every[fault] if fault != "postgres" else args.postgres_first)
            if stop.is_set():
                break
            if fault == "postgres":
                stack.infra.stop_part("postgres", immediate=True)
                await asyncio.sleep(2)
                await asyncio.to_thread(stack.infra.start_part, "postgres")
                args.postgres_first = every["postgres"]
            elif fault == "ranking-child":
                kill_a_worker_child(stack)
            else:
                await restart(stack, fault)
    run.fault_ended = time.monotonic()


async def supervise(stack: BenchStack, run: Run) -> None:
    """What systemd or Kubernetes would do: a service process that exited is started again."""
    while True:
        for name, process in stack.processes.items():
            if process.process.poll() is not None:
                run.restarts += 1
                print(f"    {name} exited ({process.process.returncode}); starting it again", flush=True)
                process.start()
                await asyncio.to_thread(process.wait_ready, 120)
        await asyncio.sleep(0.5)


def _backlog_and_lag(stack: BenchStack) -> tuple[Callable[[], Awaitable[int]], Callable[[], Awaitable[int]]]:
    """Probes of what waits: rows in the profile outbox, and messages in the ranking group's lag."""
    return (
        lambda: count.outbox_backlog(stack.endpoints.database_urls["profile"]),
        lambda: count.ranking_lag(stack.endpoints.kafka_bootstrap),
    )


async def _first_time(probes: Sequence[Callable[[], Awaitable[int]]], limit: float, deadline: float) -> float | None:
    """The first moment (time.monotonic) every probe reads at most `limit`, polled every half second; None if
    not before `deadline`."""
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # the stack may still be coming back
            for probe in probes:  # in order, the next only when this one is within the limit
                if await probe() > limit:
                    break
            else:
                return time.monotonic()
        await asyncio.sleep(0.5)
    return None


async def drained_after(stack: BenchStack, run: Run, within: float) -> tuple[float, float]:
    """Seconds after the fault and the load ended until the outbox backlog, then the ranking lag, were zero."""
    backlog, lag = _backlog_and_lag(stack)
    deadline = time.monotonic() + within
    backlog_zero = await _first_time([backlog], 0, deadline)
    lag_zero = await _first_time([lag], 0, deadline) if backlog_zero is not None else None
    since = run.fault_ended
    return (
        (backlog_zero - since) if backlog_zero else float("inf"),
        (lag_zero - since) if lag_zero else float("inf"),
    )


async def caught_up_after(stack: BenchStack, run: Run, injector: asyncio.Task, rate: float, within: float) -> float:
    """Seconds after the fault itself ended (a fault that repeats ends with the load) until the stack kept up
    again: at most one second of load (`rate` updates) waiting in the outbox and in the ranking group's lag.
    While the load goes on neither is ever exactly zero; this is the recovery a load that continues sees."""
    await injector
    ended = run.fault_ended
    meter = CpuMeter()  # where the cores go while the stack catches up
    meter.start()
    kept_up = await _first_time(_backlog_and_lag(stack), rate, time.monotonic() + within)
    meter.report(f"{run.fault}: from the fault's end until the stack kept up again")
    return (kept_up - ended) if kept_up is not None else float("inf")


async def one_run(stack: BenchStack, fault: str, args) -> dict:
    run = Run(fault)
    # ranking-child: the ranking worker as `worker --workers 2`, whose own supervisor restarts a killed child.
    await use_ranking_workers(stack, SUPERVISED_WORKERS if fault == "ranking-child" else ("worker",))
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=10, limits=limits) as http:
        pairs = await setup_schools(http, stack.operator_key, args.schools, args.students, run)
        dlq_before = await count.dead_letters(stack.endpoints.kafka_bootstrap)
        stop = asyncio.Event()
        launcher = asyncio.create_task(supervise(stack, run))
        injector = asyncio.create_task(inject(stack, fault, args, stop, run))
        caught_up = asyncio.create_task(caught_up_after(stack, run, injector, args.rate, args.drain_timeout))
        rounds = asyncio.create_task(mentorship_rounds(http, run, stop))
        started = time.monotonic()
        await load(http, pairs, args.updates, args.rate, run)
        load_seconds = time.monotonic() - started
        stop.set()
        await injector
        run.fault_ended = max(run.fault_ended, time.monotonic())  # the fault, or the load, whichever ended last
        backlog_s, lag_s = await drained_after(stack, run, args.drain_timeout)
        caught_up_s = await caught_up
        await rounds  # its last round runs while the stack drains
        launcher.cancel()
        await asyncio.gather(launcher, return_exceptions=True)
    # The ranking lag is zero; give the last RecommendationsGenerated a moment to be readable everywhere.
    await asyncio.sleep(2)
    topics = await count.read_topics(stack.endpoints.kafka_bootstrap, run.tenants)
    stored = await count.stored_versions(stack.endpoints.database_urls["profile"], run.tenants)
    dead = await count.dead_letters(stack.endpoints.kafka_bootstrap) - dlq_before
    matches = await count.open_matches(stack.endpoints.database_urls["mentorship"], run.tenants)
    return {
        "fault": fault,
        "acked": len(run.acknowledged),
        "gave up": run.gave_up,
        "stored": len(stored),
        "ProfileUpdated": len(topics.profile_updated),
        "Recommendations": len(topics.recommendations),
        "lost": len(run.acknowledged - topics.recommendations.keys()),
        "orphans": len(stored - topics.profile_updated.keys()),
        "duplicates": sum(len(ids) > 1 for ids in topics.recommendations.values()),
        "rounds": f"{run.rounds - run.rounds_failed}/{run.rounds}",
        "open matches": sum(matches.values()),
        "match duplicates": sum(n > 1 for n in matches.values()),
        "dead letters": dead,
        "set aside": await count.outbox_set_aside(stack.endpoints.database_urls["profile"], run.tenants),
        "restarts": run.restarts,
        "rate/s": round(len(run.acknowledged) / load_seconds, 1),
        "outbox 0 after s": round(backlog_s, 1),
        "lag 0 after s": round(lag_s, 1),
        "kept up after s": round(caught_up_s, 1),
    }


def print_table(rows: list[dict]) -> None:
    columns = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in columns]
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row[c]).rjust(w) for c, w in zip(columns, widths, strict=True)))


def add_ranking_replicas(stack: BenchStack, replicas: int) -> None:
    """Ranking worker processes beside the stack's own, each on its own ops port (so its own static group
    member), in `stack.processes` so that `supervise` restarts them too."""
    for k in range(2, replicas + 1):
        replica = ranking_worker_replica(stack, f"ranking-worker-{k}")
        stack.processes[f"ranking-worker-{k}"] = replica.start().wait_ready(120)


async def chaos(stack: BenchStack, args) -> list[dict]:
    add_ranking_replicas(stack, args.ranking_replicas)
    rows = []
    for fault in args.faults:
        print(f"run: {fault} ({args.updates} updates at {args.rate:.0f}/s)", flush=True)
        rows.append(await one_run(stack, fault, args))
        print_table(rows[-1:])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=150.0)
    parser.add_argument("--schools", type=int, default=3)
    parser.add_argument("--students", type=int, default=100, help="per school")
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--kafka-down", type=float, default=120.0, help="seconds the broker stays down")
    parser.add_argument("--postgres-every", type=float, default=60.0)
    parser.add_argument("--postgres-first", type=float, default=20.0, help="seconds into the run of the first stop")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--ranking-replicas", type=int, default=1, help="ranking worker processes side by side")
    parser.add_argument("--short", action="store_true", help="the version `make test` runs: fewer, shorter runs")
    args = parser.parse_args()
    if args.short:
        args.updates, args.rate, args.students, args.kafka_down = 300, 30.0, 10, 10.0
        args.postgres_first = 5.0
    args.faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    unknown = set(args.faults) - set(FAULTS)
    if unknown:
        parser.error(f"unknown faults {sorted(unknown)}; choose from {', '.join(FAULTS)}")
    with bench_stack("chaos") as stack:
        rows = asyncio.run(chaos(stack, args))
    print("\nall runs:")
    print_table(rows)
    failed = [r["fault"] for r in rows if r["lost"] or r["orphans"] or r["duplicates"] or r["match duplicates"]]
    if failed:
        print(f"FAILED: lost, orphaned or duplicated updates in the runs {failed}")
        sys.exit(1)


if __name__ == "__main__":
    main()
