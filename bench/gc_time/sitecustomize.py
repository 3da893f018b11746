"""Time in the cyclic garbage collector, per process of a benchmark's stack (bench/gc_share.py prints it).

Python imports this at start-up when this directory is on PYTHONPATH; the stack's processes inherit the
environment. With SMARTPICK_GC_TIME_DIR set, every process times each collection (`gc.callbacks`) and
writes its totals there every 5 s, beside its CPU seconds. Run:
  SMARTPICK_GC_TIME_DIR=/tmp/gc PYTHONPATH=bench/gc_time .venv/bin/python bench/profile_updates.py ...
  .venv/bin/python bench/gc_share.py /tmp/gc"""

import os

if os.environ.get("SMARTPICK_GC_TIME_DIR"):
    import gc
    import json
    import sys
    import threading
    import time

    _seconds, _collections, _started = [0.0, 0.0, 0.0], [0, 0, 0], [0.0]

    def _timed(phase: str, info: dict) -> None:
        if phase == "start":
            _started[0] = time.perf_counter()
        else:
            _seconds[info["generation"]] += time.perf_counter() - _started[0]
            _collections[info["generation"]] += 1

    def _write_every_5_seconds() -> None:
        path = os.path.join(os.environ["SMARTPICK_GC_TIME_DIR"], f"{os.getpid()}.json")
        while True:
            time.sleep(5)
            totals = {"argv": sys.argv, "seconds": _seconds, "collections": _collections, "cpu": time.process_time()}
            with open(path, "w") as out:
                json.dump(totals, out)

    gc.callbacks.append(_timed)
    threading.Thread(target=_write_every_5_seconds, daemon=True).start()
