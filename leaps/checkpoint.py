"""Reading checkpoints of the program VAE: the one reader, and its errors.

Light on purpose (torch only, no Lightning), so that commands which only check a checkpoint or catch its
errors (`synthesis`) do not import the training stack.
"""

from __future__ import annotations

from pathlib import Path

import torch

__all__ = ["TRAINING_STATE", "CheckpointError", "CheckpointMismatchError", "model_settings", "read_checkpoint"]


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be used; the message (one line) names the file and the problem."""


class CheckpointMismatchError(CheckpointError):
    """A checkpoint's parameters do not fit the model (names or shapes differ), or the settings asked for
    differ from the checkpoint's hyper-parameters."""


TRAINING_STATE = ("optimizer_states", "loops")  # what resuming a training run needs beyond the weights


def read_checkpoint(path: str | Path, resume: bool = False) -> dict:
    """The checkpoint at `path`, loaded on the CPU (tensors and plain values only: `weights_only`), checked
    to be a Lightning checkpoint of this model: a dict with a `state_dict` of tensors and the model's
    `hyper_parameters`; with `resume`, also the training state that `leaps fit --ckpt_path` continues from.
    The one place that reads checkpoints (`leaps` commands, cem / cebs searches, `load_model`). Anything
    else (no file, a folder, an empty, truncated or foreign file) is a `CheckpointError` of one line."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path}: no such file")
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a folder; give the .ckpt file (e.g. {path}/last.ckpt)")
    try:
        if path.stat().st_size == 0:
            raise CheckpointError(f"checkpoint {path} is an empty file")
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except CheckpointError:
        raise
    except OSError as error:
        raise CheckpointError(f"checkpoint {path} cannot be read: {error.strerror or error}") from None
    except Exception as error:  # noqa: BLE001 (torch.load raises many kinds; the file is what is wrong)
        raise CheckpointError(f"checkpoint {path} is not a readable PyTorch checkpoint: corrupt, truncated or "
                              f"another kind of file ({type(error).__name__})") from None  # fmt: skip
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        raise CheckpointError(f"checkpoint {path} is not a PyTorch Lightning checkpoint (it holds no state_dict)")
    if not all(isinstance(v, torch.Tensor) for v in checkpoint["state_dict"].values()):
        raise CheckpointError(f"checkpoint {path}: its state_dict holds values that are not tensors")
    if not isinstance(checkpoint.get("hyper_parameters"), dict):
        raise CheckpointError(f"checkpoint {path} has no hyper_parameters (not written by `leaps fit`)")
    missing = [key for key in TRAINING_STATE if key not in checkpoint]
    if resume and missing:
        raise CheckpointError(f"checkpoint {path} holds model weights only (no {', '.join(missing)}): it cannot "
                              "resume training; use it with `leaps test` or `validate`, or start a new run")  # fmt: skip
    return checkpoint


def model_settings(checkpoint: dict) -> dict:
    """The `LeapsModule` arguments recorded in a checkpoint (Lightning's own bookkeeping keys dropped)."""
    return {k: v for k, v in checkpoint["hyper_parameters"].items() if not k.startswith("_")}
