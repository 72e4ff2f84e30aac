"""Checkpoint averaging: the uniform mean of the model weights of several checkpoints of one training run.

Weight averaging after the fact (stochastic weight averaging, Izmailov et al. 2018): the checkpoints a run
writes every few dozen steps sit around one basin of the loss, and their mean generalises better than any of
them. For the LEAPS VAE, the mean of the 31 checkpoints of epochs 33-40 decodes 0.963 of 1,024 validation
programs exactly (greedy, from a sampled z), where the single checkpoints of epochs 36-40 decode
0.903-0.927 (README, "Weight averaging"). During training, the same idea runs online as Lightning's `EMAWeightAveraging`
callback (the configs in `configs/leaps/`).

    python -m leaps.averaging --out mean.ckpt runs/leaps/leaps/version_0/checkpoints/step=*.ckpt

(checkpoints that a `ModelCheckpoint` with `every_n_train_steps: 40`, `save_top_k: -1` and
`filename: "{step}"` keeps during training).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from leaps.checkpoint import CheckpointError, CheckpointMismatchError, read_checkpoint
from leaps.module import CHECKPOINT_INFO, save_atomically, state_mismatch


def average_weights(sources: Sequence[str | Path], target: str | Path) -> dict:
    """Write the uniform mean of `sources`' model weights to `target` (weights only, as `export_weights`
    writes them) and return that checkpoint. Hyperparameters, epoch and global step come from the source with
    the highest global step; `averaged_from` lists every source's name, epoch and global step.

    Raises `CheckpointMismatchError` when the sources' parameters (names, shapes) or hyperparameters differ,
    and `ValueError` when fewer than two sources are given."""
    if len(sources) < 2:
        raise ValueError(f"averaging needs at least two checkpoints, got {len(sources)}")
    checkpoints = [read_checkpoint(path) for path in sources]
    first, first_path = checkpoints[0], sources[0]
    for path, checkpoint in zip(sources[1:], checkpoints[1:]):
        mismatch = state_mismatch(first["state_dict"], checkpoint["state_dict"])
        if mismatch:
            raise CheckpointMismatchError(f"{path} does not fit {first_path}: {mismatch} "
                                          "(average checkpoints of one run)")  # fmt: skip
        if checkpoint.get("hyper_parameters") != first.get("hyper_parameters"):
            raise CheckpointMismatchError(f"{path} and {first_path} have different hyperparameters "
                                          "(average checkpoints of one run)")  # fmt: skip
    latest = max(checkpoints, key=lambda c: c.get("global_step", 0))
    state = {name: torch.stack([c["state_dict"][name].double() for c in checkpoints]).mean(0).to(value.dtype)
             for name, value in first["state_dict"].items()}  # fmt: skip
    averaged = {k: latest[k] for k in CHECKPOINT_INFO if k in latest}
    averaged["state_dict"] = state
    averaged["averaged_from"] = [{"name": Path(path).name, "epoch": c.get("epoch"), "global_step": c.get("global_step")}
                                 for path, c in zip(sources, checkpoints)]  # fmt: skip
    save_atomically(averaged, target)
    return averaged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leaps.averaging", description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="+", help="checkpoints of one training run (at least two)")
    parser.add_argument("--out", required=True, help="where to write the averaged weights (.ckpt)")
    args = parser.parse_args(argv)
    missing = [path for path in args.checkpoints if not Path(path).is_file()]
    if missing:
        parser.error(f"no such checkpoint: {', '.join(missing)}")
    try:
        averaged = average_weights(args.checkpoints, args.out)
    except (ValueError, CheckpointError) as error:
        parser.error(str(error))
    steps = [source["global_step"] for source in averaged["averaged_from"]]
    print(f"{args.out}: the mean of {len(steps)} checkpoints (global steps {min(steps)}-{max(steps)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
