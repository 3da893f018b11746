"""Applicant-proposing deferred acceptance (Gale and Shapley 1962; Roth and Peranson's NRMP variant without
couples): the match process of the simulated cohort."""

import heapq
from collections.abc import Mapping, Sequence


def deferred_acceptance(
    applicant_preferences: Sequence[Sequence[int]],
    program_scores: Sequence[Mapping[int, float]],
    capacities: Sequence[int],
) -> list[int | None]:
    """The applicant-optimal stable matching.

    applicant_preferences[a] lists program indices, most wanted first; program_scores[p] maps each applicant
    the program ranks to its score (higher is preferred; an applicant it does not score is unacceptable);
    capacities[p] is the number of positions. Returns the program of each applicant, or None when unmatched.
    """
    next_choice = [0] * len(applicant_preferences)
    held: list[list[tuple[float, int]]] = [[] for _ in capacities]  # min-heaps of (score, applicant)
    free = list(range(len(applicant_preferences)))
    while free:
        applicant = free.pop()
        preferences = applicant_preferences[applicant]
        while next_choice[applicant] < len(preferences):
            program = preferences[next_choice[applicant]]
            next_choice[applicant] += 1
            score = program_scores[program].get(applicant)
            if score is None or capacities[program] <= 0:
                continue
            heap = held[program]
            if len(heap) < capacities[program]:
                heapq.heappush(heap, (score, applicant))
                break
            if (score, applicant) > heap[0]:
                _, rejected = heapq.heapreplace(heap, (score, applicant))
                free.append(rejected)
                break
    assignment: list[int | None] = [None] * len(applicant_preferences)
    for program, heap in enumerate(held):
        for _, applicant in heap:
            assignment[applicant] = program
    return assignment
