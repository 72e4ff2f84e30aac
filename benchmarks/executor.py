"""Program evaluations per second: the reference interpreter against the batched executor.

One evaluation = one program on the task's instances 0..31 (32 episodes). The program mix is fixed and
seeded: random programs of the search space plus mutants of the fixture programs, on every Karel task of
the LLM-GS benchmark. Prints one JSON line per (engine, device, task) and one total line per engine.

    python benchmarks/executor.py [--programs 300] [--reference-programs 300] [--devices cpu,cuda]

The batched executor runs the compiled engine on the CPU and the lock-step engine on CUDA
(`karel.executor`). Instances are cached after their first use by either engine, as in a search.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from karel.executor import execute
from karel.interpreter import evaluate
from karel.mix import program_mix
from karel.tasks import make

TASKS = ["StairClimberSparse", "MazeSparse", "TopOff", "FourCorners", "Harvester", "CleanHouse", "DoorKey",
         "OneStroke", "Seeder", "Snake", "PathFollow", "WallAvoider"]  # fmt: skip


def line(**fields) -> None:
    print(json.dumps(fields), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=300, help="programs per task for the batched executor")
    parser.add_argument("--reference-programs", type=int, default=300,
                        help="programs per task for the reference (the first of the same mix)")  # fmt: skip
    parser.add_argument("--devices", default="cpu,cuda", help="devices for the batched executor (cuda if present)")
    args = parser.parse_args()
    devices = [d for d in args.devices.split(",") if d != "cuda" or torch.cuda.is_available()]
    machine = {"cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
               "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None}  # fmt: skip
    totals: dict[tuple[str, str], list[float]] = {}
    for name in TASKS:
        task = make(name)
        programs = program_mix(seed=TASKS.index(name), count=args.programs)
        start = time.perf_counter()
        for program in programs[: args.reference_programs]:
            evaluate(program, task)
        seconds = time.perf_counter() - start
        line(engine="reference", device="cpu", task=name, programs=args.reference_programs, seconds=seconds,
             evals_per_s=args.reference_programs / seconds)  # fmt: skip
        totals.setdefault(("reference", "cpu"), [0, 0.0])
        totals[("reference", "cpu")][0] += args.reference_programs
        totals[("reference", "cpu")][1] += seconds
        for device in devices:
            execute(programs[:8], task, device=device)  # warm-up
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            execute(programs, task, device=device)
            if device == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - start
            line(engine="batched", device=device, task=name, programs=len(programs), seconds=seconds,
                 evals_per_s=len(programs) / seconds)  # fmt: skip
            totals.setdefault(("batched", device), [0, 0.0])
            totals[("batched", device)][0] += len(programs)
            totals[("batched", device)][1] += seconds
    reference_rate = totals[("reference", "cpu")][0] / totals[("reference", "cpu")][1]
    for (engine, device), (count, seconds) in totals.items():
        rate = count / seconds
        line(engine=engine, device=device, task="all", programs=count, seconds=seconds, evals_per_s=rate,
             speedup=rate / reference_rate, machine=machine)  # fmt: skip


if __name__ == "__main__":
    main()
