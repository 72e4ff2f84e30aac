#!/usr/bin/env bash
# CEM and CEBS (LLM-GS' LEAPS and CEBS baselines, configs/search/{cem,cebs}/<task>.yaml) on the 10 Karel and
# Karel-Hard tasks under the llm-gs protocol, one seed at a time, at BUDGET evaluations (default 100,000).
# Resumable: finished run folders are skipped, so it can be stopped and restarted at any time, and two copies
# with different SEEDS orders (or REVERSE=1) can share OUT (run folders are locked).
#   benchmarks/sweeps/llmgs_latent.sh                       # seeds 0..4, tasks in order
#   SEEDS="4 3 2" REVERSE=1 benchmarks/sweeps/llmgs_latent.sh
#   OUT=benchmarks/results/llmgs1m BUDGET=1000000 TASKS=DoorKey benchmarks/sweeps/llmgs_latent.sh
# Results land in OUT (default benchmarks/results/llmgs100k); `synthesis report OUT` makes the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-benchmarks/results/llmgs100k}
BUDGET=${BUDGET:-100000}
SEEDS=${SEEDS:-"0 1 2 3 4"}
TASKS=${TASKS:-"StairClimberSparse MazeSparse TopOff FourCorners Harvester CleanHouse DoorKey OneStroke Seeder Snake"}
if [ "${REVERSE:-0}" = 1 ]; then TASKS=$(echo $TASKS | tr ' ' '\n' | tac | tr '\n' ' '); fi
# One thread per process: two sweeps share the two cores.
export NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1
for seed in $SEEDS; do
    for task in $TASKS; do
        for method in cem cebs; do
            synthesis sweep --config "configs/search/$method/$task.yaml" --checkpoint weights/leaps.ckpt \
                --seeds "$seed" --budget "$BUDGET" --out "$OUT" --jobs 1 || echo "failed: $task $method $seed" >&2
        done
    done
done
