"""Rows of docs/results.md's held-out table ("Held-out returns under LLM-GS' protocol") from a folder of run
folders: one row per task and method, mean ± s.e. over seeds, in the table's task order.

    python benchmarks/sweeps/heldout_rows.py benchmarks/results/llmgs100k --budget 100,000
"""

import argparse
import json
from collections import defaultdict
from pathlib import Path

from synthesis.report import mean_se

TASKS = ("StairClimberSparse", "MazeSparse", "TopOff", "FourCorners", "Harvester", "CleanHouse", "DoorKey",
         "OneStroke", "Seeder", "Snake")  # fmt: skip
LABELS = {"cem": "CEM (LEAPS)", "cebs": "CEBS", "hc": "HC", "shc": "SHC"}


def cell(runs: list[dict], key: str) -> str:
    """`mean ± s.e.` of `key` over `runs`, "—" when no run has it."""
    values = [run[key] for run in runs if run.get(key) is not None]
    if not values:
        return "—"
    mean, se = mean_se(values)
    return f"{mean:.3f} ± {se:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs_dir", type=Path, help="folder of run folders (TASK/METHOD/seed_N/result.json)")
    parser.add_argument("--budget", required=True, help='the budget as the table prints it, e.g. "100,000"')
    args = parser.parse_args()
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for path in sorted(args.runs_dir.glob("*/*/seed_*/result.json")):
        run = json.loads(path.read_text())
        groups[run["task"], run["method"]].append(run)
    for task in TASKS:
        for method, label in LABELS.items():
            runs = groups.get((task, method))
            if not runs:
                continue
            solved = sum(run["best_return"] >= 1.0 for run in runs)
            print(
                f"| {task} | {label}, {args.budget} | {len(runs)} | {cell(runs, 'best_return')} | "
                f"{cell(runs, 'heldout_return')} | {cell(runs, 'heldout_large')} | {solved}/{len(runs)} |"
            )


if __name__ == "__main__":
    main()
