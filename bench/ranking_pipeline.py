"""Benchmark, in one run: the ranking model's raw scoring rate, end-to-end latency, and the pipeline's rate.

1. raw: the model alone, ONNX (onnxruntime) beside native LightGBM on the same batch (bench/ranking_scoring.py,
   which retrains the native models first, a few minutes); then profiles per second through the worker's
   whole computation (features for every candidate at each signal level and counterfactual, the model calls,
   the list and signal plan, reasons), in process, no I/O, one thread; and the signal plan's own cost (the
   plan with the specialty's signals against the list alone, on the same chances);
2. latency, on the whole system as `make run` starts it (gateway, profile, one ranking worker, mentorship;
   --latency-workers 2 adds a second worker): from the HTTP answer of
   a profile update to RecommendationsGenerated readable by a consumer, paced at --rate updates per second
   (p50/p99), after a warm-up at the same rate; with the CPU share each part of the stack used;
3. pipeline: sustained ProfileUpdated -> RecommendationsGenerated events per second through Kafka and
   PostgreSQL, with two workers, then with one (the mentorship service stopped).

Starts its own stack in .state/bench. Run: .venv/bin/python bench/ranking_pipeline.py [--events N] [--rate R]"""

import argparse
import asyncio
import random
import time
import uuid

import aiohttp
import httpx
import numpy as np
import ranking_scoring
from aiokafka import AIOKafkaProducer
from common import CpuMeter, TopicClock, bench_stack, percentile, ranking_worker_replica
from smartpick.events.v1 import profile_events_pb2
from smartpick.profile.v1 import profile_pb2

from smartpick_platform.kafka import cloudevent_headers, security_options
from smartpick_platform.topics import PROFILE_UPDATED, RECOMMENDATIONS_GENERATED
from smartpick_ranking.adapters.messages import recommendations_event_id
from smartpick_ranking.adapters.onnx_model import OnnxModel
from smartpick_ranking.data import load_fee_schedule, load_programs, load_specialty_stats
from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.features import build_features
from smartpick_ranking.domain.optimize import optimal_portfolio, plan
from smartpick_ranking.domain.preferences import preference_values
from smartpick_ranking.domain.recommend import candidates, recommend

SPECIALTIES = ["Dermatology", "Orthopaedic Surgery", "Internal Medicine", "Emergency Medicine", "Psychiatry"]


def random_profile(rng: random.Random) -> profile_pb2.ApplicantProfile:
    return profile_pb2.ApplicantProfile(
        degree_type=rng.choice([profile_pb2.DEGREE_TYPE_MD] * 3 + [profile_pb2.DEGREE_TYPE_DO]),
        step2_ck_score=rng.randint(225, 270),
        step1_result=profile_pb2.STEP1_RESULT_PASS,
        research_items=rng.randint(0, 30),
        aoa_member=rng.random() < 0.2,
        visa_need=profile_pb2.VISA_NEED_NONE,
        signals_sent=rng.randint(0, 10),
        away_rotations=rng.randint(0, 3),
        preferences=profile_pb2.Preferences(
            specialties=[rng.choice(SPECIALTIES)],
            preferred_states=rng.sample(["CA", "NY", "TX", "MA"], 2),
            application_budget=rng.randint(20, 80),
        ),
    )


def raw_rate(profiles: list[profile_pb2.ApplicantProfile]) -> float:
    programs, stats, fees = load_programs(), load_specialty_stats(), load_fee_schedule()
    by_specialty: dict = {}
    for program in programs:
        by_specialty.setdefault(program.specialty, []).append(program)
    model = OnnxModel()
    applicants = [Applicant.from_proto(p) for p in profiles]

    def score(applicant: Applicant) -> None:
        """As the worker scores (service.RankingService.score_many): signal levels through predict_levels."""
        recommend(
            applicant,
            by_specialty,
            stats,
            model.predict,
            model.factor,
            fees,
            predict_levels=model.predict_levels,
            anchors=model.anchors,
        )

    score(applicants[0])
    started = time.perf_counter()
    for applicant in applicants:
        score(applicant)
    rate = len(applicants) / (time.perf_counter() - started)
    print(
        f"raw scoring, in process, no I/O: {rate:8.1f} profiles/s ({len(applicants)} profiles, model {model.version})"
    )
    signal_plan_cost(applicants, by_specialty, stats, model)
    return rate


def signal_plan_cost(applicants, by_specialty, stats, model) -> None:
    """Milliseconds per profile of the list with its signal plan against the list alone, same chances."""
    chances = []
    for applicant in applicants:
        found, _ = candidates(applicant, by_specialty)
        rows = [build_features(applicant, found, stats, np.full(len(found), level)) for level in (0.0, 2.0, 1.0)]
        admission = np.column_stack([model.predict(r)[1] for r in rows])
        first = stats.get(applicant.specialties[0])
        signals = (first.gold_signals or 0, first.silver_signals or 0) if first else (0, 0)
        chances.append((admission, preference_values(applicant, found), applicant.application_budget, signals))
    timings = {}
    for label, with_signals in (("list alone", False), ("list and signal plan", True)):
        started = time.perf_counter()
        for admission, values, budget, signals in chances:
            if with_signals:
                plan(admission, values, budget, model.factor, *signals)
            else:
                optimal_portfolio(admission[:, 0], values, budget, model.factor)
        timings[label] = (time.perf_counter() - started) * 1e3 / len(chances)
    print(
        f"signal plan: {timings['list and signal plan']:.2f} ms a profile with the plan, "
        f"{timings['list alone']:.2f} ms for the list alone ({len(chances)} profiles)"
    )


def result_event_id(student: str, version: int) -> str:
    """The RecommendationsGenerated event id of (student, version): the clock reads only headers, no payload."""
    return str(recommendations_event_id(student, version))


async def pipeline_rate(bootstrap: str, tenant_id: str, profiles, label: str) -> float:
    clock = TopicClock(bootstrap, RECOMMENDATIONS_GENERATED)
    await clock.start()
    producer = AIOKafkaProducer(
        **security_options(), bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5
    )
    await producer.start()
    keys = set()
    cpu = CpuMeter()
    try:
        cpu.start()
        started = time.monotonic()
        for profile in profiles:
            student = str(uuid.uuid4())
            event = profile_events_pb2.ProfileUpdated(
                event_id=str(uuid.uuid4()), tenant_id=tenant_id, student_id=student, profile_version=1, profile=profile
            )
            headers = cloudevent_headers(
                event_id=event.event_id, event_type=event.DESCRIPTOR.full_name, source="/smartpick/bench"
            )
            await producer.send(
                PROFILE_UPDATED.name, value=event.SerializeToString(), key=student.encode(), headers=headers
            )
            keys.add(result_event_id(student, 1))
        await producer.flush()
        await clock.wait_for(keys, max_seconds=600)
        cpu.report(label)
        rate = len(keys) / (max(clock.seen[k] for k in keys) - started)
    finally:
        await producer.stop()
        await clock.stop()
    print(f"pipeline, {label}: {rate:8.1f} events/s ({len(keys)} events through Kafka and PostgreSQL)")
    return rate


async def latency(
    base_url: str, bootstrap: str, operator_key: str, rng: random.Random, rate: float, count: int, warmup: int
):
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        school = (
            await http.post("/v1/schools", json={"name": "Bench"}, headers={"Authorization": f"Bearer {operator_key}"})
        ).json()
        admin = {"Authorization": f"Bearer {school['admin_api_key']['api_key']}"}
        students = []
        for i in range(100):
            reply = await http.post("/v1/students", json={"external_ref": f"b{i}", "display_name": "B"}, headers=admin)
            students.append(reply.json()["student_id"])
        clock = TopicClock(bootstrap, RECOMMENDATIONS_GENERATED)
        await clock.start()
        saves: dict[str, int] = {}
        failed: dict[int, int] = {}  # 5xx answers by status

        async def put(session: aiohttp.ClientSession, student: str):
            saves[student] = saves.get(student, 0) + 1
            body = {
                "degree_type": "MD",
                "step2_ck_score": 230 + saves[student] % 40,
                "research_items": rng.randint(0, 30),
                "preferences": {"specialties": [rng.choice(SPECIALTIES)], "application_budget": 40},
            }
            async with session.put(f"{base_url}/v1/students/{student}/profile", json=body, headers=admin) as reply:
                if reply.status >= 500:  # counted and left out (the profile service's lock_student race, issue 11)
                    failed[reply.status] = failed.get(reply.status, 0) + 1
                    return None
                reply.raise_for_status()
                version = (await reply.json())["version"]
            return time.monotonic(), result_event_id(student, version)

        async def paced(session: aiohttp.ClientSession, updates: int) -> tuple[list, float]:
            tasks, started = [], time.monotonic()
            for i in range(updates):
                await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
                tasks.append(asyncio.create_task(put(session, students[i % len(students)])))
            answered = [found for found in await asyncio.gather(*tasks) if found is not None]
            await clock.wait_for({key for _, key in answered}, max_seconds=300)
            return answered, started

        # aiohttp for the paced load: it costs the shared cores far less per request than httpx.
        cpu = CpuMeter()
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
                # Warm-up at the same rate: connection pools, caches and the broker's JIT reach their steady state.
                await paced(session, warmup)
                cpu.start()
                answered, started = await paced(session, count)
                cpu.report("the paced updates")
        finally:
            await clock.stop()
    delays = [(clock.seen[key] - at) * 1000 for at, key in answered]
    achieved = count / (max(at for at, _ in answered) - started)
    print(f"latency, HTTP answer -> RecommendationsGenerated readable: {count} updates at {achieved:.0f}/s")
    if failed:
        print(f"  updates answered 5xx (left out), warm-up included: {failed}")
    print(
        f"  p50 {percentile(delays, 0.5):7.1f} ms   p99 {percentile(delays, 0.99):7.1f} ms   max {max(delays):7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scoring-profiles", type=int, default=600, help="profiles for ONNX beside LightGBM")
    parser.add_argument("--raw-profiles", type=int, default=500)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100, help="paced profile updates per second for latency")
    parser.add_argument("--latency-updates", type=int, default=2000)
    parser.add_argument(
        "--warmup-updates", type=int, default=6000, help="paced updates first: a minute for the broker's JIT to settle"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--gateway-workers", type=int, default=1, help="HTTP worker processes of the gateway")
    parser.add_argument(
        "--latency-workers",
        type=int,
        choices=(1, 2),
        default=1,
        help="ranking workers during the latency run (1: the stack as `make run` starts it)",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    ranking_scoring.measure(args.scoring_profiles)
    raw = raw_rate([random_profile(rng) for _ in range(args.raw_profiles)])
    with bench_stack(http_workers=str(args.gateway_workers)) as stack:
        bootstrap = stack.endpoints.kafka_bootstrap
        second = ranking_worker_replica(stack)
        try:
            if args.latency_workers == 2:
                second.start().wait_ready()
                time.sleep(5)  # the group rebalances onto two members
            print(
                f"latency: the whole system (gateway, profile, {args.latency_workers} ranking worker(s), "
                "mentorship consuming both topics)"
            )
            asyncio.run(
                latency(
                    stack.base_url,
                    bootstrap,
                    stack.operator_key,
                    rng,
                    args.rate,
                    args.latency_updates,
                    args.warmup_updates,
                )
            )
            # The throughput runs measure the ranking pipeline alone: the mentorship service, which also
            # consumes both topics, would otherwise share the two cores with it.
            stack.processes["mentorship"].stop()
            if args.latency_workers == 1:
                second.start().wait_ready()
                time.sleep(5)  # the group rebalances onto two members
            tenant = str(uuid.uuid4())
            batch = [random_profile(rng) for _ in range(args.events)]
            asyncio.run(pipeline_rate(bootstrap, tenant, batch, "2 workers"))
            second.stop()
            time.sleep(5)  # the group rebalances onto one member
            batch = [random_profile(rng) for _ in range(args.events)]
            one = asyncio.run(pipeline_rate(bootstrap, tenant, batch, "1 worker"))
        finally:
            second.stop()
    print(f"pipeline with 1 worker sustains {100 * one / raw:.0f}% of the raw scoring rate (target: at least 60%)")


if __name__ == "__main__":
    main()
