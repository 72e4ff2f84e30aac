"""`leaps` console script: LightningCLI over the program VAE and the program dataset.

    leaps fit --config configs/leaps/leaps.yaml --data.data_dir data/karel_dataset
    leaps test --config configs/leaps/leaps.yaml --ckpt_path weights/leaps.ckpt --data.data_dir DIR
    leaps validate --config configs/leaps/leapspl.yaml --ckpt_path runs/leaps/.../last.ckpt

Several devices use Lightning's own flags (`--trainer.devices 4 --trainer.strategy ddp`).

`--ckpt_path` is read once, by `leaps.module.read_checkpoint`, before anything is built: a file that is not a
checkpoint of this model (random bytes, truncated, empty, a dict without Lightning's keys, a folder) is one
line and exit code 2, and so is `fit --ckpt_path` with a weights-only file (nothing to resume). As
LightningCLI does, the model settings the user leaves unset come from the checkpoint's hyper-parameters; a
model setting the user gives (in `--config` or as `--model.KEY`) that differs from the checkpoint's is
refused with the differing keys listed: the weights were trained with the checkpoint's settings, so the
user's would be silently dropped (Lightning's behaviour) or not fit the weights. Settings outside
`model` (trainer, data) are the user's as always. A dataset that cannot be read (`DatasetError`) is also
one line and exit code 2.
"""

from __future__ import annotations

import sys

from pytorch_lightning.cli import LightningCLI, SaveConfigCallback

from leaps.checkpoint import CheckpointError, CheckpointMismatchError, model_settings, read_checkpoint
from leaps.datamodule import DatasetError, ProgramDataModule
from leaps.module import LeapsModule


class LeapsCLI(LightningCLI):
    """LightningCLI whose `--ckpt_path` is checked (see the module doc) before the classes are built."""

    def parse_arguments(self, parser, args) -> None:
        super().parse_arguments(parser, args)
        self.given = parser.parse_args(args, defaults=False)  # only what the config files and flags set

    def _parse_ckpt_path(self) -> None:
        subcommand = self.config.get("subcommand")
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if not ckpt_path:
            return
        recorded = model_settings(read_checkpoint(ckpt_path, resume=subcommand == "fit"))
        given = (self.given.get(subcommand) or {}).get("model") or {}
        given = dict(given.get("init_args", given)) if hasattr(given, "get") else {}
        differing = sorted(key for key, value in given.items() if key in recorded and value != recorded[key])
        if differing:
            listed = ", ".join(f"{key} (given {given[key]!r}, checkpoint {recorded[key]!r})" for key in differing)
            raise CheckpointMismatchError(f"the model settings differ from the hyper-parameters of {ckpt_path}: "
                                          f"{listed}; drop them (the checkpoint's apply) or use a checkpoint "
                                          "trained with them")  # fmt: skip
        self.config = self.parser.parse_object({subcommand: {"model": recorded}}, self.config)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    fit = bool(args) and args[0] == "fit"  # the config is saved beside a training run's logs only
    try:
        LeapsCLI(LeapsModule, ProgramDataModule, args=argv, save_config_callback=SaveConfigCallback if fit else None,
                 save_config_kwargs={"overwrite": True}, auto_configure_optimizers=False)  # fmt: skip
    except CheckpointError as error:
        print(f"leaps: error: {error}", file=sys.stderr)
        return 2
    except DatasetError as error:
        print(f"leaps: error: {_last_line(error)}", file=sys.stderr)
        return 2
    return 0


def _last_line(error: Exception) -> str:
    """The message of an error, also when a DataLoader worker re-raised it with the worker's traceback."""
    text = str(error).strip()
    if "Original Traceback" not in text:
        return text
    return text.splitlines()[-1].split(": ", 1)[-1]


if __name__ == "__main__":
    sys.exit(main())
