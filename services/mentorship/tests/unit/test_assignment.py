"""The assignment against an independent optimum (brute force), its constraints, re-matching and declines."""

import itertools
import random

import numpy as np
import pytest

from smartpick_mentorship.domain.assignment import candidates, next_best, plan_round, solve, suggest
from smartpick_mentorship.domain.model import Goal, Mentee, Mentor, Policy
from smartpick_mentorship.domain.scoring import MentorPool, score_block

SCHOOL, OTHER_SCHOOL = "school-a", "school-b"
SPECIALTIES = ("Dermatology", "Orthopaedic Surgery", "Neurology")
STATES = ("CA", "NY", "TX", "WA")


def brute_force(mentee, mentor, points, remaining, n_mentees) -> tuple[int, int]:
    """(mentees covered, total points) of the best assignment, by trying every one."""
    options = [[None] + [a for a in range(len(mentee)) if mentee[a] == i] for i in range(n_mentees)]
    best = (0, 0)
    for choice in itertools.product(*options):
        arcs = [a for a in choice if a is not None]
        load = np.bincount(mentor[arcs], minlength=len(remaining)) if arcs else np.zeros(len(remaining))
        if np.all(load <= remaining):
            best = max(best, (len(arcs), int(points[arcs].sum())))
    return best


def value(chosen, points) -> tuple[int, int]:
    return len(chosen), int(points[chosen].sum())


@pytest.mark.parametrize("seed", range(40))
def test_the_solver_equals_the_brute_force_optimum_on_random_arcs(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 7)), int(rng.integers(1, 4))
    pairs = [(i, j) for i in range(n) for j in range(m) if rng.random() < 0.6]
    mentee = np.array([p[0] for p in pairs], dtype=np.int64)
    mentor = np.array([p[1] for p in pairs], dtype=np.int64)
    points = rng.integers(0, 1001, len(pairs)).astype(np.int64)
    remaining = rng.integers(0, 3, m).astype(np.int64)
    chosen = solve(mentee, mentor, points, remaining, n)
    assert value(chosen, points) == brute_force(mentee, mentor, points, remaining, n)


def random_mentor(rng: random.Random, k: int) -> Mentor:
    return Mentor(
        mentor_id=f"mentor-{k}",
        tenant_id=rng.choice([SCHOOL, OTHER_SCHOOL, None]),
        display_name=f"Dr {k}",
        specialty=rng.choice(SPECIALTIES),
        research_interests=tuple(rng.sample(["dermpath", "outcomes", "imaging", "trauma"], rng.randint(0, 2))),
        state=rng.choice(STATES),
        goals=tuple(rng.sample(list(Goal), rng.randint(1, 4))),
        languages=tuple(rng.sample(["English", "Spanish"], rng.randint(1, 2))),
        capacity=rng.randint(0, 2),
        availability_hours_per_month=rng.choice([1, 2, 4]),
        accepts_other_schools=rng.random() < 0.5,
    )


def random_mentee(rng: random.Random, k: int, mentor_ids: list[str]) -> Mentee:
    return Mentee(
        student_id=f"student-{k}",
        tenant_id=SCHOOL,
        specialties=tuple(rng.sample(SPECIALTIES, rng.randint(1, 2))),
        research_interests=tuple(rng.sample(["dermpath", "outcomes", "imaging"], rng.randint(0, 2))),
        states=tuple(rng.sample(STATES, rng.randint(0, 2))),
        languages=tuple(rng.sample(["English", "Spanish"], rng.randint(0, 1))),
        goals=tuple(rng.sample(list(Goal), rng.randint(1, 3))),
        hours_per_month=rng.choice([1, 2, 3]),
        excluded_mentor_ids=frozenset(rng.sample(mentor_ids, rng.randint(0, 1))),
    )


def random_cohort(seed: int, n: int, m: int) -> tuple[list[Mentee], MentorPool]:
    rng = random.Random(seed)
    mentors = [random_mentor(rng, k) for k in range(m)]
    mentees = [random_mentee(rng, k, [x.mentor_id for x in mentors]) for k in range(n)]
    return mentees, MentorPool(mentors)


@pytest.mark.parametrize("seed", range(25))
def test_a_round_is_optimal_on_small_random_cohorts(seed):
    mentees, pool = random_cohort(seed, n=random.Random(seed).randint(2, 6), m=3)
    policy = Policy(require_shared_language=seed % 2 == 0)
    remaining = pool.remaining({})
    arcs = candidates(mentees, pool, policy, remaining)
    plan = plan_round(mentees, pool, policy, held={})
    best_count, best_points = brute_force(arcs.mentee, arcs.mentor, arcs.points, remaining, len(mentees))
    assert len(plan.proposals) == best_count
    assert round(plan.total_score * 1000) == best_points


def test_capacities_and_hard_constraints_always_hold():
    mentees, pool = random_cohort(7, n=400, m=60)
    policy = Policy(require_shared_language=True)
    held = {pool.mentors[0].mentor_id: 1, pool.mentors[1].mentor_id: 5}
    plan = plan_round(mentees, pool, policy, held)
    block = score_block(mentees, pool, policy)
    by_id = {m.student_id: i for i, m in enumerate(mentees)}
    assert len({p.student_id for p in plan.proposals}) == len(plan.proposals)
    load = {}
    for proposal in plan.proposals:
        i, j = by_id[proposal.student_id], pool.position[proposal.mentor_id]
        mentee, mentor = mentees[i], pool.mentors[j]
        assert block.eligible[i, j]
        assert mentor.specialty in mentee.specialties
        assert mentor.tenant_id in (None, SCHOOL) or mentor.accepts_other_schools
        assert mentor.mentor_id not in mentee.excluded_mentor_ids
        assert not mentee.languages or set(mentee.languages) & set(mentor.languages)
        load[mentor.mentor_id] = load.get(mentor.mentor_id, 0) + 1
    for mentor in pool.mentors:
        assert load.get(mentor.mentor_id, 0) + held.get(mentor.mentor_id, 0) <= max(
            mentor.capacity, held.get(mentor.mentor_id, 0)
        )
    assert len(plan.proposals) + len(plan.unassigned) == len(mentees)


def mentor(mentor_id: str, specialty="Dermatology", state="CA", capacity=1, **fields) -> Mentor:
    return Mentor(mentor_id, SCHOOL, f"Dr {mentor_id}", specialty, state=state, capacity=capacity, **fields)


def mentee(student_id: str, specialties=("Dermatology",), states=("CA",), **fields) -> Mentee:
    return Mentee(student_id, SCHOOL, tuple(specialties), states=tuple(states), **fields)


def test_accepted_matches_survive_rematching_and_only_gaps_are_filled():
    pool = MentorPool([mentor("near", capacity=1), mentor("far", state="NY", capacity=2)])
    cohort = [mentee("kept"), mentee("new-1"), mentee("new-2")]
    first = plan_round(cohort, pool, Policy(), held={})
    assert {(p.student_id, p.mentor_id) for p in first.proposals if p.mentor_id == "near"}

    # "kept" accepted "near"; "new-1" and "new-2" still need someone. Re-matching must not move "kept",
    # must not give "near" (full) to anyone else, and must fill the gaps with what is left.
    second = plan_round(cohort, pool, Policy(), held={"near": 1}, already_matched={"kept"})
    assert "kept" not in {p.student_id for p in second.proposals}
    assert {p.mentor_id for p in second.proposals} == {"far"}
    assert {p.student_id for p in second.proposals} == {"new-1", "new-2"}


def test_a_decline_frees_the_slot_and_gives_the_next_best_option():
    pool = MentorPool([mentor("best", state="CA"), mentor("second", state="OR"), mentor("third", state="NY")])
    student = mentee("s")
    proposed = plan_round([student], pool, Policy(), held={}).proposals[0]
    assert proposed.mentor_id == "best"

    declined = Mentee(**{**student.__dict__, "excluded_mentor_ids": frozenset({"best"})})
    held_after_decline = {}  # the decline released the slot "best" held
    option = next_best(declined, pool, Policy(), held_after_decline)
    assert option.mentor_id == "second"  # same region (west) beats another region
    assert suggest(declined, pool, Policy(), held_after_decline, 5)[0] == option
    assert "best" not in {s.mentor_id for s in suggest(declined, pool, Policy(), held_after_decline, 5)}
    assert next_best(declined, pool, Policy(), {"second": 1, "third": 1}) is None


def test_suggestions_are_ranked_explained_and_skip_full_or_foreign_mentors():
    pool = MentorPool(
        [
            mentor("full", capacity=1),
            mentor("derm-ca", research_interests=("dermpath",), goals=(Goal.RESEARCH,)),
            mentor("derm-tx", state="TX"),
            mentor("ortho", specialty="Orthopaedic Surgery"),
            Mentor("foreign", OTHER_SCHOOL, "Dr foreign", "Dermatology", state="CA"),
            Mentor("platform", None, "Dr platform", "Dermatology", state="CA"),
        ]
    )
    student = mentee("s", research_interests=("Dermpath",), goals=(Goal.RESEARCH, Goal.INTERVIEWS))
    found = suggest(student, pool, Policy(), held={"full": 1}, k=10)
    assert [s.mentor_id for s in found] == ["derm-ca", "platform", "derm-tx"]
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)
    top = found[0]
    assert sum(r.contribution for r in top.reasons) == pytest.approx(top.score, abs=2e-3)
    texts = " | ".join(r.text for r in top.reasons)
    assert "first-choice specialty" in texts and "dermpath" in texts and "CA" in texts
    assert suggest(student, pool, Policy(require_specialty_match=False), {"full": 1}, 10)[-1].mentor_id == "ortho"


def test_school_weights_change_the_order():
    pool = MentorPool([mentor("same-state", state="CA"), mentor("speaks-spanish", state="NY", languages=("Spanish",))])
    student = mentee("s", languages=("Spanish",))
    geography_first = Policy(weights={"specialty": 1, "geography": 5, "language": 1, "availability": 1})
    language_first = Policy(weights={"specialty": 1, "geography": 1, "language": 5, "availability": 1})
    assert suggest(student, pool, geography_first, {}, 1)[0].mentor_id == "same-state"
    assert suggest(student, pool, language_first, {}, 1)[0].mentor_id == "speaks-spanish"


def test_a_minimum_score_leaves_weak_pairs_unassigned():
    pool = MentorPool([mentor("far", state="NY", availability_hours_per_month=0.5)])
    student = mentee("s", hours_per_month=4)
    assert plan_round([student], pool, Policy(), {}).proposals
    strict = plan_round([student], pool, Policy(min_score=0.9), {})
    assert strict.proposals == () and strict.unassigned == ("s",)
