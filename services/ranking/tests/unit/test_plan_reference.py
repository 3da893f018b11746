"""The fast list optimizer against the plain one it replaced: the same list, signals and curve.

`optimize.plan` compares every group's best program in one vectorized step; `reference_plan` is the loop it
was first written as (one group and level at a time). Both take the same moves in the same order, ties
included, so on random cases with several value groups, signals, exact ties and zero chances they agree."""

import numpy as np
import pytest

from smartpick_ranking.domain.chances import LatentFactor
from smartpick_ranking.domain.optimize import NONE, SECOND, TOP, Portfolio, _validate, plan, portfolio_value


def reference_plan(
    chances: np.ndarray,
    v: np.ndarray,
    budget: int,
    factor: LatentFactor,
    top_signals: int = 0,
    second_signals: int = 0,
) -> Portfolio:
    """optimize.plan as first written: every group and level scanned one at a time, a queue head at a time."""
    chances = np.asarray(chances, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    _validate(chances, v)
    n = len(v)
    levels, group_of = np.unique(-v, return_inverse=True)
    values = -levels
    signaling = top_signals > 0 or second_signals > 0
    # [level, program, node]; without signals to place only the no-signal level is ever read.
    conditional = np.stack([factor.conditional(chances[:, k if signaling else NONE]) for k in range(3)])
    weights = factor.weights
    queues = [
        [
            np.nonzero(group_of == g)[0][np.lexsort((np.nonzero(group_of == g)[0], -chances[group_of == g, k]))]
            for g in range(len(values))
        ]
        for k in range(3)
    ]
    heads = np.zeros((3, len(values)), dtype=int)
    listed = np.zeros(n, dtype=bool)
    level_of = np.full(n, -1)
    none_admits = np.ones((len(values), len(weights)))
    before, reached, after = np.ones_like(none_admits), np.empty_like(none_admits), np.zeros_like(none_admits)
    remaining = {TOP: top_signals, SECOND: second_signals}
    order: list[int] = []
    slots = min(budget, n)
    while True:
        if len(values) == 1 and remaining[TOP] <= 0 and remaining[SECOND] <= 0:
            # One value group and no signal left: every further step adds the likeliest program left (its
            # gain is E[r(z) H(z)] with H >= 0 the same for all), so the rest of the order is a sort.
            rest = [c for c in queues[NONE][0][heads[NONE, 0] :] if not listed[c] and chances[c, NONE] > 0]
            rest = rest[: slots - len(order)]
            for c in rest:
                listed[c], level_of[c] = True, NONE
            order += [int(c) for c in rest]
            break
        np.cumprod(none_admits[:-1], axis=0, out=before[1:])
        np.multiply(before, none_admits, out=reached)  # none of this group or those before admits
        worth = (before - reached) * values[:, None]
        if len(values) > 1:
            np.cumsum(worth[:0:-1], axis=0, out=after[-2::-1])
        h = (values[:, None] * reached - after) * weights
        best = (0.0, None)
        if len(order) < slots:
            for k in (NONE, TOP, SECOND):
                if k != NONE and remaining[k] <= 0:
                    continue
                for g in range(len(values)):
                    queue = queues[k][g]
                    while heads[k, g] < len(queue) and listed[queue[heads[k, g]]]:
                        heads[k, g] += 1
                    if heads[k, g] < len(queue):
                        c = queue[heads[k, g]]
                        gain = float(conditional[k, c] @ h[g])
                        if gain > best[0] + 1e-15:
                            best = (gain, ("add", c, k))
        for k in (TOP, SECOND):
            if remaining[k] <= 0 or not order:
                continue
            chosen = np.array(order)
            upgradable = chosen[(level_of[chosen] == NONE) | ((level_of[chosen] == SECOND) & (k == TOP))]
            if not len(upgradable):
                continue
            g = group_of[upgradable]
            old = conditional[level_of[upgradable], upgradable]
            lift = conditional[k, upgradable] - old
            rest = values[g, None] * reached[g] / np.maximum(1 - old, 1e-12) - after[g]
            gains = (lift * rest * weights).sum(axis=1)
            i = int(np.argmax(gains))
            if gains[i] > best[0] + 1e-15:
                best = (float(gains[i]), ("upgrade", int(upgradable[i]), k))
        if best[1] is None:
            break
        move, c, k = best[1]
        g = group_of[c]
        if move == "add":
            listed[c] = True
            order.append(int(c))
        else:
            none_admits[g] /= np.maximum(1 - conditional[level_of[c], c], 1e-12)
            if level_of[c] == SECOND:
                remaining[SECOND] += 1
        if k != NONE:
            remaining[k] -= 1
        level_of[c] = k
        none_admits[g] *= 1 - conditional[k, c]
    signals = [int(level_of[c]) for c in order]
    final = chances[order, signals] if order else np.empty(0)
    value = portfolio_value(np.asarray(final), v[order], list(range(len(order))), factor) if order else 0.0
    return Portfolio(order, signals, value, [float(x) for x in factor.curve(final)])


def _case(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    n = int(rng.integers(1, 120))
    base = rng.uniform(0, 0.5, n)
    base[rng.random(n) < 0.3] = rng.choice(base, int(np.sum(rng.random(n) < 0.3)) or 1)[0]  # exact ties
    base[rng.random(n) < 0.05] = 0.0
    top = np.minimum(1, base * rng.uniform(1, 4, n))
    second = base + (top - base) * rng.uniform(0, 1, n)
    values = np.round(rng.choice([1.0, 0.85, 0.8, 0.6], n) * rng.choice([1.0, 0.9, 0.8], n), 2)
    if rng.random() < 0.3:
        values = np.ones(n)
    return (
        np.column_stack((base, top, second)),
        values,
        int(rng.integers(1, 90)),
        int(rng.integers(0, 6)),
        int(rng.integers(0, 30)),
    )


@pytest.mark.parametrize("seed", range(60))
def test_the_fast_plan_takes_the_moves_the_plain_loop_takes(seed):
    rng = np.random.default_rng(seed)
    chances, values, budget, tops, seconds = _case(rng)
    factor = LatentFactor.of(float(rng.choice([0.0, 0.7, 1.2])))
    fast = plan(chances, values, budget, factor, tops, seconds)
    plain = reference_plan(chances, values, budget, factor, tops, seconds)
    assert (fast.order, fast.signals) == (plain.order, plain.signals)
    assert fast.curve == pytest.approx(plain.curve, abs=1e-12)
    assert fast.value == pytest.approx(plain.value, abs=1e-12)
