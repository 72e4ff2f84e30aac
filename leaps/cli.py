"""`leaps` console script: LightningCLI over the program VAE and the program dataset.

    leaps fit --config configs/leaps/leaps.yaml --data.data_dir data/karel_dataset
    leaps test --config configs/leaps/leaps.yaml --ckpt_path weights/leaps.ckpt --data.data_dir DIR
    leaps validate --config configs/leaps/leapspl.yaml --ckpt_path runs/leaps/.../last.ckpt

Several devices use Lightning's own flags (`--trainer.devices 4 --trainer.strategy ddp`).
"""

from __future__ import annotations

import sys

from pytorch_lightning.cli import LightningCLI, SaveConfigCallback

from leaps.datamodule import DatasetError, ProgramDataModule
from leaps.module import CheckpointMismatchError, LeapsModule


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    fit = bool(args) and args[0] == "fit"  # the config is saved beside a training run's logs only
    try:
        LightningCLI(LeapsModule, ProgramDataModule, args=argv, save_config_callback=SaveConfigCallback if fit else None,
                     save_config_kwargs={"overwrite": True}, auto_configure_optimizers=False)  # fmt: skip
    except (DatasetError, CheckpointMismatchError) as error:
        print(f"leaps: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
