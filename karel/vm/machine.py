"""The VM's episode loop and loop detector, written once for every target (`karel.vm.build`).

`run_episode` runs episode n (program p on world e) to its end with the reference interpreter's semantics
(`karel.interpreter`): the call budget and the budget-call turn-around, both crash modes, the termination
precedence CRASH, BUDGET, TASK_END, the task rules after every action, and the WHILE loop detector.

The loop detector is exact. Each WHILE iteration stores an entry (node, a 64-bit hash of the reference key,
pose, position in the marker-change log) in an open-addressing table; the hash is O(1) (`grid.key_hash`).
On a hash match the earlier marker grid is rebuilt by undoing the logged changes since the entry, and the
two digit strings are compared in full, so a hash collision never ends an episode. An episode whose table
is full, or that needs a comparison after its log filled up, sets `fallback` and is re-run by the
reference. The CPU driver sizes both for `max_calls` (never full); the CUDA kernel bounds them.
"""

from __future__ import annotations

from karel.vm.grid import change_marker, is_clear, key_hash, perceive, reset_acc, step_col, step_row, write_key
from karel.vm.ops import (
    ACC_LOG,
    ACC_LOG_LOST,
    E_HASH,
    E_LOG,
    E_NODE,
    E_POSE,
    E_SLOT,
    END_BUDGET,
    END_CRASH,
    END_LOOP,
    END_PROGRAM,
    END_TASK,
    F_ALT,
    F_ARG,
    F_NEGATE,
    F_NEXT,
    F_OP,
    F_SLOT,
    MAX_MARKERS,
    MOVE,
    OP_ACT,
    OP_REPEAT_SET,
    OP_REPEAT_TEST,
    OP_TEST,
    OP_WHILE,
    PICK,
    RULE_DOOR_KEY,
    RULE_NONE,
    TURN_LEFT,
    TURN_RIGHT,
)
from karel.vm.rules import rules_reset, rules_step

COMPILED = ("same_key", "loop_check", "init_worlds", "run_episode")
ENTRIES = ("init_worlds", "run_episode")  # called from the drivers, never inlined

# loop_check results
NEW, SEEN, FULL = 0, 1, 2


def same_key(entry, markers, log, log_end, old_markers, keys, row, col, direction):
    """Whether the loop key of `entry`'s state equals the current one (rebuilds the entry's grid in
    `old_markers` by undoing the log back to the entry)."""
    h, w = markers.shape[0], markers.shape[1]
    for r in range(h):
        for c in range(w):
            old_markers[r, c] = markers[r, c]
    for i in range(log_end - 1, entry[E_LOG] - 1, -1):
        cell = log[i] // 2
        if log[i] % 2 == 1:
            old_markers[cell // w, cell % w] -= 1
        else:
            old_markers[cell // w, cell % w] += 1
    pose = entry[E_POSE]
    old_length = write_key(keys[0], old_markers, pose // 4 // 65536, pose // 4 % 65536, pose % 4)
    length = write_key(keys[1], markers, row, col, direction)
    if old_length != length:
        return False
    for i in range(length):
        if keys[0, i] != keys[1, i]:
            return False
    return True


def loop_check(table, entries, num_entries, node, markers, acc, log, zobrist, old_markers, keys, row, col,
               direction):  # fmt: skip
    """Look the current (node, key) up; add it as entry `num_entries` if new. Returns NEW, SEEN or FULL
    (the table is full, or an exact comparison needs log entries that were not kept)."""
    h = key_hash(markers, acc, zobrist, row, col, direction)
    mask = table.shape[0] - 1
    slot = (h ^ node) & mask
    while table[slot] >= 0:
        entry = entries[table[slot]]
        if entry[E_HASH] == h and entry[E_NODE] == node:
            if acc[ACC_LOG_LOST] != 0:
                return FULL
            if same_key(entry, markers, log, acc[ACC_LOG], old_markers, keys, row, col, direction):
                return SEEN
        slot = (slot + 1) & mask
    if num_entries >= entries.shape[0]:
        return FULL
    table[slot] = num_entries
    entry = entries[num_entries]
    entry[E_NODE] = node
    entry[E_HASH] = h
    entry[E_POSE] = (row * 65536 + col) * 4 + direction
    entry[E_LOG] = acc[ACC_LOG]
    entry[E_SLOT] = slot
    return NEW


def init_worlds(first, last, init_markers, init_acc, zobrist):
    """The accumulators of worlds first..last-1 (`init_acc` [E, ACC_SIZE])."""
    for e in range(first, last):
        reset_acc(init_markers[e], init_acc[e], zobrist)


def run_episode(
    n, p, e, rule, code, init_walls, init_markers, init_pose, init_acc, sparse, params, cells, num_cells, mask,
    crashable, max_calls, zobrist, walls, markers, counters, state, acc, table, entries, log, old_markers,
    keys, returns, termination, calls_out, actions_out, fallback, actions, state_walls, state_markers,
    state_pose, branches,
):  # fmt: skip
    """Run episode n (program p, world e) under task rule `rule` (`ops.RULE_*`) to its end and write its
    outputs at n.

    `init_acc` [E, ACC_SIZE] holds each world's accumulators (`grid.reset_acc`), `zobrist` the hash table.
    Scratch (this episode's or this thread's): walls, markers [H, W] uint8; counters [L] int64 (REPEAT);
    state [STATE_SIZE] int64 (rules); acc [ACC_SIZE] int64; table [slots] int64 all -1 on entry, and left so;
    entries [C, ENTRY_FIELDS] int64; log [G] int64; old_markers [H, W] uint8; keys [2, KEY] uint8.
    """
    h, w = walls.shape[0], walls.shape[1]
    for r in range(h):
        for c in range(w):
            walls[r, c] = init_walls[e, r, c]
            markers[r, c] = init_markers[e, r, c]
    row, col, direction = init_pose[e, 0], init_pose[e, 1], init_pose[e, 2]
    for i in range(acc.shape[0]):
        acc[i] = init_acc[e, i]
    if rule != RULE_NONE:
        rules_reset(rule, params, state)
    record = actions.shape[1]
    record_states = state_markers.shape[1] > 0
    record_branches = branches.shape[1] > 0
    if record_states:  # every step holds the initial world until an action overwrites it
        for t in range(state_markers.shape[1]):
            for r in range(h):
                for c in range(w):
                    state_walls[n, t, r, c] = walls[r, c]
                    state_markers[n, t, r, c] = markers[r, c]
            state_pose[n, t, 0] = row
            state_pose[n, t, 1] = col
            state_pose[n, t, 2] = direction
    num_entries = 0
    pc = 0
    calls = 0
    num_actions = 0
    ret = 0.0
    end = -1
    failed = False
    while end < 0:
        op = code[p, pc, F_OP]
        arg = code[p, pc, F_ARG]
        if op == OP_ACT:
            calls += 1
            over = calls > max_calls
            legal = True
            changed = False  # the agent's cell or a marker count changed: the only facts the rules read
            if over and arg == MOVE:  # the call past the budget turns a move into a turn-around
                direction = (direction + 2) % 4
            elif arg == MOVE:
                nr, nc = row + step_row(direction), col + step_col(direction)
                if is_clear(walls, nr, nc):
                    row, col = nr, nc
                    changed = True
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
                    change_marker(markers, acc, log, zobrist, row, col, -1)
                    changed = True
            elif markers[row, col] == MAX_MARKERS:  # PUT
                legal = False
            else:
                change_marker(markers, acc, log, zobrist, row, col, 1)
                changed = True
            terminated = False
            # Rules read the agent's cell, the markers and walls and their own state, never the direction, and
            # applied twice to one world the second time give (not terminated, 0): so after a turn, a blocked
            # move or an illegal pick or put they are skipped, except DoorKey's (its unlocking step is not
            # idempotent) and the episode's first action.
            if rule != RULE_NONE and (changed or num_actions == 0 or rule == RULE_DOOR_KEY):
                terminated, reward, bad = rules_step(rule, sparse, params, cells, num_cells, mask, walls, markers, acc,
                                                     log, zobrist, state, row, col)  # fmt: skip
                ret += reward
                if bad:
                    failed = True
                    end = END_PROGRAM
            if num_actions < record:
                actions[n, num_actions] = arg
                if record_states:
                    for r in range(h):
                        for c in range(w):
                            state_walls[n, num_actions + 1, r, c] = walls[r, c]
                            state_markers[n, num_actions + 1, r, c] = markers[r, c]
                    state_pose[n, num_actions + 1, 0] = row
                    state_pose[n, num_actions + 1, 1] = col
                    state_pose[n, num_actions + 1, 2] = direction
            num_actions += 1
            if not legal and crashable:
                end = END_CRASH
            elif over:
                end = END_BUDGET
            elif terminated:
                end = END_TASK
            elif end < 0:
                pc = code[p, pc, F_NEXT]
        elif op == OP_TEST or op == OP_WHILE:
            calls += 1
            value = perceive(walls, markers, row, col, direction, arg) != (code[p, pc, F_NEGATE] != 0)
            if record_branches:
                branches[n, pc] |= 1 if value else 2
            if calls > max_calls:
                end = END_BUDGET
            elif value:
                if op == OP_WHILE:
                    found = loop_check(table, entries, num_entries, code[p, pc, F_SLOT], markers, acc, log, zobrist,
                                       old_markers, keys, row, col, direction)  # fmt: skip
                    if found == NEW:
                        num_entries += 1
                    elif found == SEEN:
                        end = END_LOOP
                    else:
                        failed = True
                        end = END_PROGRAM
                pc = code[p, pc, F_NEXT]
            else:
                pc = code[p, pc, F_ALT]
        elif op == OP_REPEAT_SET:
            counters[code[p, pc, F_SLOT]] = arg
            pc = code[p, pc, F_NEXT]
        elif op == OP_REPEAT_TEST:
            slot = code[p, pc, F_SLOT]
            if counters[slot] > 0:
                counters[slot] -= 1
                pc = code[p, pc, F_NEXT]
            else:
                pc = code[p, pc, F_ALT]
        else:
            end = END_PROGRAM
    for i in range(num_entries):  # clear the table slots this episode used
        table[entries[i, E_SLOT]] = -1
    returns[n] = ret
    termination[n] = end
    calls_out[n] = calls
    actions_out[n] = num_actions
    fallback[n] = 1 if failed else 0
