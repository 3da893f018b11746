"""Training rows: one per application (applicant, program), with the feature matrix of domain.features."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from smartpick_ranking.domain.catalog import SpecialtyStats
from smartpick_ranking.domain.features import FEATURE_NAMES, build_features
from smartpick_ranking.training.simulation import SpecialtyOutcome


@dataclass(frozen=True)
class Dataset:
    features: np.ndarray  # float32 [n, len(FEATURE_NAMES)]
    interviewed: np.ndarray  # bool [n]
    matched: np.ndarray  # bool [n]; matched implies interviewed
    specialty: np.ndarray  # str [n]
    group: np.ndarray  # int [n]: the applicant, so that splits never cut one applicant's rows apart

    def __post_init__(self):
        n = len(self.features)
        if self.features.shape[1:] != (len(FEATURE_NAMES),):
            raise ValueError(f"features must have {len(FEATURE_NAMES)} columns")
        if not all(len(column) == n for column in (self.interviewed, self.matched, self.specialty, self.group)):
            raise ValueError("every column must have one entry per row")
        if np.any(self.matched & ~self.interviewed):
            raise ValueError("a matched row must be interviewed")

    def take(self, rows: np.ndarray) -> "Dataset":
        return Dataset(
            self.features[rows], self.interviewed[rows], self.matched[rows], self.specialty[rows], self.group[rows]
        )


def from_simulation(
    outcomes: Sequence[SpecialtyOutcome],
    stats: Mapping[str, SpecialtyStats],
    applicants_per_specialty: int,
    seed: int,
) -> Dataset:
    """A sample of each specialty's simulated applicants, with all of their applications."""
    rng = np.random.default_rng(seed)
    blocks, interviewed, matched, specialty, group = [], [], [], [], []
    next_group = 0
    for outcome in tqdm(outcomes, desc="features", unit="specialty"):
        count = len(outcome.applicants)
        chosen = np.sort(rng.choice(count, min(count, applicants_per_specialty), replace=False))
        order = np.argsort(outcome.pair_applicant, kind="stable")
        starts = np.searchsorted(outcome.pair_applicant[order], np.arange(count + 1))
        for applicant_index in chosen:
            pairs = order[starts[applicant_index] : starts[applicant_index + 1]]
            if not len(pairs):
                continue
            programs = [outcome.programs[j] for j in outcome.pair_program[pairs]]
            blocks.append(build_features(outcome.applicants[applicant_index], programs, stats))
            interviewed.append(outcome.interviewed[pairs])
            matched.append(outcome.matched[pairs])
            specialty.append(np.full(len(pairs), outcome.specialty, dtype=object))
            group.append(np.full(len(pairs), next_group))
            next_group += 1
    return Dataset(
        np.concatenate(blocks),
        np.concatenate(interviewed),
        np.concatenate(matched),
        np.concatenate(specialty),
        np.concatenate(group),
    )


def split_by_group(dataset: Dataset, seed: int, shares: tuple[float, float] = (0.7, 0.15)) -> tuple[Dataset, ...]:
    """Train, calibration and held-out test sets; an applicant's rows stay together."""
    rng = np.random.default_rng(seed)
    groups = np.unique(dataset.group)
    draw = rng.random(len(groups))
    train_cut, calibration_cut = shares[0], shares[0] + shares[1]
    part_of_group = np.where(draw < train_cut, 0, np.where(draw < calibration_cut, 1, 2))
    part = part_of_group[np.searchsorted(groups, dataset.group)]
    return tuple(dataset.take(np.nonzero(part == k)[0]) for k in range(3))
