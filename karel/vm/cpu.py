"""The VM on the CPU: `run_episodes` runs N episodes natively, shared out over the CPU threads.

The threads take the episodes in small blocks (numba `prange` over blocks), so a few budget-length
episodes do not hold the others back. Each thread owns its scratch: the grid, the rule state, and a loop
table and change log sized for `max_calls`, so the loop detector never falls back here. There is one
driver per task rule (`engine`), cached on disk (numba `cache=True`) and keyed by the rule and a digest of
every VM source (`build.source_digest`).

Arrays (E worlds of H x W, P programs, N = P * E episodes, T recorded actions):
    code [P, L, 6] int64; walls [E, H, W] uint8; markers [E, H, W] uint8; pose [E, 3] int64 (row, col, dir);
    outputs: returns [N] float64, termination/calls/num_actions [N] int64, fallback [N] uint8,
    actions [N, T] int64, state_walls/state_markers [N, T+1, H, W] uint8, state_pose [N, T+1, 3] int64.
"""

from __future__ import annotations

import functools
import types
from dataclasses import dataclass

import numba
import numpy as np

from karel.vm.build import build, source_digest
from karel.vm.machine import init_worlds, run_episode  # their compiled forms, in `engine`'s namespace
from karel.vm.ops import ACC_SIZE, ENTRY_FIELDS, NOOP, STATE_SIZE
from karel.vm.pack import TaskArrays, zobrist


# Everything but the entry point is inlined into it: a call to a compiled function that takes arrays costs
# atomic reference counts per array (measured: ~90 ns per action for the rules call alone).
def _driver(digest: int, rule: int):
    def run_blocks(
        block, code, world_of_episode, program_of_episode, init_walls, init_markers, init_pose, sparse, params,
        cells, num_cells, mask, crashable, max_calls, zobrist, returns, termination, calls_out, actions_out,
        fallback, actions, state_walls, state_markers, state_pose, branches, table, entries, log, threads,
    ):  # fmt: skip
        """Run all episodes in blocks of `block`; `table`, `entries`, `log` have one row per thread."""
        if digest < 0 or rule < 0:  # never: both are closure values, so part of the cache key
            return
        total = len(program_of_episode)
        num_blocks = (total + block - 1) // block
        h, w = init_walls.shape[1], init_walls.shape[2]
        init_acc = np.zeros((init_walls.shape[0], ACC_SIZE), np.int64)
        init_worlds(0, init_walls.shape[0], init_markers, init_acc, zobrist)
        walls = np.empty((threads, h, w), np.uint8)
        markers = np.empty((threads, h, w), np.uint8)
        old_markers = np.empty((threads, h, w), np.uint8)
        counters = np.zeros((threads, code.shape[1]), np.int64)
        state = np.zeros((threads, STATE_SIZE), np.int64)
        acc = np.zeros((threads, ACC_SIZE), np.int64)
        keys = np.zeros((threads, 2, zobrist.shape[0]), np.uint8)
        for b in numba.prange(num_blocks):
            t = numba.get_thread_id()
            for n in range(b * block, min(total, (b + 1) * block)):
                e = world_of_episode[n]
                run_episode(n, program_of_episode[n], e, code, init_walls, init_markers, init_pose, init_acc,
                            sparse, params[e], cells[e], num_cells[e], mask[e], crashable, max_calls, zobrist,
                            walls[t], markers[t], counters[t], state[t], acc[t], table[t], entries[t], log[t],
                            old_markers[t], keys[t], returns, termination, calls_out, actions_out, fallback,
                            actions, state_walls, state_markers, state_pose, branches)  # fmt: skip

    return run_blocks


@functools.cache
def engine(rule: int):
    """The CPU driver of the VM for task rule `rule`, compiled on first use (then cached on disk). The VM's
    functions are inlined into `run_episode`: a call to a compiled function costs reference counting of
    its array arguments; and one VM per rule keeps the episode loop small (measured: one VM holding every
    rule spent ~40 ns more per action)."""
    namespace = build(numba.njit(nogil=True, inline="always"), rule, numba.njit(nogil=True))
    namespace.update(np=np, numba=numba)
    template = _driver(_DIGEST, rule)
    function = types.FunctionType(template.__code__, namespace, "run_blocks", None, template.__closure__)
    function.__module__, function.__qualname__ = __name__, f"run_blocks_rule{rule}"  # see build.build
    return numba.njit(cache=True, parallel=True, nogil=True)(function)


_DIGEST = source_digest()


@dataclass(frozen=True)
class Outputs:
    """What `run_episodes` returns; N episodes, T recorded actions."""

    returns: np.ndarray  # [N] float64
    termination: np.ndarray  # [N] int64
    calls: np.ndarray  # [N] int64
    num_actions: np.ndarray  # [N] int64
    fallback: np.ndarray  # [N] uint8: the VM could not finish the episode exactly
    actions: np.ndarray  # [N, T] int64, NOOP (5) after the end
    state_walls: np.ndarray  # [N, T+1, H, W] uint8 (T+1 = 0 without state recording)
    state_markers: np.ndarray  # [N, T+1, H, W] uint8
    state_pose: np.ndarray  # [N, T+1, 3] int64 row, col, direction
    branches: np.ndarray  # [N, L] uint8 per instruction: bit 0 a test was true, bit 1 false ([N, 0] if off)


def loop_storage(threads: int, max_calls: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-thread loop table, entries and change log that never fill within `max_calls` calls: a key is
    stored after a call, and an action changes at most 5 marker counts (its own and Snake's 4)."""
    capacity = max_calls + 2
    slots = 16
    while slots < 2 * capacity:
        slots *= 2
    return (np.full((threads, slots), -1, np.int64), np.zeros((threads, capacity, ENTRY_FIELDS), np.int64),
            np.zeros((threads, 5 * capacity), np.int64))  # fmt: skip


def run_episodes(
    code: np.ndarray,
    program_of_episode: np.ndarray,
    world_of_episode: np.ndarray,
    walls: np.ndarray,
    markers: np.ndarray,
    pose: np.ndarray,
    task: TaskArrays,
    *,
    crashable: bool,
    max_calls: int,
    record_actions: int = 0,
    record_states: bool = False,
    record_branches: bool = False,
    block: int = 32,
) -> Outputs:
    """Run N episodes: episode n plays program `program_of_episode[n]` (a row of `code` [P, L, 6]) on world
    `world_of_episode[n]` (of `walls`, `markers` [E, H, W], `pose` [E, 3]). Shapes as in the module doc."""
    n, (_, h, w) = len(program_of_episode), walls.shape
    steps = record_actions + 1 if record_states else 0
    out = Outputs(
        returns=np.zeros(n, np.float64), termination=np.zeros(n, np.int64), calls=np.zeros(n, np.int64),
        num_actions=np.zeros(n, np.int64), fallback=np.zeros(n, np.uint8),
        actions=np.full((n, record_actions), NOOP, np.int64),
        state_walls=np.zeros((n, steps, h, w), np.uint8), state_markers=np.zeros((n, steps, h, w), np.uint8),
        state_pose=np.zeros((n, steps, 3), np.int64),
        branches=np.zeros((n, code.shape[1] if record_branches else 0), np.uint8),
    )  # fmt: skip
    if n == 0:
        return out
    threads = numba.get_num_threads()
    engine(task.rule)(
        block, np.ascontiguousarray(code, np.int64), np.ascontiguousarray(world_of_episode, np.int64),
        np.ascontiguousarray(program_of_episode, np.int64), np.ascontiguousarray(walls, np.uint8),
        np.ascontiguousarray(markers, np.uint8), np.ascontiguousarray(pose, np.int64),
        task.sparse, task.params, task.cells, task.num_cells, task.mask, crashable, max_calls,
        zobrist(h, w), out.returns, out.termination, out.calls, out.num_actions, out.fallback, out.actions,
        out.state_walls, out.state_markers, out.state_pose, out.branches, *loop_storage(threads, max_calls), threads,
    )  # fmt: skip
    return out
