"""MiniGrid program evaluations per second (one evaluation = one program on instances 0..31).

The program mix is fixed and seeded (`program_mix` of `benchmarks/mix.py` with the MiniGrid language: random
programs of the search space and mutants of the MiniGrid fixture programs). Prints one JSON line per task and a
total line. Each task's first evaluation of an instance generates its layout; later ones restore it.

    python benchmarks/minigrid_eval.py [--programs 300]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

from mix import program_mix  # benchmarks/mix.py: this script's folder is on sys.path

from karel.minigrid import MINIGRID, TASKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=300, help="programs per task")
    args = parser.parse_args()
    programs = program_mix(seed=0, count=args.programs, language=MINIGRID)
    total_seconds = 0.0
    for name, task in TASKS.items():
        task.returns(programs[:1])  # layouts generated once, as in a search
        start = time.perf_counter()
        task.returns(programs)
        seconds = time.perf_counter() - start
        total_seconds += seconds
        print(json.dumps({"task": name, "programs": len(programs), "seconds": round(seconds, 3),
                          "evals_per_s": round(len(programs) / seconds, 1),
                          "ms_per_eval": round(1000 * seconds / len(programs), 2)}), flush=True)  # fmt: skip
    count = len(programs) * len(TASKS)
    print(json.dumps({"task": "total", "programs": count, "evals_per_s": round(count / total_seconds, 1),
                      "ms_per_eval": round(1000 * total_seconds / count, 2),
                      "machine": f"{platform.processor() or platform.machine()}, 1 thread"}))  # fmt: skip


if __name__ == "__main__":
    main()
