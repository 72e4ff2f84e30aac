"""Training throughput of the program VAE (programs per second), per variant, on the CPU or a GPU.

    python benchmarks/training.py [--data data/karel_dataset] [--steps 5] [--batch 256] [--device cpu]
                                  [--weights weights/leaps.ckpt]

Times `--steps` training batches after one warm-up batch with a real Lightning trainer and the variant's
config (the REINFORCE updates, when the variant has them, are switched on: one on every
`behaviour_interval`-th batch) and prints one JSON line per variant.

The condition policy's teacher-forced rollouts end once the demonstration and the prediction have both
stopped, so their cost falls as the model learns: random weights (the default) time the start of training,
`--weights` a trained model (the shipped one has the parameters of every variant).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
import yaml

from leaps.datamodule import ProgramDataModule
from leaps.module import LeapsModule


class BatchTimer(pl.Callback):
    """Wall-clock seconds of each training batch (data loading excluded)."""

    def __init__(self, synchronize: bool):
        self.synchronize, self.seconds = synchronize, []

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        if self.synchronize:
            torch.cuda.synchronize()
        self.seconds.append(time.perf_counter() - self.start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/karel_dataset")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--variants", default="leaps,leapsp,leapspr,leapspl")
    parser.add_argument("--weights", help="start from this checkpoint's weights instead of random ones")
    args = parser.parse_args()
    data = ProgramDataModule(args.data, batch_size=args.batch, num_workers=0)
    accelerator = "gpu" if args.device.startswith("cuda") else "cpu"
    weights = torch.load(args.weights, map_location="cpu", weights_only=False)["state_dict"] if args.weights else None
    for variant in args.variants.split(","):
        settings = yaml.safe_load(Path(f"configs/leaps/{variant}.yaml").read_text())["model"]
        module = LeapsModule(**settings)
        if weights is not None:
            module.load_state_dict(weights)
        module.behaviour_active = settings["behaviour"]
        timer = BatchTimer(accelerator == "gpu")
        trainer = pl.Trainer(accelerator=accelerator, devices=1, max_epochs=1, limit_train_batches=args.steps + 1,
                             limit_val_batches=0, logger=False, enable_checkpointing=False,
                             enable_progress_bar=False, enable_model_summary=False, callbacks=[timer])  # fmt: skip
        trainer.fit(module, data)
        seconds = sum(timer.seconds[1:])
        print(json.dumps({"variant": variant, "device": args.device, "batch": args.batch, "steps": args.steps,
                          "programs_per_s": round(args.steps * args.batch / seconds, 1),
                          "weights": args.weights or "random", "torch_threads": torch.get_num_threads()}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
