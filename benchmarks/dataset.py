"""Time the generation of the LEAPS program dataset and print its statistics as one JSON line.

python benchmarks/dataset.py [--programs 50000] [--out data/karel_dataset] [--seed 123]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numba
import torch

from leaps.dataset import DatasetConfig, statistics, write_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=50_000)
    parser.add_argument("--out", default="data/karel_dataset")
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--cover-branches", action="store_true")
    args = parser.parse_args()
    write_dataset(args.out, DatasetConfig(programs=10, seed=args.seed + 1), progress=False)  # warm the engine
    start = time.perf_counter()
    out = write_dataset(args.out, DatasetConfig(programs=args.programs, seed=args.seed,
                                                cover_branches=args.cover_branches))  # fmt: skip
    seconds = time.perf_counter() - start
    size = sum(p.stat().st_size for p in out.iterdir())
    print(json.dumps({"programs": args.programs, "seconds": round(seconds, 1), "bytes": size,
                      "machine": {"cpu": platform.machine(), "threads": numba.get_num_threads(),
                                  "torch_threads": torch.get_num_threads()},
                      "statistics": statistics(out)}))  # fmt: skip


if __name__ == "__main__":
    main()
