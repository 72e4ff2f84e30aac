"""Training throughput of the program VAE (programs per second), per variant, on the CPU or a GPU.

    python benchmarks/training.py [--data data/karel_dataset] [--steps 5] [--batch 256] [--device cpu]

Times `--steps` optimisation steps after one warm-up step on batches of the dataset (the behaviour
loss, when the variant has it, is switched on) and prints one JSON line per variant.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import yaml

from leaps.datamodule import ProgramDataModule
from leaps.module import LeapsModule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/karel_dataset")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--variants", default="leaps,leapsp,leapspr,leapspl")
    args = parser.parse_args()
    data = ProgramDataModule(args.data, batch_size=args.batch)
    data.setup("fit")
    batches = iter(data.train_dataloader())
    for variant in args.variants.split(","):
        settings = yaml.safe_load(Path(f"configs/leaps/{variant}.yaml").read_text())["model"]
        module = LeapsModule(**settings).to(args.device)
        module.behaviour_active = settings["behaviour"]
        optimizer = torch.optim.Adam(module.parameters(), lr=settings["lr"])
        seconds = 0.0
        for step in range(args.steps + 1):
            batch = {k: v.to(args.device) for k, v in next(batches).items()}
            start = time.perf_counter()
            loss, _ = module._forward(batch, greedy=False)
            if module.behaviour_active:
                loss = loss + module.behaviour_loss(batch)[0]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            if step:
                seconds += time.perf_counter() - start
        print(json.dumps({"variant": variant, "device": args.device, "batch": args.batch, "steps": args.steps,
                          "programs_per_s": round(args.steps * args.batch / seconds, 1),
                          "torch_threads": torch.get_num_threads()}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
