"""The batched executor: P programs x E worlds, with exactly the reference interpreter's results.

`execute` is the one entry point of every caller (`karel eval`, dataset generation, the VAE's behaviour
losses, every search method). It runs the compiled VM (`karel.vm`): every episode runs natively to its end,
on the CPU shared out over the CPU threads (`karel.vm.cpu`), on CUDA one GPU thread per episode
(`karel.vm.cuda`; under `NUMBA_ENABLE_CUDASIM=1` in numba's CUDA simulator, results on the CPU). An episode
the VM cannot finish exactly (a Snake episode that uses more food draws than were precomputed, a full CUDA
loop table) is re-run with the reference interpreter; `ExecResult.fallbacks` counts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from karel.compiler import compile_programs
from karel.dsl import MAX_CALLS, NOOP_ACTION
from karel.interpreter import run_episode
from karel.program import Program
from karel.tasks.base import Instance, Task
from karel.world import Worlds

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
    if task is None and worlds is None:
        raise ValueError("execute needs a task or initial worlds")
    if len(programs) == 0:
        raise ValueError("execute needs at least one program, got none")
    if record_states and record_actions < 1:
        raise ValueError("record_states needs record_actions >= 1 (the number of steps to keep)")
    if max_calls < 0 or record_actions < 0 or max_episodes < 1:
        raise ValueError("max_calls and record_actions must be >= 0 and max_episodes >= 1")
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
        instances = list(instances) if instances is not None else [task.instance(i) for i in range(32)]
        if not instances:
            raise ValueError("execute needs at least one task instance, got none")
        initial = Worlds.stack([inst.world for inst in instances], device)
    else:
        initial = worlds.to(device)
        if len(initial) == 0:
            raise ValueError("execute needs at least one initial world, got none")
    compiled = compile_programs(programs, device)
    settings = {"crashable": crashable, "max_calls": max_calls, "record_actions": record_actions,
                "record_states": record_states, "max_episodes": max_episodes}  # fmt: skip
    out = _run_vm(compiled.code, initial, task, instances, on_cuda=on_cuda, loop_capacity=loop_capacity, **settings)
    redo = out.pop("fallback").nonzero().flatten().tolist()  # host sync: once per call
    for n in redo:
        _rerun_with_reference(out, n, programs, task, instances, initial, crashable, max_calls, record_actions)
    shape = (len(programs), len(initial))
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


def _run_vm(code: torch.Tensor, initial: Worlds, task: Task | None, instances, *, on_cuda: bool,
            loop_capacity: int, crashable: bool, max_calls: int, record_actions: int, record_states: bool,
            max_episodes: int) -> dict[str, torch.Tensor]:  # fmt: skip
    """The VM over all P x E episodes, `max_episodes` at a time, on the CPU or CUDA (tensors on
    `initial`'s device); outputs [N, ...] keyed ret, termination, calls, num_actions, fallback, actions,
    state_{walls, markers, row, col, direction}."""
    from karel.vm import pack

    num_worlds, height, width = initial.walls.shape
    arrays = pack.pack_task(task, instances) if task is not None else pack.TaskArrays.none(num_worlds, height, width)
    walls, markers = initial.walls.to(torch.uint8), initial.markers.to(torch.uint8)
    pose = torch.stack([initial.row, initial.col, initial.direction], dim=1)
    total = len(code) * num_worlds
    chunks = []
    for start in range(0, max(total, 1), max_episodes):
        episodes = torch.arange(start, min(total, start + max_episodes), device=code.device)
        settings = {"crashable": crashable, "max_calls": max_calls, "record_actions": record_actions,
                    "record_states": record_states}  # fmt: skip
        if on_cuda:
            from karel.vm import cuda as vm_cuda

            chunks.append(vm_cuda.run_episodes(code, episodes // num_worlds, episodes % num_worlds, walls.contiguous(),
                                               markers.contiguous(), pose.contiguous(), arrays,
                                               loop_capacity=loop_capacity, **settings))  # fmt: skip
        else:
            from karel.vm import cpu as vm_cpu

            result = vm_cpu.run_episodes(code.numpy(), (episodes // num_worlds).numpy(), (episodes % num_worlds).numpy(),
                                         walls.numpy(), markers.numpy(), pose.numpy(), arrays, **settings)  # fmt: skip
            chunks.append({f: torch.from_numpy(getattr(result, f)) for f in ("returns", "termination", "calls",
                           "num_actions", "fallback", "actions", "state_walls", "state_markers", "state_pose")})  # fmt: skip

    def cat(field: str) -> torch.Tensor:
        return torch.cat([c[field] for c in chunks]) if len(chunks) > 1 else chunks[0][field]

    out = {"ret": cat("returns"), "termination": cat("termination"), "calls": cat("calls"),
           "num_actions": cat("num_actions"), "fallback": cat("fallback")}  # fmt: skip
    if record_actions:
        out["actions"] = cat("actions")
    if record_states:
        pose_out = cat("state_pose")  # [N, T+1, 3]
        out.update(state_walls=cat("state_walls").bool(), state_markers=cat("state_markers"),
                   state_row=pose_out[..., 0], state_col=pose_out[..., 1], state_direction=pose_out[..., 2])  # fmt: skip
    return out


def _rerun_with_reference(out, n, programs, task, instances, initial, crashable, max_calls, record_actions) -> None:
    """Replace episode n's outputs by the reference interpreter's (exact, slow)."""
    num_worlds = len(initial)
    program, world_index = programs[n // num_worlds], n % num_worlds
    rules = task.rules(instances[world_index]) if task is not None else None
    world = instances[world_index].world if task is not None else initial.world(world_index)
    episode = run_episode(program, world, rules, crashable=crashable, max_calls=max_calls,
                          record_worlds="state_markers" in out)  # fmt: skip
    out["ret"][n] = episode.episode_return
    out["termination"][n] = int(episode.termination)
    out["calls"][n] = episode.calls
    out["num_actions"][n] = len(episode.actions)
    if record_actions:
        kept = episode.actions[:record_actions]
        out["actions"][n] = NOOP_ACTION
        out["actions"][n, : len(kept)] = torch.tensor(kept, dtype=torch.int64)
    if "state_markers" in out:
        kept_worlds = Worlds.stack(episode.worlds[: record_actions + 1], out["state_markers"].device)
        for f in WORLD_FIELDS:
            out[f"state_{f}"][n, : len(kept_worlds)] = getattr(kept_worlds, f)


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
    code = compile_programs(programs).code.numpy()
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
