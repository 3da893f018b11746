"""Prints each process's time in the garbage collector against its CPU time, from what bench/gc_time
recorded (its docstring says how). Run: .venv/bin/python bench/gc_share.py DIR"""

import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()
    print(f"{'process':44s} {'CPU s':>7s} {'GC s':>6s} {'GC %':>5s}  collections by generation (0, 1, 2)")
    for path in sorted(args.directory.glob("*.json")):
        totals = json.loads(path.read_text())
        if totals["cpu"] < 1:
            continue  # a short-lived command (a migration, a key issued)
        process = " ".join(Path(a).name for a in totals["argv"][:2])[:44]
        cpu, spent = totals["cpu"], sum(totals["seconds"])
        print(f"{process:44s} {cpu:7.1f} {spent:6.2f} {100 * spent / cpu:5.1f}  {totals['collections']}")


if __name__ == "__main__":
    main()
