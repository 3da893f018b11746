"""Training rows: one per application (applicant, program), with the feature matrix of domain.features.

Labels: `interviewed`, and `admitted`, the program would take the applicant if the applicant ranked it
first (the p_i of the list optimization). An applicant matched when any of their rows is admitted."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from smartpick_ranking.domain.catalog import SpecialtyStats
from smartpick_ranking.domain.features import FEATURE_NAMES, build_features
from smartpick_ranking.training.market import SpecialtyOutcome


@dataclass(frozen=True)
class Dataset:
    features: np.ndarray  # float32 [n, len(FEATURE_NAMES)]
    interviewed: np.ndarray  # bool [n]
    admitted: np.ndarray  # bool [n]; admitted implies interviewed
    specialty: np.ndarray  # str [n]
    group: np.ndarray  # int [n]: the applicant, so that splits never cut one applicant's rows apart

    def __post_init__(self):
        n = len(self.features)
        if self.features.shape[1:] != (len(FEATURE_NAMES),):
            raise ValueError(f"features must have {len(FEATURE_NAMES)} columns")
        if not all(len(column) == n for column in (self.interviewed, self.admitted, self.specialty, self.group)):
            raise ValueError("every column must have one entry per row")
        if np.any(self.admitted & ~self.interviewed):
            raise ValueError("an admitted row must be interviewed")
        if n and np.count_nonzero(self.group[1:] != self.group[:-1]) != len(np.unique(self.group)) - 1:
            raise ValueError("each applicant's rows must stand together")

    def take(self, rows: np.ndarray) -> "Dataset":
        return Dataset(
            self.features[rows], self.interviewed[rows], self.admitted[rows], self.specialty[rows], self.group[rows]
        )

    def applicants(self) -> tuple[np.ndarray, np.ndarray]:
        """(start of each applicant's rows, whether the applicant matched), rows grouped by applicant."""
        starts = np.flatnonzero(np.r_[True, self.group[1:] != self.group[:-1]])
        return starts, np.logical_or.reduceat(self.admitted, starts)


def _sampled(outcomes: Sequence[SpecialtyOutcome], applicants_per_specialty: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [
        np.sort(rng.choice(len(o.applicants), min(len(o.applicants), applicants_per_specialty), replace=False))
        for o in outcomes
    ]


def _rows(outcomes: Sequence[SpecialtyOutcome], stats: Mapping[str, SpecialtyStats], chosen: Sequence[np.ndarray]):
    blocks, interviewed, admitted, specialty, group = [], [], [], [], []
    next_group = 0
    for outcome, applicants in tqdm(list(zip(outcomes, chosen, strict=True)), desc="features", unit="specialty"):
        count = len(outcome.applicants)
        order = np.argsort(outcome.pair_applicant, kind="stable")
        starts = np.searchsorted(outcome.pair_applicant[order], np.arange(count + 1))
        for applicant_index in applicants:
            pairs = order[starts[applicant_index] : starts[applicant_index + 1]]
            if not len(pairs):
                continue
            programs = [outcome.programs[j] for j in outcome.pair_program[pairs]]
            blocks.append(build_features(outcome.applicants[applicant_index], programs, stats))
            interviewed.append(outcome.interviewed[pairs])
            admitted.append(outcome.admitted[pairs])
            specialty.append(np.full(len(pairs), outcome.specialty, dtype=object))
            group.append(np.full(len(pairs), next_group))
            next_group += 1
    return Dataset(
        np.concatenate(blocks),
        np.concatenate(interviewed),
        np.concatenate(admitted),
        np.concatenate(specialty),
        np.concatenate(group),
    )


def from_simulation(
    outcomes: Sequence[SpecialtyOutcome],
    stats: Mapping[str, SpecialtyStats],
    applicants_per_specialty: int,
    seed: int,
) -> Dataset:
    """A sample of each specialty's simulated applicants, with all of their applications."""
    return _rows(outcomes, stats, _sampled(outcomes, applicants_per_specialty, seed))


def _unseen(
    outcomes: Sequence[SpecialtyOutcome], applicants_per_specialty: int, seed: int, count: int
) -> list[np.ndarray]:
    rng = np.random.default_rng([seed, 1])
    chosen = []
    for outcome, taken in zip(outcomes, _sampled(outcomes, applicants_per_specialty, seed), strict=True):
        rest = np.setdiff1d(np.arange(len(outcome.applicants)), taken)
        chosen.append(np.sort(rng.choice(rest, min(len(rest), count), replace=False)))
    return chosen


def unseen_by_training(
    outcomes: Sequence[SpecialtyOutcome],
    stats: Mapping[str, SpecialtyStats],
    applicants_per_specialty: int,
    seed: int,
    count: int,
) -> Dataset:
    """Up to `count` applicants per specialty that `from_simulation` with the same arguments did not sample:
    a held-out set many times the test split, so that its calibration error is measured, not sampling noise."""
    return _rows(outcomes, stats, _unseen(outcomes, applicants_per_specialty, seed, count))


def set_aside(
    outcomes: Sequence[SpecialtyOutcome], applicants_per_specialty: int, seed: int, unseen: int, count: int
) -> dict[str, np.ndarray]:
    """Up to `count` applicants per specialty neither `from_simulation` nor `unseen_by_training` (with
    `unseen`) takes: for fitting on the product's own lists without touching what the checks measure."""
    rng = np.random.default_rng([seed, 2])
    chosen = {}
    sampled, held_out = (
        _sampled(outcomes, applicants_per_specialty, seed),
        _unseen(outcomes, applicants_per_specialty, seed, unseen),
    )
    for outcome, taken, checked in zip(outcomes, sampled, held_out, strict=True):
        rest = np.setdiff1d(np.arange(len(outcome.applicants)), np.concatenate([taken, checked]))
        if len(rest):
            chosen[outcome.specialty] = np.sort(rng.choice(rest, min(len(rest), count), replace=False))
    return chosen


def split_by_group(dataset: Dataset, seed: int, shares: tuple[float, float] = (0.7, 0.15)) -> tuple[Dataset, ...]:
    """Train, calibration and held-out test sets; an applicant's rows stay together."""
    rng = np.random.default_rng(seed)
    groups = np.unique(dataset.group)
    draw = rng.random(len(groups))
    train_cut, calibration_cut = shares[0], shares[0] + shares[1]
    part_of_group = np.where(draw < train_cut, 0, np.where(draw < calibration_cut, 1, 2))
    part = part_of_group[np.searchsorted(groups, dataset.group)]
    return tuple(dataset.take(np.nonzero(part == k)[0]) for k in range(3))
