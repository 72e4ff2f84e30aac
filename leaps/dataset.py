"""The LEAPS program dataset: random programs with execution traces on random worlds, in the LEAPS HDF5
layout (`reference/leaps.md` 3): `karel dataset --out DIR --programs 50000 --seed 123`.

Generation, deterministic for a seed:

1. Programs from the LEAPS sampler (`karel.sampler.sample_leaps_program`), drawn in batches; exact
   duplicates (of the dataset so far or of the batch) and programs of more than 50 tokens are dropped.
2. For every program, up to 100 random 8 x 8 worlds (border walls; each interior cell a wall with
   probability 0.1; the agent on a uniformly random free cell facing a uniformly random direction; each
   free cell one marker with probability 0.1), run in crashable mode through the batched executor with a
   220-call budget (`MAX_CALLS`, the analogue of LEAPS' 220-call interpreter budget). A trace is usable if
   the program ended by itself: no crash (a move into a wall, a pick on an empty cell, a put on a full cell),
   no timeout (the budget, or the loop detector, which only stops programs that would loop forever).
3. The first 10 usable traces with 4..20 states (3..19 actions) are kept, in trial order; a program with
   fewer, or one that never acts, is dropped. With `cover_branches`, the LEAPS branch-coverage rule decides instead: coverage
   (observed (condition, outcome) pairs over twice the number of conditions) accumulates over all trials;
   a trace is kept if it is short enough and [long enough, or it raised the coverage, or the coverage is
   complete and a coin says so] and [the program has no condition, or it raised the coverage, or the
   coverage is complete].
4. The kept traces are executed again with their states recorded and written.

`data.hdf5`: one group per program, `no_{k}_prog_len_{L}_max_s_h_len_{M}`, holding `program` int8 [L]
(token ids), `s_h` bool [10, M, H, W, 16] (one-hot states, zero-padded in time), `a_h` int8 [10, A]
(actions, zero-padded), `s_h_len` and `a_h_len` int16 [10]; plus the group `data_info`. `id.txt` lists the
program groups in order. `s_h` is stored with gzip compression (the one-hot traces compress about 40x);
readers see plain arrays. Both files are written under temporary names and renamed at the end, so an
interrupted or failed run (disk full) leaves nothing that looks complete and the old dataset, if any, intact;
an existing dataset is replaced only when asked (`overwrite`, `karel dataset --overwrite`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from karel.atomic import atomic_path, write_atomic
from karel.dsl import TOKENS
from karel.executor import execute_pairs
from karel.interpreter import Termination
from karel.program import Program, to_ids, to_text
from karel.sampler import sample_leaps_program
from karel.world import Worlds

MAX_CALLS = 220  # call budget per demonstration (LEAPS' interpreter budget)
CONDITION_OPS = (1, 2)  # karel.compiler Op.TEST and Op.WHILE: the instructions that test a condition


@dataclass(frozen=True)
class DatasetConfig:
    programs: int = 50_000
    seed: int = 123
    demos: int = 10  # demonstrations per program
    trials: int = 100  # random worlds tried per program
    height: int = 8
    width: int = 8
    wall_prob: float = 0.1
    marker_prob: float = 0.1
    min_states: int = 4  # per demonstration, the initial state included
    max_states: int = 20
    max_tokens: int = 50
    cover_branches: bool = False
    batch: int = 1024  # candidate programs per executor batch


def random_worlds(rng: np.random.Generator, count: int, config: DatasetConfig) -> Worlds:
    """`count` worlds of the LEAPS dataset distribution (see the module doc)."""
    h, w = config.height, config.width
    walls = rng.random((count, h, w)) < config.wall_prob  # [N, H, W]
    walls[:, 0, :] = walls[:, -1, :] = walls[:, :, 0] = walls[:, :, -1] = True
    keys = np.where(walls, -1.0, rng.random((count, h, w))).reshape(count, -1)  # [N, H*W]
    cell = keys.argmax(axis=1)  # a uniformly random free cell
    direction = rng.integers(4, size=count)  # [N]
    markers = (rng.random((count, h, w)) < config.marker_prob) & ~walls  # [N, H, W]
    return Worlds(torch.from_numpy(walls), torch.from_numpy(markers.astype(np.uint8)),
                  torch.from_numpy(cell // w), torch.from_numpy(cell % w), torch.from_numpy(direction))  # fmt: skip


def _coverage_choice(usable: np.ndarray, states: np.ndarray, branches: np.ndarray, conditions: np.ndarray,
                     config: DatasetConfig, rng: np.random.Generator) -> list[int]:  # fmt: skip
    """Trials kept by the LEAPS branch-coverage rule (module doc, step 3), in order."""
    total = 2 * len(conditions)
    seen = np.zeros(len(conditions), np.uint8)  # [C] bit 0 / 1: the condition seen false / true
    kept: list[int] = []
    for t in range(len(usable)):
        before = int(np.unpackbits(seen).sum())
        seen |= branches[t, conditions]
        after = int(np.unpackbits(seen).sum())
        if not usable[t] or states[t] > config.max_states:
            continue
        raised = after > before
        complete = total == 0 or after >= total
        long_enough = states[t] >= config.min_states or raised or (complete and rng.random() < 0.5)
        if long_enough and (total == 0 or raised or complete):
            kept.append(t)
            if len(kept) == config.demos:
                break
    return kept


def generate(config: DatasetConfig, progress: bool = True):
    """Yield (program, demos) for `config.programs` programs; demos holds the kept worlds and traces."""
    from tqdm import tqdm

    from karel.compiler import compile_program

    rng = np.random.default_rng(config.seed)
    accepted: set[str] = set()
    done = 0
    bar = tqdm(total=config.programs, unit="program", disable=not progress, desc="programs")
    while done < config.programs:
        batch: list[Program] = []
        in_batch: set[str] = set()
        while len(batch) < config.batch:
            program = sample_leaps_program(rng)
            text = to_text(program)
            if text in accepted or text in in_batch or len(program.tokens()) > config.max_tokens:
                continue
            in_batch.add(text)
            batch.append(program)
        worlds = random_worlds(rng, len(batch) * config.trials, config)
        owner = np.repeat(np.arange(len(batch)), config.trials)  # [P * trials] program of each world
        traces = execute_pairs(batch, worlds, owner, crashable=True, max_calls=MAX_CALLS,
                               record_branches=config.cover_branches)  # fmt: skip
        # usable, states: [P, trials]
        usable = (traces.termination.numpy() == int(Termination.PROGRAM_END)).reshape(len(batch), config.trials)
        states = (traces.num_actions.numpy() + 1).reshape(len(batch), config.trials)
        chosen: list[tuple[int, list[int]]] = []
        for i, program in enumerate(batch):
            if config.cover_branches:
                rows, _, _ = compile_program(program)
                conditions = np.array([pc for pc, row in enumerate(rows) if row[0] in CONDITION_OPS], np.int64)
                branch = traces.branches.numpy().reshape(len(batch), config.trials, -1)[i]  # [trials, pcs]
                kept = _coverage_choice(usable[i], states[i], branch, conditions, config, rng)
            else:
                ok = usable[i] & (states[i] >= config.min_states) & (states[i] <= config.max_states)
                kept = np.flatnonzero(ok)[: config.demos].tolist()
            if len(kept) == config.demos and states[i, kept].max() >= 2:  # the program acts in some demo
                chosen.append((i, kept))
        chosen = chosen[: config.programs - done]
        accepted.update(to_text(batch[i]) for i, _ in chosen)  # a dropped program may be drawn again later
        if not chosen:
            continue
        index = np.array([i * config.trials + t for i, kept in chosen for t in kept])  # [K * D] world rows
        demo_worlds = worlds[torch.from_numpy(index)]
        recorded = execute_pairs([batch[i] for i, _ in chosen], demo_worlds, np.repeat(np.arange(len(chosen)), config.demos),
                                 crashable=True, max_calls=MAX_CALLS, record_actions=config.max_states - 1,
                                 record_states=True)  # fmt: skip
        onehot = recorded.states.to_onehot().view(len(chosen), config.demos, config.max_states, 16, config.height,
                                                  config.width)  # [K, D, T+1, 16, H, W]  # fmt: skip
        for j, (i, _) in enumerate(chosen):
            yield (
                batch[i],
                {
                    "s_h": onehot[j].permute(0, 1, 3, 4, 2).numpy(),  # [10, T+1, H, W, 16]
                    "a_h": recorded.actions.view(len(chosen), config.demos, -1)[j].numpy(),  # [10, T]
                    "a_h_len": recorded.num_actions.view(len(chosen), config.demos)[j].numpy(),  # [10]
                },
            )
        done += len(chosen)
        bar.update(len(chosen))
    bar.close()


class DatasetExistsError(FileExistsError):
    """The output folder already holds a dataset and replacing it was not asked for."""


def write_dataset(out: str | Path, config: DatasetConfig, progress: bool = True, overwrite: bool = False) -> Path:
    """Generate and write `data.hdf5` and `id.txt` under `out`; return the folder.

    A folder that already holds either file is refused (`DatasetExistsError`) unless `overwrite`. Both files
    are written beside their targets and renamed into place once complete (`karel.atomic`), so an
    interrupted or failed run leaves the old dataset, if any, as it was and no partial file. A write that
    fails (disk full, for one) stops the generation and raises the `OSError` of the first failed write:
    HDF5 never sees the failure itself (see `_GuardedFile`), which would crash h5py in its clean-up.
    """
    import h5py

    out = Path(out)
    existing = [name for name in ("data.hdf5", "id.txt") if (out / name).exists()]
    if existing and not overwrite:
        raise DatasetExistsError(f"{out} already holds a dataset ({', '.join(existing)}); pass --overwrite to "
                                 "replace it or choose another folder")  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    ids: list[str] = []
    with atomic_path(out / "data.hdf5") as tmp_data, open(tmp_data, "x+b", buffering=0) as raw:
        guard = _GuardedFile(raw)
        try:
            with h5py.File(guard, "w") as f:
                for k, (program, demos) in enumerate(generate(config, progress)):
                    ids.append(_write_program(f, k, program, demos))
                    if guard.error is not None:
                        break
                _write_info(f, config, len(ids))
        except Exception:
            if guard.error is None:
                raise
        if guard.error is not None:  # (HDF5 may have tripped over the dropped writes: this is the cause)
            raise OSError(guard.error.errno, guard.error.strerror, str(out / "data.hdf5")) from None
        write_atomic(out / "id.txt", "".join(f"{name}\n" for name in ids))
    return out


def _write_program(f, k: int, program: Program, demos: dict) -> str:
    """Write program `k` and its demonstrations as one group of `f`; return the group's name."""
    a_len = demos["a_h_len"].astype(np.int16)
    s_len = a_len + 1
    longest = int(s_len.max())
    tokens = to_ids(program)
    name = f"no_{k}_prog_len_{len(tokens)}_max_s_h_len_{longest}"
    group = f.create_group(name)
    group.create_dataset("program", data=np.array(tokens, np.int8))
    s_h = demos["s_h"][:, :longest].astype(bool)
    s_h[np.arange(longest)[None, :] >= s_len[:, None]] = False  # zero padding in time
    group.create_dataset("s_h", data=s_h, compression="gzip", compression_opts=4)
    group.create_dataset("a_h", data=np.where(np.arange(longest - 1) < a_len[:, None],
                                              demos["a_h"][:, : longest - 1], 0).astype(np.int8))  # fmt: skip
    group.create_dataset("s_h_len", data=s_len)
    group.create_dataset("a_h_len", data=a_len)
    return name


def _write_info(f, config: DatasetConfig, n: int) -> None:
    info = f.create_group("data_info")
    train, val = int(n * 0.7), int(n * 0.15)
    for key, value in {
        "max_demo_length": config.max_states,
        "min_demo_length": config.min_states,
        "dsl_type": "prob",
        "max_program_length": config.max_tokens,
        "min_program_length": 0,
        "num_program_tokens": len(TOKENS),
        "num_demo_per_program": config.demos,
        "num_action_tokens": 5,
        "num_train": train,
        "num_val": val,
        "num_test": n - train - val,
        "seed": config.seed,
        "cover_branches": config.cover_branches,
    }.items():
        info.create_dataset(key, data=value)


class _GuardedFile:
    """The file object h5py writes the dataset through: the first failed write (an `OSError`, e.g. disk
    full) is kept in `error` and this and later writes are dropped as if done, so the failure reaches
    Python as that `OSError` (raised by the writer) instead of an error inside HDF5's own clean-up."""

    def __init__(self, raw):
        self.raw, self.error = raw, None

    def write(self, data) -> int:
        if self.error is None:
            try:
                view = memoryview(data)
                while view:
                    view = view[self.raw.write(view) :]
            except OSError as error:
                self.error = error
        return len(data)

    def flush(self) -> None:
        if self.error is None:
            try:
                self.raw.flush()
            except OSError as error:
                self.error = error

    def truncate(self, size: int | None = None) -> int:
        if self.error is None:
            try:
                return self.raw.truncate(size)
            except OSError as error:
                self.error = error
        return size or 0

    def readinto(self, buffer) -> int:
        return self.raw.readinto(buffer)

    def read(self, size: int = -1) -> bytes:
        return self.raw.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()


def statistics(data_dir: str | Path) -> dict:
    """Program lengths, construct frequencies, demonstration lengths and duplicates of a dataset."""
    from leaps.datamodule import DatasetError, open_dataset, read_group

    with open_dataset(data_dir) as dataset:
        lengths, demo_states, texts = [], [], []
        constructs = Counter()
        for name in dataset.ids:
            group = read_group(dataset.file, name, ("program", "s_h_len"))
            if not all(0 <= i < len(TOKENS) for i in group["program"]):
                raise DatasetError(f"{dataset.file.filename}: group {name!r}: program holds ids outside 0..49")
            tokens = [TOKENS[i] for i in group["program"]]
            lengths.append(len(tokens))
            texts.append(" ".join(tokens))
            for construct in ("WHILE", "REPEAT", "IF", "IFELSE", "not"):
                constructs[construct] += construct in tokens
            demo_states += group["s_h_len"].tolist()
    n = len(lengths)
    histogram = Counter(lengths)
    return {
        "programs": n,
        "program_tokens": {
            "mean": float(np.mean(lengths)),
            "min": min(lengths),
            "max": max(lengths),
            "histogram": {int(k): histogram[k] for k in sorted(histogram)},
        },
        "constructs": {k: round(v / n, 4) for k, v in constructs.items()},  # fraction of programs using each
        "demo_states": {"mean": float(np.mean(demo_states)), "min": min(demo_states), "max": max(demo_states)},
        "duplicate_programs": n - len(set(texts)),
    }
