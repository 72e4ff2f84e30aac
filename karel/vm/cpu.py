"""The VM on the CPU: `run_episodes` runs N episodes natively, shared out over the CPU threads.

One compiled driver serves every task (the rule is an argument), compiled on first use and cached on
disk (numba `cache=True`, keyed by a digest of every VM source, `build.source_digest`). The VM's
functions are compiled without numba's reference counting (`_nrt=False`: they allocate nothing), so
passing arrays between them costs nothing; with it, the atomic reference counts of their array arguments
took more time than the Karel steps (measured: 14.8 against 8.1 ns per call on Harvester's benchmark mix).

Threads: the driver releases the GIL, and `run_episodes` hands ranges of episodes to a pool of Python
threads (as many as `numba.get_num_threads()`, set by `NUMBA_NUM_THREADS` or `numba.set_num_threads`),
so a few budget-length episodes do not hold the others back. Each thread owns its scratch: the grid, the
rule state, and a loop table and change log sized for `max_calls`, so the loop detector never falls back
here.

Arrays (E worlds of H x W, P programs, N = P * E episodes, T recorded actions):
    code [P, L, 6] int64; walls [E, H, W] uint8; markers [E, H, W] uint8; pose [E, 3] int64 (row, col, dir);
    outputs: returns [N] float64, termination/calls/num_actions [N] int64, fallback [N] uint8,
    actions [N, T] int64, state_walls/state_markers [N, T+1, H, W] uint8, state_pose [N, T+1, 3] int64.
"""

from __future__ import annotations

import functools
import os
import threading
import types
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

from karel.vm.build import build, source_digest
from karel.vm.machine import init_worlds, run_episode  # their compiled forms, in `engine`'s namespace
from karel.vm.ops import ACC_SIZE, ENTRY_FIELDS, NOOP, STATE_SIZE
from karel.vm.pack import TaskArrays, zobrist


def _drivers(digest: int):
    def init_range(first, last, init_markers, init_acc, zobrist):
        """The accumulators of worlds first..last-1."""
        if digest < 0:  # never: the digest is a closure value, so part of the cache key
            return
        init_worlds(first, last, init_markers, init_acc, zobrist)

    def run_range(
        first, last, rule, code, world_of_episode, program_of_episode, init_walls, init_markers, init_pose,
        init_acc, sparse, params, cells, num_cells, mask, crashable, max_calls, zobrist, returns, termination,
        calls_out, actions_out, fallback, actions, state_walls, state_markers, state_pose, branches, walls,
        markers, old_markers, counters, state, acc, keys, table, entries, log,
    ):  # fmt: skip
        """Run episodes first..last-1 with one thread's scratch (walls .. log)."""
        if digest < 0:
            return
        for n in range(first, last):
            e = world_of_episode[n]
            run_episode(n, program_of_episode[n], e, rule, code, init_walls, init_markers, init_pose, init_acc,
                        sparse, params[e], cells[e], num_cells[e], mask[e], crashable, max_calls, zobrist, walls,
                        markers, counters, state, acc, table, entries, log, old_markers, keys, returns,
                        termination, calls_out, actions_out, fallback, actions, state_walls, state_markers,
                        state_pose, branches)  # fmt: skip

    return init_range, run_range


@functools.cache
def engine():
    """(init_range, run_range): the CPU drivers of the VM, compiled on first use (then cached on disk). The
    VM's functions are inlined into `run_episode`, the compiled unit."""
    jit = numba.njit(nogil=True, _nrt=False, inline="always")
    namespace = build(jit, numba.njit(nogil=True, _nrt=False))
    compiled = []
    for template in _drivers(_DIGEST):
        function = types.FunctionType(template.__code__, namespace, template.__name__, None, template.__closure__)
        function.__module__, function.__qualname__ = __name__, template.__name__
        compiled.append(numba.njit(cache=True, nogil=True, _nrt=False)(function))
    return tuple(compiled)


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


def loop_storage(max_calls: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A loop table (all -1), entries and change log that never fill within `max_calls` calls: a key is
    stored after a call, and an action changes at most 5 marker counts (its own and Snake's 4)."""
    capacity = max_calls + 2
    slots = 16
    while slots < 2 * capacity:
        slots *= 2
    return (np.full(slots, -1, np.int64), np.zeros((capacity, ENTRY_FIELDS), np.int64),
            np.zeros(5 * capacity, np.int64))  # fmt: skip


class _Scratch(threading.local):
    """Loop storage kept between calls, per calling thread and worker (every episode leaves its table
    slots at -1 again); a call that finds it in use (a nested or concurrent call) allocates its own."""

    def __init__(self):
        self.lock = threading.Lock()
        self.kept: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


_SCRATCH = _Scratch()
_POOL: list = [None, 0]  # [ThreadPoolExecutor, its size]


def _after_fork() -> None:
    """A forked child (multiprocessing, data loader workers) has none of its parent's threads: it starts
    its own pool, and its own scratch (a parent's run may have held the lock at the fork)."""
    global _SCRATCH
    _POOL[:] = [None, 0]
    _SCRATCH = _Scratch()


os.register_at_fork(after_in_child=_after_fork)


def num_threads() -> int:
    """The CPU threads the VM uses: numba's setting, read without starting numba's own thread pool when no
    one has changed it (`NUMBA_NUM_THREADS`, else the CPU count)."""
    from numba.np.ufunc import parallel

    return numba.get_num_threads() if getattr(parallel, "_is_initialized", True) else numba.config.NUMBA_NUM_THREADS


def _pool(threads: int) -> ThreadPoolExecutor:
    if _POOL[1] != threads:
        if _POOL[0] is not None:
            _POOL[0].shutdown(wait=False)
        _POOL[:] = [ThreadPoolExecutor(threads, thread_name_prefix="karel-vm"), threads]
    return _POOL[0]


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
    `world_of_episode[n]` (of `walls`, `markers` [E, H, W], `pose` [E, 3]). Shapes as in the module doc.
    Threads take `block` episodes or more at a time."""
    n, (num_worlds, h, w) = len(program_of_episode), walls.shape
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
    init_range, run_range = engine()
    hashes = zobrist(h, w)
    code = np.ascontiguousarray(code, np.int64)
    init_walls, init_markers = np.ascontiguousarray(walls, np.uint8), np.ascontiguousarray(markers, np.uint8)
    init_acc = np.zeros((num_worlds, ACC_SIZE), np.int64)
    init_range(0, num_worlds, init_markers, init_acc, hashes)
    inputs = (task.rule, code, np.ascontiguousarray(world_of_episode, np.int64),
              np.ascontiguousarray(program_of_episode, np.int64), init_walls, init_markers,
              np.ascontiguousarray(pose, np.int64), init_acc, task.sparse, task.params, task.cells, task.num_cells,
              task.mask, crashable, max_calls, hashes, out.returns, out.termination, out.calls, out.num_actions,
              out.fallback, out.actions, out.state_walls, out.state_markers, out.state_pose, out.branches)  # fmt: skip
    threads = max(1, min(num_threads(), -(-n // block)))
    kept_scratch = _SCRATCH
    owned = kept_scratch.lock.acquire(blocking=False)
    try:

        def scratch(t: int) -> tuple:
            kept = kept_scratch.kept.get((t, max_calls)) if owned else None
            if kept is None:
                kept = loop_storage(max_calls)
                if owned:
                    kept_scratch.kept[(t, max_calls)] = kept
            grids = (np.zeros((h, w), np.uint8), np.zeros((h, w), np.uint8), np.zeros((h, w), np.uint8))
            return (*grids, np.zeros(code.shape[1], np.int64), np.zeros(STATE_SIZE, np.int64),
                    np.zeros(ACC_SIZE, np.int64), np.zeros((2, hashes.shape[0]), np.uint8), *kept)  # fmt: skip

        if threads == 1:
            run_range(0, n, *inputs, *scratch(0))
            return out
        # Ranges of `chunk` episodes taken in turn by the threads: about 8 per thread, for balance.
        chunk = max(block, -(-n // (8 * threads)))
        starts = iter(range(0, n, chunk))
        take = threading.Lock()

        def work(t: int) -> None:
            mine = scratch(t)
            while True:
                with take:
                    first = next(starts, None)
                if first is None:
                    return
                run_range(first, min(n, first + chunk), *inputs, *mine)

        for future in [_pool(threads).submit(work, t) for t in range(threads)]:
            future.result()
        return out
    finally:
        if owned:
            kept_scratch.lock.release()
