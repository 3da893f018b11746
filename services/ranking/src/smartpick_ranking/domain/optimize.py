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
    """E_z V(S | z) for the chosen indices with chances p (used by the brute force; `plan` takes its p(z))."""
    if not chosen:
        return 0.0
    idx = np.array(chosen)[np.argsort(-v[chosen], kind="stable")]
    return _value(factor.conditional(p[idx]), v[idx], factor.weights)


def _value(conditional: np.ndarray, v: np.ndarray, weights: np.ndarray) -> float:
    """E_z V(S | z) from the p(z) [programs, nodes] and values of S's programs, highest value first."""
    none_before = np.vstack((np.ones(conditional.shape[1]), np.cumprod(1 - conditional, axis=0)[:-1]))
    return float(weights @ (v[:, None] * conditional * none_before).sum(axis=0))


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
    slots = min(budget, n)
    queues = _Queues(chances, group_of, len(values), slots, factor, top_signals > 0 or second_signals > 0)
    conditional, weights, group = queues.conditional, factor.weights, group_of.tolist()
    listed = [False] * n
    level_of = np.full(n, -1)
    listed_at = [0, 0, 0]  # listed programs per signal level, to skip the upgrades when none can be made
    # Buffers for the step's products, and the views of them it reads and writes, made once. The values and
    # weights are spread to [group, node] too: the same products as broadcasting, without its cost per call.
    none_admits = np.ones((len(values), len(weights)))
    column, weighting = np.repeat(values[:, None], len(weights), axis=1), np.tile(weights, (len(values), 1))
    before, reached, after = np.ones_like(none_admits), np.empty_like(none_admits), np.zeros_like(none_admits)
    worth, h = np.empty_like(none_admits), np.empty_like(none_admits)
    admits_above, before_below, worth_up, after_up = none_admits[:-1], before[1:], worth[:0:-1], after[-2::-1]
    remaining = {TOP: top_signals, SECOND: second_signals}
    order: list[int] = []
    while True:
        if len(values) == 1 and remaining[TOP] <= 0 and remaining[SECOND] <= 0:
            # One value group and no signal left: every further step adds the likeliest program left (its
            # gain is E[r(z) H(z)] with H >= 0 the same for all), so the rest of the order is a sort.
            rest = [c for c in queues.rest(NONE, 0) if not listed[c] and chances[c, NONE] > 0][: slots - len(order)]
            for c in rest:
                listed[c], level_of[c] = True, NONE
            order += rest
            break
        # ufunc.accumulate itself: np.cumprod and np.cumsum are the same sums with twice the call overhead.
        np.multiply.accumulate(admits_above, axis=0, out=before_below)
        np.multiply(before, none_admits, out=reached)  # none of this group or those before admits
        if len(values) > 1:
            np.multiply(np.subtract(before, reached, out=worth), column, out=worth)
            np.add.accumulate(worth_up, axis=0, out=after_up)
        np.multiply(np.subtract(np.multiply(column, reached, out=h), after, out=h), weighting, out=h)
        best = (0.0, None)
        if len(order) < slots:
            best = queues.best_add(_open_levels(remaining[TOP] > 0, remaining[SECOND] > 0), h)
        # A listed program can move up to a better signal: to TOP from SECOND or NONE, to SECOND from NONE.
        upgrades = [
            k for k in (TOP, SECOND) if remaining[k] > 0 and (listed_at[NONE] or (k == TOP and listed_at[SECOND]))
        ]
        if upgrades:
            # The first level's candidates, worked out once: the second level's (SECOND) are those at NONE.
            chosen = np.array(order)
            level = level_of[chosen]
            upgradable = chosen[(level == NONE) | ((level == SECOND) & (upgrades[0] == TOP))]
            g = group_of[upgradable]
            old = conditional[level_of[upgradable], upgradable]
            rest = values[g, None] * reached[g] / np.maximum(1 - old, 1e-12) - after[g]
            for k in upgrades:
                if k != upgrades[0]:
                    at_none = level_of[upgradable] == NONE
                    upgradable, old, rest = upgradable[at_none], old[at_none], rest[at_none]
                lift = conditional[k, upgradable] - old
                gains = (lift * rest * weights).sum(axis=1)
                i = int(gains.argmax())
                if gains[i] > best[0] + _TIE:
                    best = (float(gains[i]), ("upgrade", int(upgradable[i]), k))
        if best[1] is None:
            break
        move, c, k = best[1]
        g = group[c]
        if move == "add":
            listed[c] = True
            order.append(c)
            queues.take(c, listed)
        else:
            none_admits[g] /= np.maximum(1 - conditional[level_of[c], c], 1e-12)
            listed_at[level_of[c]] -= 1
            if level_of[c] == SECOND:
                remaining[SECOND] += 1
        if k != NONE:
            remaining[k] -= 1
        level_of[c] = k
        listed_at[k] += 1
        none_admits[g] *= 1 - conditional[k, c]
    signals = [int(level_of[c]) for c in order]
    # The list's p(z) as signaled, in order, which portfolio_value and factor.curve would compute again.
    rows, by_value = conditional[signals, order], np.argsort(-v[order], kind="stable")
    value = _value(rows[by_value], v[order][by_value], weights) if order else 0.0
    return Portfolio(order, signals, value, factor.curve_of(rows).tolist())


def _open_levels(top: bool, second: bool) -> slice:
    """The signal levels a new program may take, as a slice of (NONE, TOP, SECOND) so that no copy is made."""
    if second:
        return slice(NONE, SECOND + 1, 1 if top else 2)
    return slice(NONE, TOP + 1 if top else NONE + 1, 1)


class _Queues:
    """Per signal level and value group, the programs not yet listed, likeliest first (ties: input order).
    As H_g >= 0, the best program to add from a group at a level is the head of its queue; the heads' p(z)
    are kept side by side, so a step's gains are one product over [level, group, node].

    A head only moves past listed programs, so it never goes more than `slots` into its group, and every
    listed program was a head: only the programs within `slots` of the front of some queue get their p(z)
    computed (`conditional`, [level, program, node]; the other rows are left unset, as they are never read)."""

    def __init__(
        self, chances: np.ndarray, group_of: np.ndarray, groups: int, slots: int, factor: LatentFactor, signaling: bool
    ):
        n = len(group_of)
        # One array per level: grouped, then by falling chance, then by index (the sort is stable), so group g
        # is [start[g], end[g]). Contiguous keys sort faster.
        order = np.lexsort((np.negative(chances.T, order="C"), np.tile(group_of, (3, 1))))
        start = np.searchsorted(group_of[order[0]], np.arange(groups))
        self.end = np.append(start[1:], n).tolist()
        depth = np.arange(n) - start[group_of[order[0]]]  # position within the group, at every level
        reachable = np.zeros(n, dtype=bool)
        reachable[order[:, depth <= slots]] = True
        # Without signals to place only the no-signal level is ever read.
        if signaling:
            self.conditional = np.empty((3, n, len(factor.weights)))
            near = factor.conditional(chances[reachable].T.ravel())
            self.conditional[:, reachable] = near.reshape(3, -1, len(factor.weights))
        else:
            none = np.empty((n, len(factor.weights)))
            none[reachable] = factor.conditional(chances[reachable, NONE])
            self.conditional = np.broadcast_to(none, (3, n, len(factor.weights)))
        self.order = order.tolist()
        self.group_of = group_of.tolist()
        self.heads = np.tile(start, (3, 1)).tolist()  # position in `order` of each queue's head
        self.head_program = order[:, start].tolist()  # [level][group]
        self.head_conditional = self.conditional[np.arange(3)[:, None], order[:, start]]  # [level, group, node]
        self.empty, self.any_empty = np.zeros((3, groups), dtype=bool), False  # queues with no program left

    def rest(self, k: int, g: int) -> list[int]:
        return self.order[k][self.heads[k][g] : self.end[g]]

    def take(self, c: int, listed: list[bool]) -> None:
        """Program c was listed: the heads of its group move past every listed program. A head that is not c
        stays, as it is not listed and every program before it is."""
        g = self.group_of[c]
        end = self.end[g]
        for k, queue in enumerate(self.order):
            at = self.heads[k][g]
            if queue[at] != c:
                continue
            while at < end and listed[queue[at]]:
                at += 1
            self.heads[k][g] = at
            if at < end:
                self.head_program[k][g] = queue[at]
                self.head_conditional[k, g] = self.conditional[k, queue[at]]
            else:
                self.empty[k, g], self.any_empty = True, True

    def best_add(self, open_levels: slice, h: np.ndarray) -> tuple[float, tuple | None]:
        """The largest gain E_z[r(z) H_g(z)] over the heads of every group at the open levels, and its move.
        Taken as a scan in (level, group) order would take it: a gain wins only past the best so far by more
        than _TIE, so of gains within _TIE of each other the first one scanned is chosen."""
        gains = np.einsum("kgz,gz->kg", self.head_conditional[open_levels], h)
        if self.any_empty:
            gains[self.empty[open_levels]] = -np.inf
        top = int(gains.argmax())
        scan = gains.ravel().tolist()
        floor = scan[top] - _TIE
        if len([gain for gain in scan if gain > floor]) > 1:
            top = _first_past_ties(scan)
        if not scan[top] > _TIE:
            return 0.0, None
        k, g = divmod(top, len(h))
        k *= open_levels.step  # the open levels are NONE and every step-th one after it
        return scan[top], ("add", self.head_program[k][g], k)


def _first_past_ties(gains: list[float]) -> int:
    """The index a scan keeping the best so far, replaced only by a gain larger by more than _TIE, ends on."""
    best, found = 0.0, 0
    for i, gain in enumerate(gains):
        if gain > best + _TIE:
            best, found = gain, i
    return found


def optimal_portfolio(p: np.ndarray, v: np.ndarray, budget: int, factor: LatentFactor) -> Portfolio:
    """The list without signals (the what-if of a student who sends none)."""
    p = np.asarray(p, dtype=np.float64)
    return plan(np.column_stack((p, p, p)), v, budget, factor)
