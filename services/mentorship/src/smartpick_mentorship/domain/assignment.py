"""The optimal assignment of a cohort to mentors, top-k suggestions, and the next best option after a decline.

The round is a maximum-weight b-matching: each mentee gets at most one mentor, each mentor at most its
free slots. It is solved exactly by scipy's sparse linear assignment (LAPJVsp,
`scipy.sparse.csgraph.min_weight_full_bipartite_matching`) on the graph where each mentor is expanded into
one node per free slot and each slot also has a private "left empty" node, so a full matching always
exists. The objective is lexicographic: first as many mentees covered as possible, then the largest
total compatibility (each assigned pair is worth COVER_BONUS + its score in thousandths, and COVER_BONUS
is larger than any possible total of scores)."""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from smartpick_mentorship.domain.model import Mentee, Policy, Proposal, Suggestion
from smartpick_mentorship.domain.scoring import MentorPool, blocks, reasons, score_block

SCORE_SCALE = 1000  # scores are compared in thousandths, so the solver works on exact integers


@dataclass(frozen=True)
class Candidates:
    """Every eligible (mentee, mentor) pair of a cohort: the arcs the solver chooses from."""

    mentee: np.ndarray  # int64 index into the cohort
    mentor: np.ndarray  # int64 index into the pool
    points: np.ndarray  # int64 score in thousandths
    contributions: np.ndarray  # (arcs, criteria) float32


def candidates(mentees: Sequence[Mentee], pool: MentorPool, policy: Policy, remaining: np.ndarray) -> Candidates:
    """Scores the cohort block by block and keeps the eligible pairs whose mentor has a free slot."""
    parts = []
    for start, block in blocks(mentees, pool, policy):
        rows, cols = np.nonzero(block.eligible & (remaining > 0)[None, :])
        parts.append((rows + start, cols, block.score[rows, cols], block.contributions[rows, cols]))
    if not parts:
        return Candidates(*(np.zeros(0, dtype=np.int64) for _ in range(3)), np.zeros((0, 0), dtype=np.float32))
    mentee, mentor, score, contributions = (np.concatenate(p) for p in zip(*parts, strict=True))
    points = np.rint(score.astype(np.float64) * SCORE_SCALE).astype(np.int64)
    return Candidates(mentee.astype(np.int64), mentor.astype(np.int64), points, contributions)


def solve(
    mentee: np.ndarray, mentor: np.ndarray, points: np.ndarray, remaining: np.ndarray, n_mentees: int
) -> np.ndarray:
    """The bare solver: indices of the chosen arcs, at most one per mentee and `remaining[j]` per mentor,
    covering the most mentees and, among those choices, maximizing the total of `points`."""
    remaining = np.maximum(np.asarray(remaining, dtype=np.int64), 0)
    slots = int(remaining.sum())
    if slots == 0 or len(mentee) == 0:
        return np.zeros(0, dtype=np.int64)
    cover_bonus = SCORE_SCALE * n_mentees + 1
    ceiling = 2 * (cover_bonus + SCORE_SCALE)  # every cost is positive: the sparse matrix keeps no zeros
    first_slot = np.cumsum(remaining) - remaining
    per_arc = remaining[mentor]
    arc_of_edge = np.repeat(np.arange(len(mentee)), per_arc)
    slot_of_edge = np.repeat(first_slot[mentor], per_arc) + (
        np.arange(per_arc.sum()) - np.repeat(np.cumsum(per_arc) - per_arc, per_arc)
    )
    rows = np.concatenate([slot_of_edge, np.arange(slots)])
    cols = np.concatenate([mentee[arc_of_edge], n_mentees + np.arange(slots)])
    costs = np.concatenate(
        [(ceiling - cover_bonus - points[arc_of_edge]).astype(np.float64), np.full(slots, float(ceiling))]
    )
    graph = csr_matrix((costs, (rows, cols)), shape=(slots, n_mentees + slots))
    _slot, chosen_col = min_weight_full_bipartite_matching(graph)
    mentor_of_slot = np.repeat(np.arange(len(remaining)), remaining)
    taken = chosen_col < n_mentees
    chosen_keys = chosen_col[taken].astype(np.int64) * len(remaining) + mentor_of_slot[taken]
    arc_keys = mentee * len(remaining) + mentor
    order = np.argsort(arc_keys)
    return np.sort(order[np.searchsorted(arc_keys, chosen_keys, sorter=order)])


@dataclass(frozen=True)
class RoundPlan:
    proposals: tuple[Proposal, ...]
    unassigned: tuple[str, ...]  # students of the cohort left without a mentor (no eligible mentor had a slot)
    total_score: float


def plan_round(
    mentees: Sequence[Mentee],
    pool: MentorPool,
    policy: Policy,
    held: Mapping[str, int],
    already_matched: Collection[str] = (),
) -> RoundPlan:
    """Proposals for the students who still need a mentor.

    Students in `already_matched` keep their match and are left out; the slots their matches use (and
    every other slot held, by any school) are in `held`, so re-matching only fills gaps."""
    skip = set(already_matched)
    cohort = [m for m in mentees if m.student_id not in skip]
    remaining = pool.remaining(held)
    arcs = candidates(cohort, pool, policy, remaining)
    chosen = solve(arcs.mentee, arcs.mentor, arcs.points, remaining, len(cohort))
    proposals = tuple(
        Proposal(
            student_id=cohort[arcs.mentee[a]].student_id,
            mentor_id=pool.mentors[arcs.mentor[a]].mentor_id,
            score=round(float(arcs.points[a]) / SCORE_SCALE, 3),
            reasons=reasons(cohort[arcs.mentee[a]], pool.mentors[arcs.mentor[a]], arcs.contributions[a]),
        )
        for a in chosen
    )
    matched = {p.student_id for p in proposals}
    return RoundPlan(
        proposals=proposals,
        unassigned=tuple(m.student_id for m in cohort if m.student_id not in matched),
        total_score=round(sum(p.score for p in proposals), 3),
    )


def suggest(mentee: Mentee, pool: MentorPool, policy: Policy, held: Mapping[str, int], k: int) -> list[Suggestion]:
    """The k most compatible eligible mentors with a free slot, best first (ties: registry order)."""
    block = score_block([mentee], pool, policy)
    open_ = block.eligible[0] & (pool.remaining(held) > 0)
    indices = np.flatnonzero(open_)
    if k <= 0 or len(indices) == 0:
        return []
    scores = block.score[0, indices]
    order = indices[np.lexsort((indices, -np.rint(scores * SCORE_SCALE)))][:k]
    return [
        Suggestion(
            mentor_id=pool.mentors[j].mentor_id,
            score=round(float(block.score[0, j]), 3),
            reasons=reasons(mentee, pool.mentors[j], block.contributions[0, j]),
        )
        for j in order
    ]


def next_best(mentee: Mentee, pool: MentorPool, policy: Policy, held: Mapping[str, int]) -> Suggestion | None:
    """After a decline: the best mentor left for this student (the decliner is in excluded_mentor_ids).

    Everyone else keeps their proposal, so the best single choice is the optimum of the re-assignment."""
    best = suggest(mentee, pool, policy, held, 1)
    return best[0] if best else None
