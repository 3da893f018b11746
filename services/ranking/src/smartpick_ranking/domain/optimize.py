"""Which programs to apply to, and which get the signals: the portfolio problem of simultaneous search
(Chade and Smith, Econometrica 2006) with correlated admissions and a signal budget.

An applicant applies to a set S and ends with the best program among those that admit them. Given the
latent applicant factor z (`chances.LatentFactor`), admissions are independent with chances p_i(z), and
with values v_i the set's worth is

    V(S | z) = sum_i v_i p_i(z) prod_{j before i} (1 - p_j(z))      (S ordered by value, highest first)

and the objective is its average over z. With equal values it is P(at least one match).

Chade and Smith show that adding, one at a time, the program with the largest marginal gain (marginal
improvement) is optimal for independent chances. Here the chances are correlated and a signal changes a
program's chance, so the same greedy runs over moves: add a program (with no signal, the top signal or
the second signal while any is left), or give a listed program a signal. It is checked against a brute
force on small cases in the tests; the order of the moves is the order to apply in."""

from dataclasses import dataclass

import numpy as np

from smartpick_ranking.domain.chances import LatentFactor

# The gain below which one more application is said to stop helping (probability points).
PLATEAU_GAIN = 0.005
_TIE = 1e-15  # a move replaces the best so far only if its gain is larger by more than this
NONE, TOP, SECOND = 0, 1, 2  # signal levels: columns of the chances given to `plan`


@dataclass(frozen=True)
class Portfolio:
    """Chosen programs (indices into the inputs) in the order they were added, and each one's signal."""

    order: list[int]
    signals: list[int]  # NONE, TOP or SECOND, per entry of `order`
    value: float
    # curve[k] is P(at least one match) applying to the first k+1 programs of `order`, as signaled.
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


def portfolio_value(p: np.ndarray, v: np.ndarray, chosen: list[int], factor: LatentFactor) -> float:
    """E_z V(S | z) for the chosen indices with chances p (used by the brute force and the result)."""
    if not chosen:
        return 0.0
    idx = np.array(chosen)[np.argsort(-v[chosen], kind="stable")]
    conditional = factor.conditional(p[idx])  # [programs, nodes]
    none_before = np.vstack((np.ones(conditional.shape[1]), np.cumprod(1 - conditional, axis=0)[:-1]))
    return float(factor.weights @ (v[idx, None] * conditional * none_before).sum(axis=0))


def _validate(chances: np.ndarray, v: np.ndarray) -> None:
    if chances.ndim != 2 or chances.shape[1] != 3 or v.shape != (chances.shape[0],):
        raise ValueError("chances must be [n, 3] (no signal, top, second) and values [n]")
    if np.any((chances < 0) | (chances > 1)) or np.any(v < 0):
        raise ValueError("chances must lie in [0, 1] and values must be non-negative")


def plan(
    chances: np.ndarray,
    v: np.ndarray,
    budget: int,
    factor: LatentFactor,
    top_signals: int = 0,
    second_signals: int = 0,
) -> Portfolio:
    """The greedy list and signal plan. `chances[i]` is program i's chance with no signal, the top signal
    and the second signal.

    Programs are grouped by value, highest first. With P_g(z) the chance none of group g admits, Q_g(z) the
    chance none of the groups before g admits and B_g(z) the worth of the groups after g, adding a program
    with chance r(z) to group g changes the objective by E_z[r(z) H_g(z)], H_g = v_g Q_g P_g - B_g >= 0, and
    raising a listed program's chance from r to r' by E_z[(r' - r) (v_g Q_g P_g / (1 - r) - B_g)]. As
    H_g >= 0 and r(z) rises with the program's chance, a step compares only the best remaining program of
    each group at each signal level, plus the signal upgrades of the listed programs."""
    chances = np.asarray(chances, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    _validate(chances, v)
    n = len(v)
    levels, group_of = np.unique(-v, return_inverse=True)
    values = -levels
    column = values[:, None]
    signaling = top_signals > 0 or second_signals > 0
    # [level, program, node]; without signals to place only the no-signal level is ever read.
    if signaling:
        conditional = np.stack([factor.conditional(chances[:, k]) for k in range(3)])
    else:
        conditional = np.broadcast_to(factor.conditional(chances[:, NONE]), (3, n, len(factor.weights)))
    weights = factor.weights
    queues = _Queues(chances, group_of, len(values), conditional)
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
            rest = [c for c in queues.rest(NONE, 0) if not listed[c] and chances[c, NONE] > 0][: slots - len(order)]
            for c in rest:
                listed[c], level_of[c] = True, NONE
            order += [int(c) for c in rest]
            break
        # ufunc.accumulate itself: np.cumprod and np.cumsum are the same sums with twice the call overhead.
        np.multiply.accumulate(none_admits[:-1], axis=0, out=before[1:])
        np.multiply(before, none_admits, out=reached)  # none of this group or those before admits
        worth = (before - reached) * column
        if len(values) > 1:
            np.add.accumulate(worth[:0:-1], axis=0, out=after[-2::-1])
        h = (column * reached - after) * weights
        best = (0.0, None)
        if len(order) < slots:
            allowed = [k for k in (NONE, TOP, SECOND) if k == NONE or remaining[k] > 0]
            best = queues.best_add(allowed, h)
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
            i = int(gains.argmax())
            if gains[i] > best[0] + _TIE:
                best = (float(gains[i]), ("upgrade", int(upgradable[i]), k))
        if best[1] is None:
            break
        move, c, k = best[1]
        g = group_of[c]
        if move == "add":
            listed[c] = True
            order.append(int(c))
            queues.take(c, listed)
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


class _Queues:
    """Per signal level and value group, the programs not yet listed, likeliest first (ties: input order).
    As H_g >= 0, the best program to add from a group at a level is the head of its queue; the heads' p(z)
    are kept side by side, so a step's gains are one product over [level, group, node]."""

    def __init__(self, chances: np.ndarray, group_of: np.ndarray, groups: int, conditional: np.ndarray):
        index = np.arange(len(group_of))
        # One array per level: grouped, then by falling chance, then by index; group g is [start[g], end[g]).
        self.order = np.stack([np.lexsort((index, -chances[:, k], group_of)) for k in range(3)])
        self.group_of, self.conditional = group_of, conditional
        start = np.searchsorted(group_of[self.order[0]], np.arange(groups))
        self.end = np.append(start[1:], len(group_of)).tolist()
        self.heads = np.tile(start, (3, 1)).tolist()  # position in `order` of each queue's head
        self.head_program = self.order[:, start].copy()  # [level, group]; -1 once a queue is empty
        self.head_conditional = conditional[np.arange(3)[:, None], self.head_program]  # [level, group, node]

    def rest(self, k: int, g: int) -> np.ndarray:
        return self.order[k, self.heads[k][g] : self.end[g]]

    def take(self, c: int, listed: np.ndarray) -> None:
        """Program c was listed: the heads of its group move past every listed program."""
        g = self.group_of[c]
        end = self.end[g]
        for k in range(3):
            at, queue = self.heads[k][g], self.order[k]
            while at < end and listed[queue[at]]:
                at += 1
            self.heads[k][g] = at
            if at < end:
                self.head_program[k, g] = queue[at]
                self.head_conditional[k, g] = self.conditional[k, queue[at]]
            else:
                self.head_program[k, g] = -1

    def best_add(self, allowed: list[int], h: np.ndarray) -> tuple[float, tuple | None]:
        """The largest gain E_z[r(z) H_g(z)] over the heads of every group at the allowed levels, and its move.
        Taken as a scan in (level, group) order would take it: a gain wins only past the best so far by more
        than _TIE, so of gains within _TIE of each other the first one scanned is chosen."""
        every = len(allowed) == 3
        heads = (self.head_program if every else self.head_program[allowed]).ravel()  # scan order
        conditional = self.head_conditional if every else self.head_conditional[allowed]
        gains = np.einsum("kgz,gz->kg", conditional, h).ravel()
        gains[heads < 0] = -np.inf  # an empty queue
        top = int(gains.argmax())
        if np.count_nonzero(gains > gains[top] - _TIE) > 1:
            top = _first_past_ties(gains)
        if not gains[top] > _TIE:
            return 0.0, None
        return float(gains[top]), ("add", int(heads[top]), allowed[top // len(h)])


def _first_past_ties(gains: np.ndarray) -> int:
    """The index a scan keeping the best so far, replaced only by a gain larger by more than _TIE, ends on."""
    best, found = 0.0, 0
    for i, gain in enumerate(gains.tolist()):
        if gain > best + _TIE:
            best, found = gain, i
    return found


def optimal_portfolio(p: np.ndarray, v: np.ndarray, budget: int, factor: LatentFactor) -> Portfolio:
    """The list without signals (the what-if of a student who sends none)."""
    p = np.asarray(p, dtype=np.float64)
    return plan(np.column_stack((p, p, p)), v, budget, factor)
