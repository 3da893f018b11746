"""Mentorship matching at cohort scale: a full round (scoring, constraints, solver, proposals with reasons)
beside the bare solver on the same instance, and top-k suggestion latency for one student.

Pure domain code, no stack: `.venv/bin/python bench/mentorship_matching.py [--mentees 10000 --mentors 2000]`.
The instance is synthetic and seeded: mentors across the catalog's specialties with capacity 1-5."""

import argparse
import random
import statistics
import time

from smartpick_mentorship.domain.assignment import candidates, plan_round, solve, suggest
from smartpick_mentorship.domain.model import Goal, Mentee, Mentor, Policy
from smartpick_mentorship.domain.scoring import MentorPool

SPECIALTIES = (
    "Anesthesiology", "Dermatology", "Diagnostic Radiology", "Emergency Medicine", "Family Medicine",
    "General Surgery", "Internal Medicine", "Interventional Radiology (Integrated)", "Neurological Surgery",
    "Neurology", "Obstetrics and Gynecology", "Orthopaedic Surgery", "Otolaryngology", "Pediatrics",
    "Plastic Surgery (Integrated)", "Psychiatry", "Radiation Oncology",
)  # fmt: skip
STATES = ("CA", "NY", "TX", "MA", "PA", "IL", "OH", "FL", "WA", "MI", "NC", "GA", "MN", "CO", "AZ", "MO")
RESEARCH = ("outcomes", "clinical trials", "imaging", "genomics", "health equity", "education", "quality", "AI")
LANGUAGES = ("English", "Spanish", "Mandarin", "Hindi", "Arabic", "French")
SCHOOLS = ("school-1", "school-2", "school-3")


def instance(n_mentees: int, n_mentors: int, seed: int = 42) -> tuple[list[Mentee], list[Mentor]]:
    rng = random.Random(seed)
    institutions = [f"University Hospital {k}" for k in range(300)]
    mentors = [
        Mentor(
            mentor_id=f"m{k}",
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
            student_id=f"s{k}",
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mentees", type=int, default=10_000)
    parser.add_argument("--mentors", type=int, default=2_000)
    parser.add_argument("--suggestions", type=int, default=1_000, help="suggestion calls to time")
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    mentees, mentors = instance(args.mentees, args.mentors)
    policy = Policy()
    print(f"instance: {len(mentees)} mentees, {len(mentors)} mentors, {sum(m.capacity for m in mentors)} slots")

    started = time.perf_counter()
    pool = MentorPool(mentors)
    plan = plan_round(mentees, pool, policy, held={})
    full_round = time.perf_counter() - started
    print(f"full round:  {full_round:6.2f} s  ({len(plan.proposals)} proposals, {len(plan.unassigned)} unassigned,")
    mean = plan.total_score / max(len(plan.proposals), 1)
    print(f"             total score {plan.total_score:.1f}, mean {mean:.3f})")

    remaining = pool.remaining({})
    arcs = candidates(mentees, pool, policy, remaining)
    started = time.perf_counter()
    chosen = solve(arcs.mentee, arcs.mentor, arcs.points, remaining, len(mentees))
    bare = time.perf_counter() - started
    print(f"bare solver: {bare:6.2f} s  ({len(arcs.mentee):,} eligible pairs, {len(chosen)} chosen)")

    latencies = []
    for mentee in random.Random(7).sample(mentees, min(args.suggestions, len(mentees))):
        started = time.perf_counter()
        suggest(mentee, pool, policy, {}, args.k)
        latencies.append(time.perf_counter() - started)
    cut = statistics.quantiles(latencies, n=100)
    print(f"top-{args.k} suggestions over {len(mentors)} mentors ({len(latencies)} calls, pool encoded once):")
    print(f"  p50 {cut[49] * 1000:6.2f} ms   p99 {cut[98] * 1000:6.2f} ms   max {max(latencies) * 1000:6.2f} ms")
    started = time.perf_counter()
    MentorPool(mentors)
    print(f"encoding the pool of {len(mentors)} mentors (done per request by the service): "
          f"{(time.perf_counter() - started) * 1000:.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
