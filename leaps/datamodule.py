"""Reading LEAPS program datasets (`leaps.dataset` writes them; LEAPS' own files read the same).

`ProgramDataModule` (a LightningDataModule) keeps programs of fewer than 45 tokens, shuffles them with a
seed and splits them 70 / 15 / 15 into train / val / test. Items are read lazily: each process (and
DataLoader worker) opens the HDF5 file itself on first use and reads one group per item, so the file is
never loaded whole. An item (batched with a leading B by the default collate):

    program       [L+1] int64    token ids, padded with 50 (`PAD_ID`) to max_program_length + 1
    program_mask  [L+1] bool     True on real tokens
    s_h           [D, 16, H, W]  float32, the initial state of each of the D = 10 demonstrations
    a_h           [D, A] int64   actions, padded with the no-op 5 to A = max_demo_length - 1
    a_h_len       [D] int64      actions per demonstration (a demonstration without actions gets one no-op)

A folder without `id.txt` or `data.hdf5`, groups missing from the file, missing fields, wrong dtypes or
shapes and bytes that HDF5 cannot read raise `DatasetError` naming the file, the group and the problem.
`open_dataset` checks the folder, the listed names and the first group when it opens the file; every
group is checked again when it is read (`read_group`, the one place that reads a group, for training and
for `karel dataset --stats` alike), so a later group that is broken stops the run with that error.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from karel.dsl import NOOP_ACTION, PAD_ID

FIELDS = {"program": "i", "s_h": "b", "a_h": "i", "s_h_len": "i", "a_h_len": "i"}  # numpy dtype kinds
NAME = re.compile(r"no_\d+_prog_len_(\d+)_max_s_h_len_\d+$")


class DatasetError(ValueError):
    """The folder is not a readable LEAPS program dataset; the message says what is wrong."""


@dataclass
class OpenDataset:
    file: object  # h5py.File
    ids: list[str]
    info: dict


@contextmanager
def open_dataset(data_dir: str | Path) -> Iterator[OpenDataset]:
    """Open and check a dataset folder (`id.txt`, `data.hdf5`, every listed group, the first group's fields)."""
    import h5py

    data_dir = Path(data_dir)
    ids_path, data_path = data_dir / "id.txt", data_dir / "data.hdf5"
    if not data_dir.is_dir():
        raise DatasetError(f"{data_dir}: no such folder")
    for path in (ids_path, data_path):
        if not path.exists():
            raise DatasetError(f"{data_dir}: missing {path.name} (a LEAPS dataset folder holds id.txt and data.hdf5)")
    try:
        ids = [line.strip() for line in ids_path.read_text().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{ids_path}: not a readable list of group names ({_reason(error)})") from None
    if not ids:
        raise DatasetError(f"{ids_path} lists no programs")
    try:
        file = h5py.File(data_path, "r")
    except OSError as error:
        raise DatasetError(f"{data_path}: not a readable HDF5 file ({_reason(error)})") from None
    try:
        try:
            missing = [name for name in ids if name not in file]
            if missing:
                raise DatasetError(f"{data_path}: {len(missing)} groups listed in id.txt are missing, e.g. "
                                   f"{missing[0]!r}")  # fmt: skip
            if "data_info" not in file:
                raise DatasetError(f"{data_path}: missing the data_info group")
            check_group(file, ids[0])
            info = {key: _scalar(file["data_info"][key][()]) for key in file["data_info"]}
        except (OSError, RuntimeError, KeyError, ValueError) as error:
            if isinstance(error, DatasetError):
                raise
            raise DatasetError(f"{data_path}: corrupt HDF5 file ({_reason(error)})") from None
        yield OpenDataset(file, ids, info)
    finally:
        file.close()


def _reason(error: Exception) -> str:
    """The first line of an h5py / OS error, without HDF5's long error stack."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def read_group(file, name: str, fields=FIELDS, index: dict | None = None) -> dict[str, np.ndarray]:
    """The arrays `fields` of group `name` (`index` may give a field a part to read, e.g. `{"s_h": (slice(None),
    0)}`), checked (`check_group`); a missing or unreadable group or field is a `DatasetError` naming the
    file, the group and the problem."""
    index = index or {}
    try:
        check_group(file, name)
        group = file[name]
        return {field: group[field][index.get(field, ())] for field in fields}
    except DatasetError as error:
        raise DatasetError(f"{file.filename}: {error}") from None
    except (OSError, RuntimeError, KeyError, ValueError) as error:
        raise DatasetError(f"{file.filename}: group {name!r} cannot be read ({_reason(error)})") from None


def _scalar(value):
    return value.decode() if isinstance(value, bytes) else value.item() if hasattr(value, "item") else value


def check_group(file, name: str) -> None:
    if name not in file:
        raise DatasetError(f"group {name!r} is missing (listed in id.txt)")
    group = file[name]
    for field, kind in FIELDS.items():
        if field not in group:
            raise DatasetError(f"group {name!r}: missing {field!r}")
        if group[field].dtype.kind not in (kind, "u" if kind == "i" else kind):
            raise DatasetError(f"group {name!r}: {field!r} has dtype {group[field].dtype}, expected "
                               f"{'bool' if kind == 'b' else 'an integer type'}")  # fmt: skip
    if group["s_h"].ndim != 5 or group["s_h"].shape[-1] != 16:
        raise DatasetError(f"group {name!r}: s_h has shape {group['s_h'].shape}, expected [D, T, H, W, 16]")


def program_length(file, name: str) -> int:
    match = NAME.match(name)
    return int(match.group(1)) if match else int(file[name]["program"].shape[0])


class ProgramDataset(Dataset):
    """The groups `ids` of `data_dir/data.hdf5`, read lazily (see the module doc)."""

    def __init__(self, data_dir: str | Path, ids: list[str], max_program_length: int, actions: int):
        self.path = Path(data_dir) / "data.hdf5"
        self.ids, self.max_program_length, self.actions = ids, max_program_length, actions
        self._file = None
        self._pid = None

    def __len__(self) -> int:
        return len(self.ids)

    def _handle(self):
        if self._file is None or self._pid != os.getpid():  # one handle per process (DataLoader workers)
            import h5py

            self._file, self._pid = h5py.File(self.path, "r"), os.getpid()
        return self._file

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_file": None, "_pid": None}

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        name = self.ids[index]
        group = read_group(self._handle(), name, index={"s_h": (slice(None), 0)})
        tokens = group["program"].astype(np.int64)
        if len(tokens) > self.max_program_length + 1:
            raise DatasetError(f"group {name!r}: program of {len(tokens)} tokens is longer than allowed")
        program = np.full(self.max_program_length + 1, PAD_ID, np.int64)  # [L+1] padded
        program[: len(tokens)] = tokens
        s_h = group["s_h"]  # [D, H, W, 16] initial states only
        a_len = group["a_h_len"].astype(np.int64)
        a_h = np.full((len(a_len), self.actions), NOOP_ACTION, np.int64)  # [D, T] padded with the no-op
        stored = group["a_h"]
        for d, n in enumerate(a_len):
            a_h[d, :n] = stored[d, :n]
        a_len = np.maximum(a_len, 1)  # a demonstration without actions: one no-op (as LEAPS)
        return {
            "program": torch.from_numpy(program),
            "program_mask": torch.from_numpy(program != PAD_ID),
            "s_h": torch.from_numpy(np.ascontiguousarray(s_h.transpose(0, 3, 1, 2))).float(),  # [D, 16, H, W]
            "a_h": torch.from_numpy(a_h),
            "a_h_len": torch.from_numpy(a_len),
        }


class ProgramDataModule(pl.LightningDataModule):
    """Train / val / test loaders over a LEAPS program dataset folder."""

    def __init__(self, data_dir: str = "data/karel_dataset", batch_size: int = 256, num_workers: int = 0,
                 max_program_length: int = 45, split: tuple[float, float, float] = (0.7, 0.15, 0.15),
                 seed: int = 123):  # fmt: skip
        super().__init__()
        self.save_hyperparameters()
        self.data_dir, self.batch_size, self.num_workers = data_dir, batch_size, num_workers
        self.max_program_length, self.split, self.seed = max_program_length, split, seed
        self.datasets: dict[str, ProgramDataset] = {}

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        with open_dataset(self.data_dir) as dataset:
            ids = [name for name in dataset.ids if program_length(dataset.file, name) < self.max_program_length]
            actions = int(dataset.info.get("max_demo_length", 20)) - 1
        random.Random(self.seed).shuffle(ids)
        n_train, n_val = int(len(ids) * self.split[0]), int(len(ids) * self.split[1])
        parts = {"train": ids[:n_train], "val": ids[n_train : n_train + n_val], "test": ids[n_train + n_val :]}
        self.datasets = {
            k: ProgramDataset(self.data_dir, v, self.max_program_length, actions) for k, v in parts.items()
        }

    def _loader(self, part: str, shuffle: bool) -> DataLoader:
        return DataLoader(self.datasets[part], batch_size=self.batch_size, shuffle=shuffle,
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0)  # fmt: skip

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", False)
