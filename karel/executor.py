"""The batched executor: P programs x E worlds, with exactly the reference interpreter's results.

`execute` is the one entry point of every caller (`karel eval`, dataset generation, the VAE's behaviour
losses, every search method). It runs the compiled VM (`karel.vm`): every episode runs natively to its end,
on the CPU shared out over the CPU threads (`karel.vm.cpu`), on CUDA one GPU thread per episode
(`karel.vm.cuda`; under `NUMBA_ENABLE_CUDASIM=1` in numba's CUDA simulator, results on the CPU). An episode
the VM cannot finish exactly (a Snake episode that uses more food draws than were precomputed, a full CUDA
loop table) is re-run with the reference interpreter; `ExecResult.fallbacks` counts them.
`episode_returns` is `execute`'s returns as a numpy array, on the CPU, without loading torch (`karel eval`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from karel.compiler import instruction_table
from karel.dsl import MAX_CALLS, NOOP_ACTION
from karel.interpreter import run_episode
from karel.program import Program
from karel.tasks.base import Instance, Task
from karel.world import World, Worlds

if TYPE_CHECKING:  # torch loads with the first `execute`: `episode_returns` (karel eval) never needs it
    import torch

WORLD_FIELDS = ("walls", "markers", "row", "col", "direction")


@dataclass(frozen=True)
class ExecResult:
    """Outcome of P programs on E worlds each."""

    returns: torch.Tensor  # [P, E] float64 episode returns
    termination: torch.Tensor  # [P, E] int64 Termination
    calls: torch.Tensor  # [P, E] int64 actions plus perception queries
    num_actions: torch.Tensor  # [P, E] int64 executed actions
    actions: torch.Tensor | None = None  # [P, E, T] int64 action ids, NOOP_ACTION (5) after the end
    states: Worlds | None = None  # with record_states: worlds [P*E*(T+1)] flattened from [P, E, T+1]
    fallbacks: int = 0  # episodes finished by the reference interpreter


def execute(
    programs: Sequence[Program],
    task: Task | None,
    instances: Sequence[Instance] | None = None,
    worlds: Worlds | None = None,
    *,
    crashable: bool = False,
    max_calls: int = MAX_CALLS,
    record_actions: int = 0,
    record_states: bool = False,
    max_episodes: int = 1 << 15,
    device: torch.device | str | None = None,
    loop_capacity: int = 256,
) -> ExecResult:
    """Run every program on every initial world: P programs x E worlds = N episodes.

    Args:
        programs: P programs.
        task: the task whose rules give rewards and termination; None for reward-free runs (datasets).
        instances: E task instances (default: instances 0..31 of `task`).
        worlds: E initial worlds, for reward-free runs (`task` None).
        crashable: end episodes on illegal actions (CRASH) instead of the LEAPS behaviour.
        max_calls: call budget per episode.
        record_actions: record up to this many actions per episode in `ExecResult.actions`.
        record_states: also record the worlds before the first and after each recorded action (steps after
            the end hold the initial world).
        max_episodes: episodes per chunk (bounds the memory of recorded traces).
        device: where to run and return results (default: the device of `worlds`, else the CPU); on the
            CUDA simulator the VM's CUDA kernel runs and results stay on the CPU.
        loop_capacity: WHILE iterations an episode's loop table holds on CUDA (more: reference re-run).
    """
    import torch

    if task is None and worlds is None:
        raise ValueError("execute needs a task or initial worlds")
    _check(programs, record_actions, record_states, max_calls, max_episodes)
    if device is None:
        device = worlds.device if worlds is not None and task is None else torch.device("cpu")
    device = torch.device(device)
    on_cuda = device.type == "cuda"
    if on_cuda:
        from karel.vm import cuda as vm_cuda

        if vm_cuda.simulated():
            device = torch.device("cpu")
    elif device.type != "cpu":
        raise ValueError(f"the VM runs on the CPU or on CUDA, not on {device.type!r}")
    if task is not None:
        instances = _instances(task, instances)
        starts = [inst.world for inst in instances]
    else:
        if len(worlds) == 0:
            raise ValueError("execute needs at least one initial world, got none")
        starts = None
    settings = {"crashable": crashable, "max_calls": max_calls, "record_actions": record_actions,
                "record_states": record_states, "max_episodes": max_episodes}  # fmt: skip
    if on_cuda:
        initial = Worlds.stack(starts, device) if starts is not None else worlds.to(device)
        out = _run_cuda(programs, initial, task, instances, loop_capacity=loop_capacity, **settings)
        num_worlds = len(initial)
    else:
        if starts is None:
            cpu = worlds.to("cpu")
            grids = (cpu.walls.numpy(), cpu.markers.numpy(), torch.stack([cpu.row, cpu.col, cpu.direction], 1).numpy())
        else:
            grids = _stack(starts)
        out = _run_cpu(programs, *grids, task, instances, **settings)
        redo = out.pop("fallback").nonzero()[0].tolist()  # numpy's: torch's nonzero took longer than the VM
        out = {key: torch.from_numpy(value) for key, value in out.items()}
        num_worlds = len(grids[0])
    if on_cuda:
        redo = out.pop("fallback").nonzero().flatten().tolist()  # host sync: once per call
    for n in redo:
        start = starts[n % num_worlds] if starts is not None else worlds.world(n % num_worlds)
        _rerun_with_reference(out, n, programs, task, instances, start, crashable, max_calls, record_actions)
    shape = (len(programs), num_worlds)
    states = None
    if record_states:
        states = Worlds(*(out.pop(f"state_{f}").flatten(0, 1) for f in WORLD_FIELDS))
    return ExecResult(
        returns=out["ret"].view(shape),
        termination=out["termination"].view(shape),
        calls=out["calls"].view(shape),
        num_actions=out["num_actions"].view(shape),
        actions=out["actions"].view(*shape, -1) if record_actions else None,
        states=states,
        fallbacks=len(redo),
    )


def episode_returns(
    programs: Sequence[Program], task: Task, instances: Sequence[Instance] | None = None, *, max_calls: int = MAX_CALLS
) -> np.ndarray:
    """The `[P, E]` float64 episode returns of `execute(programs, task, instances).returns` as a numpy array,
    computed on the CPU without loading torch (what `karel eval` runs)."""
    _check(programs, 0, False, max_calls, 1)
    instances = _instances(task, instances)
    starts = [inst.world for inst in instances]
    out = _run_cpu(programs, *_stack(starts), task, instances, crashable=False, max_calls=max_calls,
                   record_actions=0, record_states=False, max_episodes=1 << 15)  # fmt: skip
    for n in out.pop("fallback").nonzero()[0].tolist():
        start = starts[n % len(starts)]
        _rerun_with_reference(out, n, programs, task, instances, start, False, max_calls, 0)
    return out["ret"].reshape(len(programs), len(starts))


def _check(programs, record_actions: int, record_states: bool, max_calls: int, max_episodes: int) -> None:
    if len(programs) == 0:
        raise ValueError("execute needs at least one program, got none")
    if record_states and record_actions < 1:
        raise ValueError("record_states needs record_actions >= 1 (the number of steps to keep)")
    if max_calls < 0 or record_actions < 0 or max_episodes < 1:
        raise ValueError("max_calls and record_actions must be >= 0 and max_episodes >= 1")


def _instances(task: Task, instances: Sequence[Instance] | None) -> list[Instance]:
    instances = list(instances) if instances is not None else [task.instance(i) for i in range(32)]
    if not instances:
        raise ValueError("execute needs at least one task instance, got none")
    return instances


def _stack(worlds: Sequence[World]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """walls, markers [E, H, W] uint8 and pose [E, 3] int64 (row, col, direction) of single worlds."""
    walls = np.stack([w.walls for w in worlds]).astype(np.uint8)
    markers = np.stack([w.markers for w in worlds]).astype(np.uint8)
    return walls, markers, np.array([(w.row, w.col, w.direction) for w in worlds], dtype=np.int64).reshape(-1, 3)


def _run_cpu(programs, walls: np.ndarray, markers: np.ndarray, pose: np.ndarray, task: Task | None, instances, *,
             crashable: bool, max_calls: int, record_actions: int, record_states: bool,
             max_episodes: int) -> dict[str, np.ndarray]:  # fmt: skip
    """The CPU VM over all P x E episodes, `max_episodes` at a time; numpy outputs [N, ...] keyed as
    `_outputs` says."""
    from karel.vm import cpu as vm_cpu
    from karel.vm import pack

    code = instruction_table(programs)[0]
    num_worlds, height, width = walls.shape
    arrays = pack.pack_task(task, instances) if task is not None else pack.TaskArrays.none(num_worlds, height, width)
    total = len(code) * num_worlds
    chunks = []
    for start in range(0, max(total, 1), max_episodes):
        episodes = np.arange(start, min(total, start + max_episodes), dtype=np.int64)
        result = vm_cpu.run_episodes(code, episodes // num_worlds, episodes % num_worlds, walls, markers, pose, arrays,
                                     crashable=crashable, max_calls=max_calls, record_actions=record_actions,
                                     record_states=record_states)  # fmt: skip
        chunks.append({f: getattr(result, f) for f in _VM_FIELDS})
    merged = {f: np.concatenate([c[f] for c in chunks]) if len(chunks) > 1 else chunks[0][f] for f in _VM_FIELDS}
    return _outputs(merged, record_actions, record_states, lambda a: a.astype(bool))


def _run_cuda(programs, initial: Worlds, task: Task | None, instances, *, loop_capacity: int, crashable: bool,
              max_calls: int, record_actions: int, record_states: bool, max_episodes: int) -> dict:  # fmt: skip
    """The VM's CUDA kernel over all P x E episodes (tensors on `initial`'s device), as `_run_cpu`."""
    import torch

    from karel.vm import cuda as vm_cuda
    from karel.vm import pack

    code = torch.from_numpy(instruction_table(programs)[0]).to(initial.device)
    num_worlds, height, width = initial.walls.shape
    arrays = pack.pack_task(task, instances) if task is not None else pack.TaskArrays.none(num_worlds, height, width)
    walls, markers = initial.walls.to(torch.uint8).contiguous(), initial.markers.to(torch.uint8).contiguous()
    pose = torch.stack([initial.row, initial.col, initial.direction], dim=1).contiguous()
    total = len(code) * num_worlds
    chunks = []
    for start in range(0, max(total, 1), max_episodes):
        episodes = torch.arange(start, min(total, start + max_episodes), device=code.device)
        chunks.append(vm_cuda.run_episodes(code, episodes // num_worlds, episodes % num_worlds, walls, markers, pose,
                                           arrays, crashable=crashable, max_calls=max_calls,
                                           record_actions=record_actions, record_states=record_states,
                                           loop_capacity=loop_capacity))  # fmt: skip
    merged = {f: torch.cat([c[f] for c in chunks]) if len(chunks) > 1 else chunks[0][f] for f in _VM_FIELDS}
    return _outputs(merged, record_actions, record_states, lambda a: a.bool())


_VM_FIELDS = ("returns", "termination", "calls", "num_actions", "fallback", "actions", "state_walls", "state_markers",
              "state_pose")  # fmt: skip


def _outputs(vm: dict, record_actions: int, record_states: bool, as_bool) -> dict:
    """The VM's outputs keyed ret, termination, calls, num_actions, fallback, actions (when recorded),
    state_{walls, markers, row, col, direction} (when recorded), numpy arrays or tensors alike."""
    out = {"ret": vm["returns"], "termination": vm["termination"], "calls": vm["calls"],
           "num_actions": vm["num_actions"], "fallback": vm["fallback"]}  # fmt: skip
    if record_actions:
        out["actions"] = vm["actions"]
    if record_states:
        pose = vm["state_pose"]  # [N, T+1, 3]
        out.update(state_walls=as_bool(vm["state_walls"]), state_markers=vm["state_markers"],
                   state_row=pose[..., 0], state_col=pose[..., 1], state_direction=pose[..., 2])  # fmt: skip
    return out


def _put(target, index, values) -> None:
    """`target[index] = values` for a numpy array or a tensor (on any device) alike."""
    if isinstance(target, np.ndarray):
        target[index] = values
    else:
        import torch

        target[index] = torch.as_tensor(np.asarray(values), dtype=target.dtype, device=target.device)


def _rerun_with_reference(
    out, n, programs, task, instances, start: World, crashable, max_calls, record_actions
) -> None:
    """Replace episode n's outputs (numpy arrays or tensors) by the reference interpreter's (exact, slow);
    `start` is its initial world."""
    num_worlds = len(out["ret"]) // len(programs)
    program, world_index = programs[n // num_worlds], n % num_worlds
    rules = task.rules(instances[world_index]) if task is not None else None
    episode = run_episode(program, start, rules, crashable=crashable, max_calls=max_calls,
                          record_worlds="state_markers" in out)  # fmt: skip
    _put(out["ret"], n, episode.episode_return)
    _put(out["termination"], n, int(episode.termination))
    _put(out["calls"], n, episode.calls)
    _put(out["num_actions"], n, len(episode.actions))
    if record_actions:
        kept = episode.actions[:record_actions]
        _put(out["actions"], n, [int(a) for a in kept] + [NOOP_ACTION] * (record_actions - len(kept)))
    if "state_markers" in out:
        kept_worlds = episode.worlds[: record_actions + 1]
        k = len(kept_worlds)
        _put(out["state_walls"], (n, slice(0, k)), np.stack([w.walls for w in kept_worlds]).astype(bool))
        _put(out["state_markers"], (n, slice(0, k)), np.stack([w.markers for w in kept_worlds]).astype(np.uint8))
        for f in ("row", "col", "direction"):
            _put(out[f"state_{f}"], (n, slice(0, k)), np.array([getattr(w, f) for w in kept_worlds], dtype=np.int64))


@dataclass(frozen=True)
class Traces:
    """Outcome of N reward-free episodes, each with its own program and world (`execute_pairs`)."""

    termination: torch.Tensor  # [N] int64 Termination
    calls: torch.Tensor  # [N] int64
    num_actions: torch.Tensor  # [N] int64
    actions: torch.Tensor | None  # [N, T] int64, NOOP_ACTION after the end
    states: Worlds | None  # worlds [N*(T+1)] flattened from [N, T+1]: the initial world, then after each action
    branches: torch.Tensor | None  # [N, L] uint8 per instruction of the program: bit 0 a condition test was
    # true there, bit 1 false (L: the longest instruction table; `karel.compiler`)


def execute_pairs(
    programs: Sequence[Program],
    worlds: Worlds,
    program_of: Sequence[int] | np.ndarray | torch.Tensor,
    *,
    crashable: bool = False,
    max_calls: int = MAX_CALLS,
    record_actions: int = 0,
    record_states: bool = False,
    record_branches: bool = False,
) -> Traces:
    """Run episode n = program `programs[program_of[n]]` on world `worlds[n]`, for N worlds, with no task
    rules (dataset generation), on the CPU with the VM. Same semantics as `execute`."""
    import torch

    from karel.vm import cpu as vm
    from karel.vm import pack

    if record_states and record_actions < 1:
        raise ValueError("record_states needs record_actions >= 1 (the number of steps to keep)")
    program_of = np.asarray(program_of, dtype=np.int64)
    if program_of.shape != (len(worlds),):
        raise ValueError(f"program_of must give one program per world: {program_of.shape} for {len(worlds)} worlds")
    if len(program_of) and (program_of.min() < 0 or program_of.max() >= len(programs)):
        raise ValueError("program_of holds an index outside the programs")
    worlds = worlds.to("cpu")
    num, height, width = worlds.walls.shape
    code = instruction_table(programs)[0]
    pose = torch.stack([worlds.row, worlds.col, worlds.direction], dim=1).numpy()
    out = vm.run_episodes(code, program_of, np.arange(num), worlds.walls.numpy().astype(np.uint8),
                          worlds.markers.numpy(), pose, pack.TaskArrays.none(num, height, width), crashable=crashable,
                          max_calls=max_calls, record_actions=record_actions, record_states=record_states,
                          record_branches=record_branches)  # fmt: skip
    states = None
    if record_states:
        p = torch.from_numpy(out.state_pose)
        states = Worlds(torch.from_numpy(out.state_walls).bool().flatten(0, 1),
                        torch.from_numpy(out.state_markers).flatten(0, 1),
                        p[..., 0].flatten(), p[..., 1].flatten(), p[..., 2].flatten())  # fmt: skip
    return Traces(
        termination=torch.from_numpy(out.termination), calls=torch.from_numpy(out.calls),
        num_actions=torch.from_numpy(out.num_actions),
        actions=torch.from_numpy(out.actions) if record_actions else None, states=states,
        branches=torch.from_numpy(out.branches) if record_branches else None,
    )  # fmt: skip
