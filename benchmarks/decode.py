"""Decoding latents into programs on the CPU: milliseconds per batch by batch size and torch thread count,
and what `synthesis.latent.decode` itself takes (one thread below `SMALL_BATCH` latents).

    python benchmarks/decode.py [--checkpoint weights/leaps.ckpt] [--sizes 1,16,32,64,256,1000] [--threads 1,2]

Run it once on an idle machine and once beside a busy process (e.g. `python -c "while True: pass" &`):
CEM decodes populations of 16-64 latents, hundreds of small parallel regions per batch, and each region waits
for its slowest thread.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from synthesis.latent import SMALL_BATCH, decode, load_decoder


def milliseconds(model, latents: np.ndarray, threads: int | None) -> float:
    """Mean wall milliseconds of one decode of `latents` [K, Z]: on `threads` torch threads through the
    model, or through `synthesis.latent.decode` (None)."""

    def once() -> None:
        if threads is None:
            decode(model, latents)
        else:
            torch.set_num_threads(threads)
            with torch.no_grad():
                model.decode(torch.as_tensor(latents, dtype=torch.float32))

    once()
    repeats, start = 0, time.perf_counter()
    while repeats < 3 or time.perf_counter() - start < 1.0:  # at least 3 decodes and a second
        once()
        repeats += 1
    return (time.perf_counter() - start) / repeats * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="weights/leaps.ckpt")
    parser.add_argument("--sizes", default="1,16,32,64,256,1000", help="batch sizes, comma-separated")
    parser.add_argument("--threads", default="1,2", help="torch thread counts, comma-separated")
    args = parser.parse_args()
    model = load_decoder(args.checkpoint)
    counts = [int(t) for t in args.threads.split(",")]
    default = torch.get_num_threads()
    print(f"| latents | {' | '.join(f'{t} thread(s), ms' for t in counts)} | decode(), ms |")
    print(f"|---|{'---|' * len(counts)}---|")
    rng = np.random.default_rng(0)
    for size in (int(s) for s in args.sizes.split(",")):
        latents = rng.standard_normal((size, model.hidden))
        cells = [f"{milliseconds(model, latents, t):.1f}" for t in counts]
        torch.set_num_threads(default)
        own = milliseconds(model, latents, None)
        note = " (one thread)" if size < SMALL_BATCH else f" ({default} threads)"
        print(f"| {size} | {' | '.join(cells)} | {own:.1f}{note} |", flush=True)


if __name__ == "__main__":
    main()
