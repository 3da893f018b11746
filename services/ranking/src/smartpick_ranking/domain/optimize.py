"""Which programs to apply to: the portfolio problem of simultaneous search (Chade and Smith,
Econometrica 2006).

An applicant applies to a set S and ends with the best program among those that admit them. With
independent chances p_i and values v_i, the set's worth is E[max v over admitting programs]:

    V(S) = sum_i v_i p_i prod_{j before i} (1 - p_j)      (S ordered by value, highest first)

Chade and Smith show that adding, one at a time, the program with the largest marginal gain in V (their
marginal improvement algorithm) gives an optimal portfolio for every budget. With all values equal it
reduces to maximizing 1 - prod(1 - p_i). The order of addition is the order to apply in, and the curve of
P(at least one match) along it shows where more applications stop helping."""

from dataclasses import dataclass

import numpy as np

# The gain below which one more application is said to stop helping (probability points).
PLATEAU_GAIN = 0.005


@dataclass(frozen=True)
class Portfolio:
    """Chosen programs (indices into the inputs) in the order they were added."""

    order: list[int]
    value: float
    # curve[k] is P(at least one match) applying to the first k+1 programs of `order`.
    curve: list[float]

    @property
    def match_probability(self) -> float:
        return self.curve[-1] if self.curve else 0.0

    @property
    def plateau(self) -> int:
        """Number of applications after which each further one adds less than PLATEAU_GAIN."""
        gains = np.diff([0.0, *self.curve])
        helpful = np.nonzero(gains >= PLATEAU_GAIN)[0]
        return int(helpful[-1]) + 1 if helpful.size else 0


def portfolio_value(p: np.ndarray, v: np.ndarray, chosen: list[int]) -> float:
    """V(S) for the chosen indices (used by the tests' brute force and by the algorithm's check)."""
    if not chosen:
        return 0.0
    idx = np.array(chosen)[np.argsort(-v[chosen], kind="stable")]
    none_before = np.concatenate(([1.0], np.cumprod(1 - p[idx])[:-1]))
    return float(np.sum(v[idx] * p[idx] * none_before))


def optimal_portfolio(p: np.ndarray, v: np.ndarray, budget: int) -> Portfolio:
    """Marginal improvement algorithm, in steps that cost the number of distinct values, not of candidates.

    Group the chosen programs by value, highest first; a group's worth does not depend on the order inside
    it. With P_g the chance none of group g admits, Q_g the chance none of the groups before g admits, and
    B_g the worth of the groups after g, adding candidate c to its group g changes V by
    p_c * (v_g * Q_g * P_g - B_g). Within a group the gain is largest for the largest p_c, so a step
    compares only the best remaining candidate of each group (a handful in the product: a specialty's rank
    times an in-state factor) and picks what a scan of every candidate would (up to rounding), ties to
    the lowest index."""
    p = np.asarray(p, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    if p.shape != v.shape or p.ndim != 1:
        raise ValueError("p and v must be 1-d arrays of the same length")
    if np.any((p < 0) | (p > 1)) or np.any(v < 0):
        raise ValueError("p must lie in [0, 1] and v must be non-negative")
    levels, group_of = np.unique(-v, return_inverse=True)  # groups by value, highest first
    # Each group's candidates, highest p first, then lowest index.
    by_group = np.lexsort((np.arange(p.size), -p, group_of))
    sizes = np.bincount(group_of, minlength=levels.size)
    queues = [q.tolist() for q in np.split(by_group, np.cumsum(sizes)[:-1])] if p.size else []
    values, chances = (-levels).tolist(), p.tolist()
    none_admits = [1.0] * len(values)  # P_g
    heads = [0] * len(values)
    order: list[int] = []
    for _ in range(min(budget, p.size)):
        before, none_before = [], 1.0  # Q_g
        for none in none_admits:
            before.append(none_before)
            none_before *= none
        after, worth_after = [0.0] * len(values), 0.0  # B_g
        for g in reversed(range(len(values))):
            after[g] = worth_after
            worth_after += before[g] * values[g] * (1.0 - none_admits[g])
        best, best_gain, best_group = -1, 0.0, -1
        for g, queue in enumerate(queues):
            if heads[g] == len(queue):
                continue
            c = queue[heads[g]]
            gain = chances[c] * (values[g] * before[g] * none_admits[g] - after[g])
            if gain > best_gain or (gain == best_gain and best_group >= 0 and c < best):
                best, best_gain, best_group = c, gain, g
        if best_group < 0:
            break
        heads[best_group] += 1
        none_admits[best_group] *= 1.0 - chances[best]
        order.append(best)
    curve = list(1 - np.cumprod(1 - p[order])) if order else []
    return Portfolio(order=order, value=portfolio_value(p, v, order), curve=[float(x) for x in curve])
