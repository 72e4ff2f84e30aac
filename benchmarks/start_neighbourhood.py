"""What LEAPS' CEM sees where it starts: the share of latents around each seed's initial centre whose
program scores above 0 under LEAPS' evaluation (on the seed's first 10 worlds), the number of distinct
programs among them, and the chance that one population of the task's config holds such a latent.

LEAPS ranks ties by program text (`reference/leaps.md` 5.1), so a population in which every program scores
0 moves the centre towards the largest texts (`turnRight ...`); a run whose first populations find no
positive score drifts away from its start. This separates the checkpoint (what lies near the start) from
the search code.

    python benchmarks/start_neighbourhood.py [--task StairClimberSparse] [--samples 2000] [--seeds 0-4]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import yaml

from karel import leaps_protocol
from synthesis.latent import LeapsCem, decode, load_decoder
from synthesis.protocol import LeapsEvaluator

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "search" / "leaps"


def start_neighbourhood(model, config: dict, seed: int, samples: int) -> tuple[float, int, float]:
    """(share of `samples` latents centre + sigma * N(0, I) whose program scores above 0, distinct programs
    among them, best mean score) around the initial centre of seed `seed`'s LEAPS CEM run of `config`."""
    task = leaps_protocol.leaps_task(config["task"])
    evaluator = LeapsEvaluator(task, 1, seed=seed)
    search = LeapsCem(evaluator, seed, model, config["population"], config["elites"], config["sigma"], config["init"])
    latents = search.centre + config["sigma"] * np.random.default_rng(10_000 + seed).standard_normal(
        (samples, model.hidden)
    )
    programs = decode(model, latents)
    distinct = {str(p): p for p in programs}
    scores = leaps_protocol.world_scores(list(distinct.values()), task, leaps_protocol.world_set(task, seed, 0))
    mean = {text: leaps_protocol.mean_score(row.tolist()) for text, row in zip(distinct, scores)}
    positive = np.mean([mean[str(p)] > 0 for p in programs])
    return float(positive), len(distinct), max(mean.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="weights/leaps.ckpt")
    tasks = sorted(path.stem for path in CONFIGS.glob("*.yaml"))
    parser.add_argument("--task", default="StairClimberSparse", choices=tasks, help="a task of configs/search/leaps")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seeds", default="0-4", help="A-B")
    args = parser.parse_args()
    first, last = (int(x) for x in args.seeds.split("-"))
    config = yaml.safe_load((CONFIGS / f"{args.task}.yaml").read_text())
    model = load_decoder(args.checkpoint)
    population = config["population"]
    print(f"{args.task}: {args.samples} latents within sigma {config['sigma']} of each seed's {config['init']} start")
    print(f"| seed | share scoring > 0 | distinct programs | best score | a population of {population} holds one |")
    print("|---|---|---|---|---|")
    for seed in range(first, last + 1):
        share, distinct, best = start_neighbourhood(model, config, seed, args.samples)
        print(f"| {seed} | {share:.4f} | {distinct} | {best:.2f} | {1 - (1 - share) ** population:.2f} |", flush=True)


if __name__ == "__main__":
    main()
