"""The collector setting every service takes once its start-up is done."""

import gc

from smartpick_platform import heap


def test_startups_heap_is_frozen_and_the_youngest_generation_collected_less_often():
    before = gc.get_threshold()
    gc.unfreeze()
    try:
        kept = [[] for _ in range(1000)]  # alive at the end of start-up
        heap.settle_after_startup()
        assert gc.get_freeze_count() >= len(kept)
        assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
