"""Program evaluations per second: the reference interpreter against the VM (`karel.vm`) on the CPU and CUDA.

One evaluation = one program on the task's instances 0..31 (32 episodes) with the full 10,000-call budget.
The program mix (`benchmark_mix` of `benchmarks/mix.py`) is like the programs an LLM-GS search evaluates:
random search-space programs, mutants of the fixture programs, budget-exhausting REPEAT nests and loop-heavy
WHILEs, seeded per task, on every Karel task of the LLM-GS benchmark. The VM runs in process on `--threads`
CPU threads (default 1), best of `--repeats` runs after a warm-up (compilation excluded); the reference runs
once on the first `--reference-programs` programs of the same mix. Prints one JSON line per (engine,
device, task) and one total line per engine and device, with calls per episode and ns per call.
`--clock process` times CPU seconds of this process instead of wall seconds: with one thread on a machine
shared with other jobs, that leaves out the time other jobs hold the core (CUDA runs always use the wall).

    python benchmarks/executor.py [--programs 200] [--reference-programs 40] [--threads 1] [--devices cpu,cuda]
                                  [--clock wall|process]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numba
import torch
from mix import benchmark_mix  # benchmarks/mix.py: this script's folder is on sys.path

from karel.executor import execute
from karel.interpreter import evaluate
from karel.tasks import make

TASKS = ["StairClimberSparse", "MazeSparse", "TopOff", "FourCorners", "Harvester", "CleanHouse", "DoorKey",
         "OneStroke", "Seeder", "Snake", "PathFollow", "WallAvoider"]  # fmt: skip


def line(**fields) -> None:
    print(json.dumps(fields), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=200, help="programs per task for the VM")
    parser.add_argument("--reference-programs", type=int, default=40,
                        help="programs per task for the reference (the first of the same mix)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of the VM")
    parser.add_argument("--repeats", type=int, default=3, help="VM runs per task; the best counts")
    parser.add_argument("--devices", default="cpu,cuda", help="devices of the VM (cuda if present)")
    parser.add_argument("--clock", choices=["wall", "process"], default="wall",
                        help="wall seconds, or CPU seconds of this process (for one thread on a shared machine)")  # fmt: skip
    args = parser.parse_args()
    numba.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    devices = [d for d in args.devices.split(",") if d != "cuda" or torch.cuda.is_available()]
    machine = {"cpu": platform.processor() or platform.machine(), "threads": args.threads, "clock": args.clock,
               "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None}  # fmt: skip
    totals: dict[tuple[str, str], list[float]] = {}
    cpu_clock = time.process_time if args.clock == "process" else time.perf_counter

    def record(engine: str, device: str, name: str, programs: int, seconds: float, calls: int) -> None:
        episodes = programs * 32
        line(engine=engine, device=device, task=name, programs=programs, seconds=seconds,
             evals_per_s=programs / seconds, calls_per_episode=calls / episodes, ns_per_call=seconds / calls * 1e9)  # fmt: skip
        total = totals.setdefault((engine, device), [0, 0.0, 0])
        total[0] += programs
        total[1] += seconds
        total[2] += calls

    for name in TASKS:
        task = make(name)
        programs = benchmark_mix(seed=TASKS.index(name), count=args.programs)
        reference = programs[: args.reference_programs]
        start = cpu_clock()
        for program in reference:
            evaluate(program, task)
        seconds = cpu_clock() - start
        calls = int(execute(reference, task).calls.sum())  # the reference's calls (tests: identical)
        record("reference", "cpu", name, len(reference), seconds, calls)
        for device in devices:
            execute(programs[:8], task, device=device)  # warm-up: compilation, instances
            best = float("inf")
            clock = time.perf_counter if device == "cuda" else cpu_clock
            for _ in range(args.repeats):
                if device == "cuda":
                    torch.cuda.synchronize()
                start = clock()
                result = execute(programs, task, device=device)
                if device == "cuda":
                    torch.cuda.synchronize()
                best = min(best, clock() - start)
            record("vm", device, name, len(programs), best, int(result.calls.sum()))
    reference_rate = totals[("reference", "cpu")][0] / totals[("reference", "cpu")][1]
    for (engine, device), (count, seconds, calls) in totals.items():
        rate = count / seconds
        line(engine=engine, device=device, task="all", programs=count, seconds=seconds, evals_per_s=rate,
             episodes_per_s=32 * rate, calls_per_episode=calls / (32 * count), ns_per_call=seconds / calls * 1e9,
             speedup=rate / reference_rate, machine=machine)  # fmt: skip


if __name__ == "__main__":
    main()
