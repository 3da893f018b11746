"""Mentorship matching at cohort scale: a full round (scoring, constraints, solver, proposals with reasons)
beside the bare solver on the same instance, and top-k suggestion latency for one student.

`.venv/bin/python bench/mentorship_matching.py [--mentees 10000 --mentors 2000] [--domain-only]`.
First the domain code alone; then (unless --domain-only) the same instance through the real mentorship
service over gRPC, on its own Kafka and PostgreSQL in .state/bench-mentorship: RunRound and SuggestMentors
including their database work. The instance is synthetic and seeded: mentors across the catalog's
specialties with capacity 1-5, one school's cohort."""

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

from smartpick.mentorship.v1 import mentorship_pb2, mentorship_pb2_grpc

from smartpick_mentorship.domain.assignment import candidates, plan_round, solve, suggest
from smartpick_mentorship.domain.model import Goal, Mentee, Mentor, Policy
from smartpick_mentorship.domain.scoring import MentorPool
from smartpick_platform import caller_context, local_ca
from smartpick_platform.grpc_channel import connect
from smartpick_platform.identity import ServiceIdentity

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy/local"))
from devstack import REPO, IsolatedStack, Ports, ServiceProcess, set_up_kafka

SPECIALTIES = (
    "Anesthesiology", "Dermatology", "Diagnostic Radiology", "Emergency Medicine", "Family Medicine",
    "General Surgery", "Internal Medicine", "Interventional Radiology (Integrated)", "Neurological Surgery",
    "Neurology", "Obstetrics and Gynecology", "Orthopaedic Surgery", "Otolaryngology", "Pediatrics",
    "Plastic Surgery (Integrated)", "Psychiatry", "Radiation Oncology",
)  # fmt: skip
STATES = ("CA", "NY", "TX", "MA", "PA", "IL", "OH", "FL", "WA", "MI", "NC", "GA", "MN", "CO", "AZ", "MO")
RESEARCH = ("outcomes", "clinical trials", "imaging", "genomics", "health equity", "education", "quality", "AI")
LANGUAGES = ("English", "Spanish", "Mandarin", "Hindi", "Arabic", "French")
WARM_UP = 20  # suggestion calls before timing starts
SCHOOLS = tuple(str(uuid.UUID(int=k + 1)) for k in range(3))


def instance(n_mentees: int, n_mentors: int, seed: int = 42) -> tuple[list[Mentee], list[Mentor]]:
    rng = random.Random(seed)
    institutions = [f"University Hospital {k}" for k in range(300)]
    mentors = [
        Mentor(
            mentor_id=str(uuid.UUID(int=10**6 + k)),
            tenant_id=rng.choice([*SCHOOLS, None]),
            display_name=f"Mentor {k}",
            specialty=rng.choice(SPECIALTIES),
            institution=rng.choice(institutions),
            state=rng.choice(STATES),
            research_interests=tuple(rng.sample(RESEARCH, rng.randint(0, 3))),
            languages=("English", *rng.sample(LANGUAGES[1:], rng.randint(0, 1))),
            goals=tuple(rng.sample(list(Goal), rng.randint(1, 4))),
            capacity=rng.randint(1, 5),
            availability_hours_per_month=rng.choice([1, 2, 4, 6]),
            accepts_other_schools=rng.random() < 0.5,
        )
        for k in range(n_mentors)
    ]
    mentees = [
        Mentee(
            student_id=str(uuid.UUID(int=10**7 + k)),
            tenant_id=SCHOOLS[0],
            specialties=tuple(rng.sample(SPECIALTIES, rng.randint(1, 3))),
            research_interests=tuple(rng.sample(RESEARCH, rng.randint(0, 2))),
            states=tuple(rng.sample(STATES, rng.randint(0, 3))),
            institution_targets=tuple(rng.sample(institutions, rng.randint(0, 3))),
            languages=tuple(rng.sample(LANGUAGES, rng.randint(0, 1))),
            goals=tuple(rng.sample(list(Goal), rng.randint(1, 3))),
            hours_per_month=rng.choice([1, 2, 3, 4]),
        )
        for k in range(n_mentees)
    ]
    return mentees, mentors


def quantiles(latencies: list[float]) -> str:
    cut = statistics.quantiles(latencies, n=100)
    return f"p50 {cut[49] * 1000:6.2f} ms   p99 {cut[98] * 1000:6.2f} ms   max {max(latencies) * 1000:6.2f} ms"


def domain(mentees: list[Mentee], mentors: list[Mentor], calls: int, k: int) -> None:
    policy = Policy()
    started = time.perf_counter()
    pool = MentorPool(mentors)
    plan = plan_round(mentees, pool, policy, held={})
    full_round = time.perf_counter() - started
    mean = plan.total_score / max(len(plan.proposals), 1)
    counts = f"{len(plan.proposals)} proposals, {len(plan.unassigned)} unassigned"
    print(f"domain, full round:  {full_round:6.2f} s  ({counts},")
    print(f"                     total score {plan.total_score:.1f}, mean {mean:.3f})")

    remaining = pool.remaining({})
    arcs = candidates(mentees, pool, policy, remaining)
    started = time.perf_counter()
    chosen = solve(arcs.mentee, arcs.mentor, arcs.points, remaining, len(mentees))
    bare = time.perf_counter() - started
    print(f"domain, bare solver: {bare:6.2f} s  ({len(arcs.mentee):,} eligible pairs, {len(chosen)} chosen)")

    latencies = []
    for mentee in random.Random(7).sample(mentees, min(calls, len(mentees))):
        started = time.perf_counter()
        suggest(mentee, pool, policy, {}, k)
        latencies.append(time.perf_counter() - started)
    print(f"domain, top-{k} suggestions, pool encoded once ({len(latencies)} calls): {quantiles(latencies)}")
    started = time.perf_counter()
    MentorPool(mentors)
    print(f"domain, encoding the pool of {len(mentors)} mentors: {(time.perf_counter() - started) * 1000:.1f} ms")


def mentor_profile(mentor: Mentor) -> mentorship_pb2.MentorProfile:
    return mentorship_pb2.MentorProfile(
        display_name=mentor.display_name,
        specialty=mentor.specialty,
        institution=mentor.institution,
        state=mentor.state,
        research_interests=mentor.research_interests,
        languages=mentor.languages,
        goals=[mentorship_pb2.MentorshipGoal.Value(f"MENTORSHIP_GOAL_{g.name}") for g in mentor.goals],
        capacity=mentor.capacity,
        availability_hours_per_month=mentor.availability_hours_per_month,
        accepting_new_mentees=True,
        accepts_other_schools=mentor.accepts_other_schools,
    )


def mentee_request(mentee: Mentee) -> mentorship_pb2.MenteeRequest:
    return mentorship_pb2.MenteeRequest(
        goals=[mentorship_pb2.MentorshipGoal.Value(f"MENTORSHIP_GOAL_{g.name}") for g in mentee.goals],
        preferred_specialties=mentee.specialties,
        research_interests=mentee.research_interests,
        preferred_states=mentee.states,
        preferred_institutions=mentee.institution_targets,
        languages=mentee.languages,
        hours_per_month=mentee.hours_per_month,
    )


async def call_all(method, requests, limit: int = 16) -> None:
    """Calls `method` once per request, `limit` calls in flight at a time."""
    semaphore = asyncio.Semaphore(limit)

    async def one(request):
        async with semaphore:
            await method(request, timeout=60)

    await asyncio.gather(*(one(r) for r in requests))


async def through_the_service(
    target: str, identity: ServiceIdentity, mentees: list[Mentee], mentors: list[Mentor], calls: int, k: int
) -> None:
    """Over mutual TLS as the gateway, for an operator (who acts on every school), as the stack runs it; the round
    for an admin of its school."""
    caller_context.act_as(caller_context.CallerContext(role="operator"))
    async with connect(identity, target, "mentorship") as channel:
        stub = mentorship_pb2_grpc.MentorshipServiceStub(channel)
        started = time.perf_counter()
        await call_all(
            stub.RegisterMentor,
            [
                mentorship_pb2.RegisterMentorRequest(tenant_id=m.tenant_id or "", profile=mentor_profile(m))
                for m in mentors
            ],
        )
        await call_all(
            stub.UpsertMenteeRequest,
            [
                mentorship_pb2.UpsertMenteeRequestRequest(
                    tenant_id=m.tenant_id, student_id=m.student_id, request=mentee_request(m)
                )
                for m in mentees
            ],
        )
        loading = time.perf_counter() - started
        print(f"service, loading {len(mentors)} mentors and {len(mentees)} requests: {loading:.1f} s")

        latencies = []
        sample = random.Random(7).sample(mentees, min(calls + WARM_UP, len(mentees)))
        for n, mentee in enumerate(sample):
            started = time.perf_counter()
            await stub.SuggestMentors(
                mentorship_pb2.SuggestMentorsRequest(tenant_id=mentee.tenant_id, student_id=mentee.student_id, limit=k)
            )
            if n >= WARM_UP:  # the first call encodes the school's mentor pool, which is then reused
                latencies.append(time.perf_counter() - started)
        print(f"service, SuggestMentors top-{k} over gRPC ({len(latencies)} calls): {quantiles(latencies)}")
        # The same loop on the cheapest call (one indexed row) separates the machine's own jitter from ours.
        mentor_id = (await stub.ListMentors(mentorship_pb2.ListMentorsRequest(page_size=1))).mentors[0].mentor_id
        baseline = []
        for _ in range(len(latencies)):
            started = time.perf_counter()
            await stub.GetMentor(mentorship_pb2.GetMentorRequest(mentor_id=mentor_id))
            baseline.append(time.perf_counter() - started)
        print(f"service, GetMentor over gRPC, for comparison ({len(baseline)} calls): {quantiles(baseline)}")

        # A round is run by the school's own admins.
        caller_context.act_as(caller_context.CallerContext(role="school_admin", tenant_id=SCHOOLS[0]))
        started = time.perf_counter()
        reply = await stub.RunRound(mentorship_pb2.RunRoundRequest(tenant_id=SCHOOLS[0]), timeout=600)
        elapsed = time.perf_counter() - started
        print(
            f"service, RunRound over gRPC: {elapsed:6.2f} s  ({len(reply.round.proposals)} draft proposals stored, "
            f"{len(reply.round.unassigned_student_ids)} unassigned)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mentees", type=int, default=10_000)
    parser.add_argument("--mentors", type=int, default=2_000)
    parser.add_argument("--suggestions", type=int, default=1_000, help="suggestion calls to time")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--domain-only", action="store_true", help="skip the run through the real service")
    args = parser.parse_args()
    mentees, mentors = instance(args.mentees, args.mentors)
    print(f"instance: {len(mentees)} mentees, {len(mentors)} mentors, {sum(m.capacity for m in mentors)} slots")
    domain(mentees, mentors, args.suggestions, args.k)
    if args.domain_only:
        return
    stack = IsolatedStack(REPO / ".state/bench-mentorship")
    endpoints = stack.start()
    service = None
    try:
        set_up_kafka(endpoints)
        ports = Ports.free()
        service = ServiceProcess("mentorship", endpoints, ports, stack.state_dir / "logs").start().wait_ready()
        target = f"127.0.0.1:{ports.grpc['mentorship']}"
        gateway = local_ca.identity(endpoints.identity_dir, "gateway")
        asyncio.run(through_the_service(target, gateway, mentees, mentors, args.suggestions, args.k))
    finally:
        if service is not None:
            service.stop()
        stack.stop()


if __name__ == "__main__":
    main()
