"""The compiled episode engine: every episode runs its program to the end in native code (numba).

P programs x E worlds are N independent episodes; the CPU threads share them out in small blocks (numba
`prange` with a chunk size of one block, so a few budget-length episodes do not hold the others back).
Each episode is a tiny virtual machine over its program's instruction table (`karel.compiler`) with the
reference interpreter's semantics (`karel.interpreter`): the call budget and the budget-call turn-around,
both crash modes, the termination precedence CRASH, BUDGET, TASK_END, and the WHILE loop detector. The
task rules of every family are compiled here too (`RULE_IDS`), each a port of the family's reference
`Rules`, with the instance facts packed into arrays by `pack_task`.

The loop detector is exact: it stores the reference's key (`World.loop_key`: decimal digits of row, column,
direction and every marker count) of every WHILE iteration in a per-thread hash table and compares the
digits in full on a hash match. Each check follows a call, so at most `max_calls` keys are stored; the
table is sized for that and never overflows.

All compiled code lives in this one module on purpose: numba's on-disk cache (`cache=True`) re-compiles a
function only when its own source file changes.

Arrays (E worlds of H x W, P programs, N = P * E episodes, T recorded actions):
    code [P, L, 6] int64; walls [E, H, W] uint8; markers [E, H, W] uint8; pose [E, 3] int64 (row, col, dir);
    outputs: returns [N] float64, termination/calls/num_actions [N] int64, fallback [N] uint8,
    actions [N, T] int64, state_walls/state_markers [N, T+1, H, W] uint8, state_pose [N, T+1, 3] int64.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np

from karel.tasks.base import Instance, Task

# Instruction ops and termination codes (karel.compiler.Op, karel.interpreter.Termination).
OP_ACT, OP_TEST, OP_WHILE, OP_REPEAT_SET, OP_REPEAT_TEST, OP_HALT = 0, 1, 2, 3, 4, 5
END_PROGRAM, END_TASK, END_BUDGET, END_LOOP, END_CRASH = 0, 1, 2, 3, 4
MOVE, TURN_LEFT, TURN_RIGHT, PICK, PUT = 0, 1, 2, 3, 4
MAX_MARKERS = 10
CRASH_PENALTY = -1.0
STEP_ROW = np.array([-1, 0, 1, 0], dtype=np.int64)  # N E S W
STEP_COL = np.array([0, 1, 0, -1], dtype=np.int64)

# Compiled rules per task family (Harvester and CleanHouse share the Harvester rules).
RULE_NONE = 0
RULE_IDS = {
    "StairClimber": 1, "Maze": 2, "TopOff": 3, "FourCorners": 4, "Harvester": 5, "CleanHouse": 5,
    "DoorKey": 6, "OneStroke": 7, "Seeder": 8, "PathFollow": 9, "WallAvoider": 10, "Snake": 11,
}  # fmt: skip
NUM_PARAMS = 8  # per-instance integer facts (marker cell, distances, counts, ...)
STATE_SIZE = 64  # per-episode integer rule state (Snake's body needs the most)
SNAKE_CANDIDATES = 1024  # precomputed food draws per Snake instance; an episode using more falls back

jit = numba.njit(cache=True, nogil=True)
inline = numba.njit(cache=True, nogil=True, inline="always")  # for the per-action helpers


# ---------------------------------------------------------------------------------------------- task packing


@dataclass(frozen=True)
class TaskArrays:
    """A task's rules and E instances as kernel inputs. `cells` lists cells per instance (TopOff targets,
    corners, doors, forbidden cells, Snake food draws); `mask` marks cells (valid stair cells, PathFollow's
    legal cells)."""

    rule: int
    sparse: bool
    params: np.ndarray  # [E, NUM_PARAMS] int64
    cells: np.ndarray  # [E, C, 2] int64
    num_cells: np.ndarray  # [E] int64
    mask: np.ndarray  # [E, H, W] uint8

    @staticmethod
    def none(num_worlds: int, height: int, width: int) -> TaskArrays:
        """No rules: every step earns 0 and nothing terminates (dataset generation)."""
        return TaskArrays(RULE_NONE, False, np.zeros((num_worlds, NUM_PARAMS), np.int64),
                          np.zeros((num_worlds, 1, 2), np.int64), np.zeros(num_worlds, np.int64),
                          np.zeros((num_worlds, height, width), np.uint8))  # fmt: skip


def pack_task(task: Task, instances: Sequence[Instance]) -> TaskArrays:
    """The facts of `instances` that `task`'s compiled rules read (cached: instances are determined by the
    task's settings and their seeds)."""
    key = (type(task), task.sparse, task.height, task.width, SNAKE_CANDIDATES, tuple(i.seed for i in instances))
    if key not in _PACKED:
        if len(_PACKED) >= 64:
            _PACKED.clear()
        _PACKED[key] = _pack(task, instances)
    return _PACKED[key]


_PACKED: dict[tuple, TaskArrays] = {}


def _pack(task: Task, instances: Sequence[Instance]) -> TaskArrays:
    from karel.tasks.path_follow import cell_id
    from karel.tasks.snake import food_candidates

    family, h, w = task.family, task.height, task.width
    num = len(instances)
    params = np.zeros((num, NUM_PARAMS), np.int64)
    mask = np.zeros((num, h, w), np.uint8)
    cell_lists: list[list[tuple[int, int]]] = [[] for _ in range(num)]
    for i, inst in enumerate(instances):
        layout = inst.layout
        if family in ("StairClimber", "Maze"):
            params[i, :3] = (*layout.marker, layout.initial_distance)
            if family == "StairClimber":
                for r, c in layout.valid_cells:
                    mask[i, r, c] = 1
        elif family == "TopOff":
            cell_lists[i] = list(layout.targets)
        elif family == "FourCorners":
            cell_lists[i] = list(layout.corners)
        elif family in ("Harvester", "CleanHouse"):
            params[i, 0] = layout.initial_markers
        elif family == "DoorKey":
            params[i, :4] = (*layout.key, *layout.goal)
            cell_lists[i] = list(layout.doors)
        elif family == "OneStroke":
            params[i, :3] = (*layout.start, layout.max_cells)
        elif family == "Seeder":
            params[i, 0] = layout.target_markers
        elif family == "PathFollow":
            params[i, 0] = layout.initial_markers
            for r in range(h):
                for c in range(w):
                    mask[i, r, c] = cell_id(r, c, h) in layout.legal_ids
        elif family == "WallAvoider":
            params[i, 0] = layout.target_markers
            cell_lists[i] = list(layout.forbidden)
        elif family == "Snake":
            params[i, :4] = (*layout.start, *layout.food)
            cell_lists[i] = food_candidates(inst.seed, h, w, SNAKE_CANDIDATES).tolist()
        else:
            raise ValueError(f"no compiled rules for task family {family!r}")
    width = max(1, max(len(cells) for cells in cell_lists))
    cells = np.zeros((num, width, 2), np.int64)
    for i, cell_list in enumerate(cell_lists):
        if cell_list:
            cells[i, : len(cell_list)] = cell_list
    num_cells = np.array([len(c) for c in cell_lists], np.int64)
    return TaskArrays(RULE_IDS[family], task.sparse, params, cells, num_cells, mask)


# --------------------------------------------------------------------------------------------- world helpers


@inline
def is_clear(walls, row, col):
    return 0 <= row < walls.shape[0] and 0 <= col < walls.shape[1] and walls[row, col] == 0


@inline
def perceive(walls, markers, row, col, direction, perception):
    """Perception `perception` (karel.dsl.Perception id) of the agent at (row, col, direction)."""
    if perception <= 2:  # front, left, right
        turn = 0 if perception == 0 else (3 if perception == 1 else 1)
        d = (direction + turn) % 4
        return is_clear(walls, row + STEP_ROW[d], col + STEP_COL[d])
    present = markers[row, col] > 0
    return present if perception == 3 else not present


@inline
def add_marker(markers, counts, row, col):
    """Put a marker if the cell is not full (the rules' edits); `counts` = [total markers, marked cells]."""
    if markers[row, col] < MAX_MARKERS:
        if markers[row, col] == 0:
            counts[1] += 1
        markers[row, col] += 1
        counts[0] += 1


@inline
def take_marker(markers, counts, row, col):
    """Take a marker if the cell holds one."""
    if markers[row, col] > 0:
        markers[row, col] -= 1
        counts[0] -= 1
        if markers[row, col] == 0:
            counts[1] -= 1


# ------------------------------------------------------------------------------------------- compiled rules
# Each rules function mirrors the family's reference `Rules.__call__` and returns (terminated, reward).
# `state` holds the per-episode rule state; `counts` the running [total markers, marked cells].


@jit
def rules_reset(rule, params, state, counts):
    state[:] = 0
    if rule == 1 or rule == 2:  # StairClimber, Maze: previous distance
        state[0] = params[2]
    elif rule == 5 or rule == 9:  # Harvester, PathFollow: previous marker count
        state[0] = params[0]
    elif rule == 6:  # DoorKey: locked
        state[0] = 1
    elif rule == 7:  # OneStroke: previous cell, visited
        state[0], state[1] = params[0], params[1]
    elif rule == 11:  # Snake: length, body length, food cell, food pointer, body cells from state[8]
        state[0], state[1] = 2, 1
        state[2], state[3] = params[2], params[3]
        state[4] = 0
        state[8], state[9] = params[0], params[1]


@inline
def distance_rules(params, mask, state, row, col, sparse, stairs):
    """StairClimber (`stairs`) and Maze."""
    at_marker = row == params[0] and col == params[1]
    valid = (not stairs) or mask[row, col] != 0
    if sparse:
        if at_marker:
            return True, 1.0
        return (True, CRASH_PENALTY) if not valid else (False, 0.0)
    distance = abs(row - params[0]) + abs(col - params[1])
    reward = (state[0] - distance) / params[2]
    state[0] = distance
    if not valid:
        return True, CRASH_PENALTY
    return at_marker, reward


@inline
def top_off_rules(cells, num_cells, markers, counts, state, sparse):
    correct = 0
    for i in range(num_cells):
        count = markers[cells[i, 0], cells[i, 1]]
        if count == 2:
            correct += 1
        elif count == 0:
            return True, CRASH_PENALTY
    overfull = counts[0] > correct + num_cells
    if sparse:
        if correct == num_cells:
            return True, 1.0
        return (True, CRASH_PENALTY) if overfull else (False, 0.0)
    reward = (correct - state[0]) / num_cells
    state[0] = correct
    if overfull:
        return True, CRASH_PENALTY
    return correct == num_cells, reward


@inline
def four_corners_rules(cells, num_cells, markers, counts, state, sparse):
    correct = 0
    for i in range(num_cells):
        if markers[cells[i, 0], cells[i, 1]] > 0:
            correct += 1
    misplaced = counts[0] > correct
    done = correct == num_cells
    if sparse:
        if misplaced:
            return True, CRASH_PENALTY
        return (True, 1.0) if done else (False, 0.0)
    reward = (correct - state[0]) / num_cells
    state[0] = correct
    if misplaced:
        return True, CRASH_PENALTY
    return done, reward


@inline
def harvester_rules(params, counts, state, sparse):
    """Harvester and CleanHouse: remove every marker. Sparse never updates the previous count (reference)."""
    count = counts[0]
    if sparse:
        if count > state[0]:
            return True, CRASH_PENALTY
        return (True, 1.0) if count == 0 else (False, 0.0)
    reward = (state[0] - count) / params[0]
    increased = count > state[0]
    state[0] = count
    if increased:
        return True, CRASH_PENALTY
    return count == 0, reward


@inline
def door_key_rules(params, cells, num_cells, walls, markers, counts, state):
    count = counts[0]
    if state[0] == 1:  # locked
        if count > 2:
            return True, CRASH_PENALTY
        if markers[params[0], params[1]] == 0:
            state[0] = 0
            for i in range(num_cells):
                walls[cells[i, 0], cells[i, 1]] = 0
            return False, 0.5
        return False, 0.0
    if count > 1:
        return True, (0.5 if markers[params[2], params[3]] == 2 else CRASH_PENALTY)
    if count == 0:
        return True, CRASH_PENALTY
    return False, 0.0


@inline
def one_stroke_rules(params, walls, state, row, col):
    reward = 0.0
    if row != state[0] or col != state[1]:
        state[2] += 1
        reward = 1.0 / params[2]
        walls[state[0], state[1]] = 1
        state[0], state[1] = row, col
    return state[2] == params[2], reward


@inline
def seeder_rules(params, counts, state, forbidden_cells, num_forbidden, markers):
    """Seeder (`num_forbidden` 0) and WallAvoider: fill cells with one marker each."""
    count = counts[0]
    reward = (count - state[0]) / params[0]
    decreased = count < state[0]
    state[0] = count
    on_forbidden = False
    for i in range(num_forbidden):
        if markers[forbidden_cells[i, 0], forbidden_cells[i, 1]] > 0:
            on_forbidden = True
    doubled = counts[1] < count
    if on_forbidden or doubled or decreased:
        return True, CRASH_PENALTY
    return count == params[0], reward


@inline
def path_follow_rules(params, mask, counts, state, row, col):
    count = counts[0]
    reward = (state[0] - count) / params[0]
    increased = count > state[0]
    state[0] = count
    if increased or mask[row, col] == 0:
        return True, CRASH_PENALTY
    return count == 0, reward


@inline
def snake_rules(cells, num_cells, walls, markers, counts, state, row, col):
    """Snake; returns (terminated, reward, fallback). state: [length, body length, food row, food col, food
    pointer, -, -, -, body cells (row, col) oldest first from index 8]."""
    terminated, reward = False, 0.0
    if row == state[2] and col == state[3]:
        take_marker(markers, counts, row, col)
        state[0] += 1
        reward = 1.0 / 20
        if state[0] == 22:
            terminated = True
        else:  # place the next food on the first valid precomputed draw
            while True:
                if state[4] >= num_cells:
                    return terminated, reward, True
                fr, fc = cells[state[4], 0], cells[state[4], 1]
                state[4] += 1
                valid = walls[fr, fc] == 0 and not (fr == row and fc == col)
                for i in range(state[1]):
                    if state[8 + 2 * i] == fr and state[9 + 2 * i] == fc:
                        valid = False
                if valid:
                    add_marker(markers, counts, fr, fc)
                    state[2], state[3] = fr, fc
                    break
    body_len = state[1]
    for i in range(body_len - 1):
        if state[8 + 2 * i] == row and state[9 + 2 * i] == col:
            return True, CRASH_PENALTY, False
    head_r, head_c = state[8 + 2 * (body_len - 1)], state[9 + 2 * (body_len - 1)]
    if row != head_r or col != head_c:
        add_marker(markers, counts, head_r, head_c)
        state[8 + 2 * body_len], state[9 + 2 * body_len] = row, col
        body_len += 1
        if body_len > state[0]:
            take_marker(markers, counts, state[8], state[9])
            for i in range(body_len - 1):
                state[8 + 2 * i], state[9 + 2 * i] = state[10 + 2 * i], state[11 + 2 * i]
            body_len -= 1
        state[1] = body_len
    return terminated, reward, False


@inline
def rules_step(rule, sparse, params, cells, num_cells, mask, walls, markers, counts, state, row, col):
    """Apply task rule `rule` after an action; return (terminated, reward, fallback)."""
    if rule == 1 or rule == 2:
        t, r = distance_rules(params, mask, state, row, col, sparse, rule == 1)
    elif rule == 3:
        t, r = top_off_rules(cells, num_cells, markers, counts, state, sparse)
    elif rule == 4:
        t, r = four_corners_rules(cells, num_cells, markers, counts, state, sparse)
    elif rule == 5:
        t, r = harvester_rules(params, counts, state, sparse)
    elif rule == 6:
        t, r = door_key_rules(params, cells, num_cells, walls, markers, counts, state)
    elif rule == 7:
        t, r = one_stroke_rules(params, walls, state, row, col)
    elif rule == 8:
        t, r = seeder_rules(params, counts, state, cells, 0, markers)
    elif rule == 9:
        t, r = path_follow_rules(params, mask, counts, state, row, col)
    elif rule == 10:
        t, r = seeder_rules(params, counts, state, cells, num_cells, markers)
    elif rule == 11:
        return snake_rules(cells, num_cells, walls, markers, counts, state, row, col)
    else:
        t, r = False, 0.0
    return t, r, False


# -------------------------------------------------------------------------------------------- loop detector


@jit
def write_digits(buffer, at, value):
    """Decimal digits of `value` >= 0 into buffer[at:]; return the new end."""
    if value < 10:
        buffer[at] = value
        return at + 1
    digits = 0
    v = value
    while v > 0:
        digits += 1
        v //= 10
    v = value
    for k in range(digits - 1, -1, -1):
        buffer[at + k] = v % 10
        v //= 10
    return at + digits


@jit
def loop_key(markers, row, col, direction, buffer):
    """The reference key (`World.loop_key`) as digits in `buffer`; return its length."""
    end = write_digits(buffer, 0, row)
    end = write_digits(buffer, end, col)
    end = write_digits(buffer, end, direction)
    h, w = markers.shape
    for r in range(h):
        for c in range(w):
            m = markers[r, c]
            if m < 10:
                buffer[end] = m
                end += 1
            else:
                buffer[end], buffer[end + 1] = 1, 0
                end += 2
    return end


@jit
def seen_before(table, entry_node, entry_start, entry_slot, store, num_entries, node, key, length):
    """Look (node, key[:length]) up in the open-addressing `table`; add it as entry `num_entries` if new.
    Return whether it was there. Entry i is WHILE node `entry_node[i]` with the digits
    store[entry_start[i]:entry_start[i + 1]], held in table slot `entry_slot[i]`."""
    h = np.uint64(14695981039346656037) ^ np.uint64(node)
    for i in range(length):
        h = (h ^ np.uint64(key[i])) * np.uint64(1099511628211)
    mask = table.shape[0] - 1
    slot = np.int64(h & np.uint64(mask))
    while table[slot] >= 0:
        e = table[slot]
        start = entry_start[e]
        if entry_node[e] == node and entry_start[e + 1] - start == length:
            same = True
            for i in range(length):
                if store[start + i] != key[i]:
                    same = False
                    break
            if same:
                return True
        slot = (slot + 1) & mask
    table[slot] = num_entries
    entry_slot[num_entries] = slot
    entry_node[num_entries] = node
    start = entry_start[num_entries]
    store[start : start + length] = key[:length]
    entry_start[num_entries + 1] = start + length
    return False


# ------------------------------------------------------------------------------------------------ episodes


@jit
def run_block(
    first, last, code, world_of_episode, program_of_episode, init_walls, init_markers, init_pose,
    rule, sparse, params, cells, num_cells, mask, crashable, max_calls,
    returns, termination, calls_out, actions_out, fallback, actions, state_walls, state_markers, state_pose,
    branches, table, entry_node, entry_start, entry_slot, store,
):  # fmt: skip
    """Run episodes first..last-1 to their end, writing their outputs. The last five arguments are this
    thread's loop-detector storage (see `loop_storage`); `table` must hold -1 everywhere, and is left so."""
    h, w = init_walls.shape[1], init_walls.shape[2]
    walls = np.empty((h, w), np.uint8)
    markers = np.empty((h, w), np.uint8)
    counters = np.zeros(code.shape[1], np.int64)
    state = np.zeros(STATE_SIZE, np.int64)
    counts = np.zeros(2, np.int64)
    key = np.empty(key_length_jit(h, w), np.uint8)
    record = actions.shape[1]
    record_states = state_markers.shape[1] > 0
    record_branches = branches.shape[1] > 0
    for n in range(first, last):
        p, e = program_of_episode[n], world_of_episode[n]
        task_params, task_cells, task_num_cells, task_mask = params[e], cells[e], num_cells[e], mask[e]
        walls[:, :] = init_walls[e]
        markers[:, :] = init_markers[e]
        row, col, direction = init_pose[e, 0], init_pose[e, 1], init_pose[e, 2]
        counts[0], counts[1] = 0, 0
        for r in range(h):
            for c in range(w):
                counts[0] += markers[r, c]
                counts[1] += markers[r, c] > 0
        if rule != RULE_NONE:
            rules_reset(rule, task_params, state, counts)
        if record_states:  # every step holds the initial world until an action overwrites it
            for t in range(state_markers.shape[1]):
                state_walls[n, t] = walls
                state_markers[n, t] = markers
                state_pose[n, t, 0], state_pose[n, t, 1], state_pose[n, t, 2] = row, col, direction
        num_entries = 0
        pc, calls, num_actions, ret, end, failed = 0, 0, 0, 0.0, -1, False
        while end < 0:
            op, arg = code[p, pc, 0], code[p, pc, 1]
            if op == OP_ACT:
                calls += 1
                over = calls > max_calls
                legal = True
                if over and arg == MOVE:  # the call past the budget turns a move into a turn-around
                    direction = (direction + 2) % 4
                elif arg == MOVE:
                    nr, nc = row + STEP_ROW[direction], col + STEP_COL[direction]
                    if is_clear(walls, nr, nc):
                        row, col = nr, nc
                    else:
                        legal = False
                        if not crashable:
                            direction = (direction + 2) % 4
                elif arg == TURN_LEFT:
                    direction = (direction + 3) % 4
                elif arg == TURN_RIGHT:
                    direction = (direction + 1) % 4
                elif arg == PICK:
                    if markers[row, col] == 0:
                        legal = False
                    else:
                        take_marker(markers, counts, row, col)
                elif markers[row, col] == MAX_MARKERS:  # PUT
                    legal = False
                else:
                    add_marker(markers, counts, row, col)
                terminated = False
                if rule != RULE_NONE:
                    terminated, reward, bad = rules_step(rule, sparse, task_params, task_cells, task_num_cells,
                                                         task_mask, walls, markers, counts, state, row, col)  # fmt: skip
                    ret += reward
                    if bad:
                        failed, end = True, END_PROGRAM
                if num_actions < record:
                    actions[n, num_actions] = arg
                    if record_states:
                        state_walls[n, num_actions + 1] = walls
                        state_markers[n, num_actions + 1] = markers
                        pose = state_pose[n, num_actions + 1]
                        pose[0], pose[1], pose[2] = row, col, direction
                num_actions += 1
                if not legal and crashable:
                    end = END_CRASH
                elif over:
                    end = END_BUDGET
                elif terminated:
                    end = END_TASK
                elif end < 0:
                    pc = code[p, pc, 3]
            elif op == OP_TEST or op == OP_WHILE:
                calls += 1
                value = perceive(walls, markers, row, col, direction, arg) != (code[p, pc, 2] != 0)
                if record_branches:
                    branches[n, pc] |= 1 if value else 2
                if calls > max_calls:
                    end = END_BUDGET
                elif value:
                    if op == OP_WHILE:
                        length = loop_key(markers, row, col, direction, key)
                        if seen_before(table, entry_node, entry_start, entry_slot, store, num_entries,
                                       code[p, pc, 5], key, length):  # fmt: skip
                            end = END_LOOP
                        else:
                            num_entries += 1
                    pc = code[p, pc, 3]
                else:
                    pc = code[p, pc, 4]
            elif op == OP_REPEAT_SET:
                counters[code[p, pc, 5]] = arg
                pc = code[p, pc, 3]
            elif op == OP_REPEAT_TEST:
                slot = code[p, pc, 5]
                if counters[slot] > 0:
                    counters[slot] -= 1
                    pc = code[p, pc, 3]
                else:
                    pc = code[p, pc, 4]
            else:
                end = END_PROGRAM
        for i in range(num_entries):  # clear the table slots this episode used
            table[entry_slot[i]] = -1
        returns[n], termination[n], calls_out[n], actions_out[n] = ret, end, calls, num_actions
        fallback[n] = failed


@numba.njit(cache=True, parallel=True)
def run_blocks(
    block, code, world_of_episode, program_of_episode, init_walls, init_markers, init_pose,
    rule, sparse, params, cells, num_cells, mask, crashable, max_calls,
    returns, termination, calls_out, actions_out, fallback, actions, state_walls, state_markers, state_pose,
    branches, table, entry_node, entry_start, entry_slot, store,
):  # fmt: skip
    """Run all episodes in blocks of `block`, one block at a time per thread; the loop-detector storage
    has one row per thread."""
    total = len(program_of_episode)
    num_blocks = (total + block - 1) // block
    for b in numba.prange(num_blocks):
        t = numba.get_thread_id()
        run_block(b * block, min(total, (b + 1) * block), code, world_of_episode, program_of_episode,
                  init_walls, init_markers, init_pose, rule, sparse, params, cells, num_cells, mask, crashable,
                  max_calls, returns, termination, calls_out, actions_out, fallback, actions, state_walls,
                  state_markers, state_pose, branches, table[t], entry_node[t], entry_start[t], entry_slot[t],
                  store[t])  # fmt: skip


def key_length(height: int, width: int) -> int:
    """Most digits in a loop key: row, column and direction, then up to two digits per cell."""
    return 3 * 20 + 2 * height * width


key_length_jit = jit(key_length)


def loop_storage(threads: int, max_calls: int, height: int, width: int) -> tuple[np.ndarray, ...]:
    """Loop-detector storage for `threads` threads: room for `max_calls` keys each (a key is stored after a
    call), in a hash table at most half full."""
    capacity = 16
    while capacity < 2 * (max_calls + 1):
        capacity *= 2
    entries = max_calls + 1
    return (
        np.full((threads, capacity), -1, np.int64),  # table: slot -> entry
        np.empty((threads, entries), np.int64),  # entry_node
        np.zeros((threads, entries + 1), np.int64),  # entry_start
        np.empty((threads, entries), np.int64),  # entry_slot
        np.empty((threads, entries * key_length(height, width)), np.uint8),  # store
    )


@dataclass(frozen=True)
class Outputs:
    """What `run_episodes` returns; N episodes, T recorded actions."""

    returns: np.ndarray  # [N] float64
    termination: np.ndarray  # [N] int64
    calls: np.ndarray  # [N] int64
    num_actions: np.ndarray  # [N] int64
    fallback: np.ndarray  # [N] bool: the compiled rules could not finish the episode exactly
    actions: np.ndarray  # [N, T] int64, NOOP (5) after the end
    state_walls: np.ndarray  # [N, T+1, H, W] uint8 (T+1 = 0 without state recording)
    state_markers: np.ndarray  # [N, T+1, H, W] uint8
    state_pose: np.ndarray  # [N, T+1, 3] int64 row, col, direction
    branches: np.ndarray  # [N, L] uint8 per instruction: bit 0 a test was true, bit 1 false ([N, 0] if off)


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
        num_actions=np.zeros(n, np.int64), fallback=np.zeros(n, np.bool_),
        actions=np.full((n, record_actions), 5, np.int64),
        state_walls=np.zeros((n, steps, h, w), np.uint8), state_markers=np.zeros((n, steps, h, w), np.uint8),
        state_pose=np.zeros((n, steps, 3), np.int64),
        branches=np.zeros((n, code.shape[1] if record_branches else 0), np.uint8),
    )  # fmt: skip
    if n == 0:
        return out
    run_blocks(
        block, np.ascontiguousarray(code, np.int64), np.ascontiguousarray(world_of_episode, np.int64),
        np.ascontiguousarray(program_of_episode, np.int64), np.ascontiguousarray(walls, np.uint8),
        np.ascontiguousarray(markers, np.uint8), np.ascontiguousarray(pose, np.int64),
        task.rule, task.sparse, task.params, task.cells, task.num_cells, task.mask, crashable, max_calls,
        out.returns, out.termination, out.calls, out.num_actions, out.fallback, out.actions, out.state_walls,
        out.state_markers, out.state_pose, out.branches, *loop_storage(numba.get_num_threads(), max_calls, h, w),
    )  # fmt: skip
    return out
