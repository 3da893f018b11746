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
    """Marginal improvement algorithm, vectorized: each step scores every candidate in O(n log n).

    Inserting c among the chosen (kept sorted by value, highest first) at position k changes V by
    p_c * (v_c * Q_k - B_k), where Q_k is the chance none of the first k admit and B_k is the worth
    the chosen programs from position k on contribute."""
    p = np.asarray(p, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    if p.shape != v.shape or p.ndim != 1:
        raise ValueError("p and v must be 1-d arrays of the same length")
    if np.any((p < 0) | (p > 1)) or np.any(v < 0):
        raise ValueError("p must lie in [0, 1] and v must be non-negative")
    available = np.ones(p.size, dtype=bool)
    chosen_sorted: list[int] = []  # by value, highest first
    order: list[int] = []
    for _ in range(min(budget, p.size)):
        cp, cv = p[chosen_sorted], v[chosen_sorted]
        q = np.concatenate(([1.0], np.cumprod(1 - cp)))  # q[k]: none of the first k admit
        terms = cv * cp * q[:-1]
        b = np.concatenate((np.cumsum(terms[::-1])[::-1], [0.0]))  # b[k]: worth from position k on
        # position of each candidate: after every chosen program of strictly higher value
        k = np.searchsorted(-cv, -v, side="right") if chosen_sorted else np.zeros(p.size, dtype=int)
        gain = np.where(available, p * (v * q[k] - b[k]), -np.inf)
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        available[best] = False
        order.append(best)
        chosen_sorted.insert(int(k[best]), best)
    curve = list(1 - np.cumprod(1 - p[order])) if order else []
    return Portfolio(order=order, value=portfolio_value(p, v, order), curve=[float(x) for x in curve])
