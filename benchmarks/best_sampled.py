"""HPRL's "Best-Sampled" baseline on a program VAE: the best LEAPS score among N programs decoded from
latents z ~ N(0, I), per task and seed, under LEAPS' own evaluation (10 worlds of the seed's stream).

HPRL (ICML'23, Table 1) reports it for LEAPS' embedding (1,000 samples, 5 seeds): StairClimber 1.00,
FourCorner 0.25, TopOff 0.60, Maze 1.00, CleanHouse 0.05, Harvester 0.17. It measures what an embedding
offers a latent search before any search happens, so it separates the checkpoint from the search code.

    python benchmarks/best_sampled.py [--checkpoint weights/leaps.ckpt] [--samples 1000] [--seeds 0-4]
"""

from __future__ import annotations

import argparse

import numpy as np

from karel import leaps_protocol
from synthesis.latent import decode, load_decoder

TASKS = ("StairClimberSparse", "FourCorners", "TopOff", "MazeSparse", "CleanHouse", "Harvester")
HPRL_BEST_SAMPLED = {"StairClimberSparse": 1.00, "FourCorners": 0.25, "TopOff": 0.60, "MazeSparse": 1.00,
                     "CleanHouse": 0.05, "Harvester": 0.17}  # fmt: skip


def best_sampled(model, task_name: str, seed: int, samples: int) -> tuple[float, int]:
    """Best mean LEAPS score (without the bonus) over `samples` decoded N(0, I) latents, and the number of
    distinct programs among them."""
    rng = np.random.default_rng(seed)
    programs = decode(model, rng.standard_normal((samples, model.hidden)))
    distinct = {str(p): p for p in programs}
    task = leaps_protocol.leaps_task(task_name)
    worlds = leaps_protocol.world_set(task, seed, 0)
    scores = leaps_protocol.world_scores(list(distinct.values()), task, worlds)  # [P, 10]
    means = np.array([leaps_protocol.mean_score(row.tolist()) for row in scores])
    return float(means.max()), len(distinct)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="weights/leaps.ckpt")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--seeds", default="0-4", help="A-B")
    args = parser.parse_args()
    first, last = (int(x) for x in args.seeds.split("-"))
    model = load_decoder(args.checkpoint)
    print(
        f"| task | best of {args.samples} (mean ± std over seeds {args.seeds}) | distinct programs | HPRL's Best-Sampled, LEAPS' embedding |"
    )
    print("|---|---|---|---|")
    for task in TASKS:
        results = [best_sampled(model, task, seed, args.samples) for seed in range(first, last + 1)]
        best = np.array([r[0] for r in results])
        distinct = np.mean([r[1] for r in results])
        print(
            f"| {task} | {best.mean():.2f} ± {best.std():.2f} | {distinct:.0f} | {HPRL_BEST_SAMPLED[task]:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
