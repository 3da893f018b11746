"""The cyclic garbage collector set for a long-running service.

CPython collects its youngest generation every 700 net allocations and, every so often, walks every object
alive. A service's heap is mostly what start-up built (modules, clients, caches, the ranking catalog) and
lives as long as the process, so each full collection walks it again for nothing, and a request's short-lived
objects fill 700 allocations many times over. Measured under 100 profile updates a second
(docs/benchmarks.md): the gateway spent 13% of its CPU collecting and the ranking worker 6%; with
`settle_after_startup`, 1.3% and 2.9%. What a service builds later and keeps (a school's view of the catalog, a
mentor pool) is frozen the same way when it is built (`freeze_long_lived`). Reference counting still frees every
object without a cycle at once; only cyclic garbage waits for a collection, now at most YOUNG_THRESHOLD
allocations."""

import gc

YOUNG_THRESHOLD = 10_000  # net allocations between collections of the youngest generation (CPython: 700)


def settle_after_startup() -> None:
    """Once start-up is done: its garbage collected, what is left taken out of the collector's generations
    for good (`gc.freeze`), and the youngest generation collected less often."""
    gc.collect()
    freeze_long_lived()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)


def freeze_long_lived() -> None:
    """Takes everything alive now out of the collector's generations (`gc.freeze`), so that full collections
    stop walking it. For a structure a service keeps once built: one replaced later is still freed by
    reference counting as long as it holds no reference cycle."""
    gc.freeze()
