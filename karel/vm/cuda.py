"""The VM as a CUDA kernel: one thread per episode, on torch CUDA tensors in place.

The kernel runs the same `machine.run_episode` as the CPU driver, compiled as numba CUDA device functions
(one kernel for every task: the rule is an argument, `engine`). Inputs and outputs are torch tensors handed to numba through
`__cuda_array_interface__` (`numba.cuda.as_cuda_array`), so nothing is copied to the host; numba launches
on its default stream, the legacy default stream torch also uses unless told otherwise. Every episode has
its own scratch rows (grid, rule state, loop table of `loop_capacity` entries, marker-change log of
`log_capacity` entries); an episode whose table fills, or whose loop check needs changes the log did not
keep, is flagged `fallback` and re-run by the reference interpreter (`karel.executor`).

With `NUMBA_ENABLE_CUDASIM=1`, numba's CUDA simulator runs the kernel in Python threads on host arrays:
`simulated()` is then True and the tensors stay on the CPU. That is how the tests check the kernel
against the reference without a GPU (slowly: keep such runs small).
"""

from __future__ import annotations

import functools
import types

import numpy as np
import torch
from numba import config, cuda

from karel.vm.build import build
from karel.vm.machine import init_worlds, run_episode  # their compiled forms, in `engine`'s namespace
from karel.vm.ops import ACC_SIZE, ENTRY_FIELDS, NOOP, STATE_SIZE
from karel.vm.pack import TaskArrays, zobrist

THREADS_PER_BLOCK = 64


def simulated() -> bool:
    """Whether numba's CUDA simulator stands in for a device (`NUMBA_ENABLE_CUDASIM=1`)."""
    return bool(config.ENABLE_CUDASIM)


def available() -> bool:
    """Whether the kernel can run: a CUDA device, or the simulator."""
    return simulated() or (torch.cuda.is_available() and cuda.is_available())


def init_kernel(init_markers, init_acc, zobrist):
    e = cuda.grid(1)
    if e < init_markers.shape[0]:
        init_worlds(e, e + 1, init_markers, init_acc, zobrist)


def episodes_kernel(
    rule, code, world_of_episode, program_of_episode, init_walls, init_markers, init_pose, init_acc, sparse, params,
    cells, num_cells, mask, crashable, max_calls, zobrist, walls, markers, counters, state, acc, table, entries,
    log, old_markers, keys, returns, termination, calls_out, actions_out, fallback, actions, state_walls,
    state_markers, state_pose, branches,
):  # fmt: skip
    n = cuda.grid(1)
    if n < program_of_episode.shape[0]:
        e = world_of_episode[n]
        run_episode(n, program_of_episode[n], e, rule, code, init_walls, init_markers, init_pose, init_acc, sparse,
                    params[e], cells[e], num_cells[e], mask[e], crashable, max_calls, zobrist, walls[n], markers[n],
                    counters[n], state[n], acc[n], table[n], entries[n], log[n], old_markers[n], keys[n], returns,
                    termination, calls_out, actions_out, fallback, actions, state_walls, state_markers, state_pose,
                    branches)  # fmt: skip


@functools.cache
def engine():
    """(init kernel, episodes kernel) of the VM, compiled on first use."""
    namespace = build(cuda.jit(device=True))
    namespace["cuda"] = cuda
    kernels = []
    for template in (init_kernel, episodes_kernel):
        function = types.FunctionType(template.__code__, namespace, template.__name__)
        function.__module__, function.__qualname__ = __name__, function.__name__
        kernels.append(cuda.jit(function))
    return tuple(kernels)


def _view(tensor: torch.Tensor):
    """The tensor as the kernel's array: the host array itself on the simulator, else a device view."""
    return tensor.numpy() if simulated() else cuda.as_cuda_array(tensor)


def run_episodes(
    code: torch.Tensor,
    program_of_episode: torch.Tensor,
    world_of_episode: torch.Tensor,
    walls: torch.Tensor,
    markers: torch.Tensor,
    pose: torch.Tensor,
    task: TaskArrays,
    *,
    crashable: bool,
    max_calls: int,
    record_actions: int = 0,
    record_states: bool = False,
    loop_capacity: int = 256,
    log_capacity: int = 2048,
) -> dict[str, torch.Tensor]:
    """Run N episodes as in `karel.vm.cpu.run_episodes`, on tensors of one device (the CUDA device, or the
    CPU on the simulator): code [P, L, 6] int64, program/world of episode [N] int64, walls/markers [E, H, W]
    uint8, pose [E, 3] int64. Returns the output tensors on that device, keyed as `karel.vm.cpu.Outputs`."""
    device = code.device
    n, (num_worlds, h, w) = len(program_of_episode), walls.shape
    steps = record_actions + 1 if record_states else 0

    def zeros(*shape, dtype=torch.int64, fill=0):
        return torch.full(shape, fill, dtype=dtype, device=device)

    out = {"returns": zeros(n, dtype=torch.float64), "termination": zeros(n), "calls": zeros(n),
           "num_actions": zeros(n), "fallback": zeros(n, dtype=torch.uint8),
           "actions": zeros(n, record_actions, fill=NOOP), "state_walls": zeros(n, steps, h, w, dtype=torch.uint8),
           "state_markers": zeros(n, steps, h, w, dtype=torch.uint8), "state_pose": zeros(n, steps, 3)}  # fmt: skip
    if n == 0:
        return out
    slots = 16
    while slots < 2 * loop_capacity:
        slots *= 2
    table = torch.tensor(zobrist(h, w), device=device)
    scratch = [zeros(n, h, w, dtype=torch.uint8), zeros(n, h, w, dtype=torch.uint8), zeros(n, code.shape[1]),
               zeros(n, STATE_SIZE), zeros(n, ACC_SIZE), zeros(n, slots, fill=-1),
               zeros(n, loop_capacity, ENTRY_FIELDS), zeros(n, log_capacity), zeros(n, h, w, dtype=torch.uint8),
               zeros(n, 2, table.shape[0], dtype=torch.uint8)]  # fmt: skip
    init_acc = zeros(num_worlds, ACC_SIZE)
    init, episodes = engine()
    v = _view
    init[(num_worlds + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK, THREADS_PER_BLOCK](
        v(markers), v(init_acc), v(table)
    )
    facts = [torch.as_tensor(np.ascontiguousarray(a), device=device) for a in (task.params, task.cells, task.num_cells,
                                                                                task.mask)]  # fmt: skip
    episodes[(n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK, THREADS_PER_BLOCK](
        task.rule, v(code), v(world_of_episode), v(program_of_episode), v(walls), v(markers), v(pose), v(init_acc), task.sparse,
        *(v(f) for f in facts), crashable, max_calls, v(table), *(v(s) for s in scratch), v(out["returns"]),
        v(out["termination"]), v(out["calls"]), v(out["num_actions"]), v(out["fallback"]), v(out["actions"]),
        v(out["state_walls"]), v(out["state_markers"]), v(out["state_pose"]), v(zeros(n, 0, dtype=torch.uint8)),
    )  # fmt: skip
    return out
