"""How a batch of feature rows reaches the model: one call for many blocks, and rows at several signal levels.

A signal plan needs every candidate scored with no signal, the top signal and the second signal: rows that
differ only in the signal columns (`features.at_signal_level`). `PredictLevels` is that request for a
whole batch; `stacked` answers it with one call of any `Predict`, a scorer that knows which part of its
model never reads a signal (`adapters.onnx_model`) answers the same numbers with less work."""

import itertools
from collections.abc import Callable, Sequence

import numpy as np

from smartpick_ranking.domain.features import at_signal_level

Predict = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
# A signal level for every row of a block (2 top, 1 second, 0 none), or None: the rows as they were built.
Level = float | None
LevelBlock = tuple[np.ndarray, Sequence[Level]]
# (interview, admission) per block, each [rows, levels] in the order of the block's levels.
PredictLevels = Callable[[Sequence[LevelBlock]], list[tuple[np.ndarray, np.ndarray]]]


def rows_at(rows: np.ndarray, level: Level) -> np.ndarray:
    return rows if level is None else at_signal_level(rows, level)


def predict_blocks(predict: Predict, blocks: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """One model call over several feature blocks; the answers split back per block."""
    sizes = [len(block) for block in blocks]
    if not any(sizes):
        return [(np.empty(0), np.empty(0)) for _ in blocks]
    interview, admission = predict(np.concatenate([b for b in blocks if len(b)]))
    bounds = np.cumsum([0, *sizes])
    return [(interview[a:b], admission[a:b]) for a, b in itertools.pairwise(bounds)]


def by_level(answers: Sequence[np.ndarray], blocks: Sequence[LevelBlock]) -> list[np.ndarray]:
    """Flat answers, block after block and level after level within a block, as [rows, levels] per block."""
    found, at = [], 0
    for rows, levels in blocks:
        size = len(rows) * len(levels)
        found.append(np.asarray(answers[at : at + size]).reshape(len(levels), len(rows)).T)
        at += size
    return found


def stacked(predict: Predict) -> PredictLevels:
    """PredictLevels by one call of `predict` on every block's rows at each of its levels."""

    def predict_levels(blocks: Sequence[LevelBlock]) -> list[tuple[np.ndarray, np.ndarray]]:
        answers = predict_blocks(predict, [rows_at(rows, level) for rows, levels in blocks for level in levels])
        interview = np.concatenate([i for i, _ in answers]) if answers else np.empty(0)
        admission = np.concatenate([a for _, a in answers]) if answers else np.empty(0)
        return list(zip(by_level(interview, blocks), by_level(admission, blocks), strict=True))

    return predict_levels
