"""The task rules of the compiled VM: each family's reference `Rules.__call__` (karel/tasks/*.py, the
executable specification) as a plain function over arrays and scalars, compiled for every target by
`karel.vm.build`. `rules_reset` starts an episode's rule state, `rules_step` applies the rule after an
action and returns (terminated, reward, fallback). The rule is a run-time argument (`ops.RULE_*`): one
compiled VM serves every task.

Instance facts come packed by `karel.vm.pack`: `params` [NUM_PARAMS] integers, `cells` [C, 2] listed cells
(TopOff targets, corners, doors, forbidden cells, Snake's food draws), `mask` [H, W] marked cells (valid
stair cells, PathFollow's legal cells). `state` [STATE_SIZE] holds the per-episode rule state; marker totals
come from the accumulators `acc`, kept by every marker change, so no rule scans the grid (TopOff, FourCorners and WallAvoider look at their few listed cells).
"""

from __future__ import annotations

from karel.vm.grid import change_marker
from karel.vm.ops import (
    ACC_MARKED,
    ACC_MARKERS,
    CRASH_PENALTY,
    MAX_MARKERS,
    RULE_DOOR_KEY,
    RULE_FOUR_CORNERS,
    RULE_HARVESTER,
    RULE_MAZE,
    RULE_ONE_STROKE,
    RULE_PATH_FOLLOW,
    RULE_SEEDER,
    RULE_SNAKE,
    RULE_STAIR_CLIMBER,
    RULE_TOP_OFF,
    RULE_WALL_AVOIDER,
    SNAKE_BODY,
)

COMPILED = ("rules_reset", "distance_rules", "top_off_rules", "four_corners_rules", "harvester_rules",
            "door_key_rules", "one_stroke_rules", "seeder_rules", "path_follow_rules", "snake_rules",
            "rules_step")  # fmt: skip


def rules_reset(rule, params, state):
    for i in range(state.shape[0]):
        state[i] = 0
    if rule == RULE_STAIR_CLIMBER or rule == RULE_MAZE:  # previous distance
        state[0] = params[2]
    elif rule == RULE_HARVESTER or rule == RULE_PATH_FOLLOW:  # previous marker count
        state[0] = params[0]
    elif rule == RULE_DOOR_KEY:  # locked
        state[0] = 1
    elif rule == RULE_ONE_STROKE:  # previous cell, visited cells
        state[0] = params[0]
        state[1] = params[1]
    elif rule == RULE_SNAKE:  # length, body length, food cell, food pointer, body cells from SNAKE_BODY
        state[0] = 2
        state[1] = 1
        state[2] = params[2]
        state[3] = params[3]
        state[SNAKE_BODY] = params[0]
        state[SNAKE_BODY + 1] = params[1]


def distance_rules(params, mask, state, row, col, sparse, stairs):
    """StairClimber (`stairs`) and Maze: reach the marker cell (params[0:2]); dense rewards the distance
    gained over the initial distance params[2]."""
    at_marker = row == params[0] and col == params[1]
    valid = (not stairs) or mask[row, col] != 0
    if sparse:
        if at_marker:
            return True, 1.0
        if not valid:
            return True, CRASH_PENALTY
        return False, 0.0
    distance = abs(row - params[0]) + abs(col - params[1])
    reward = (state[0] - distance) / params[2]
    state[0] = distance
    if not valid:
        return True, CRASH_PENALTY
    return at_marker, reward


def top_off_rules(cells, num_cells, markers, acc, state, sparse):
    """Put a second marker on each of the `num_cells` targets (state[0]: previous correct count)."""
    correct = 0
    for i in range(num_cells):
        count = markers[cells[i, 0], cells[i, 1]]
        if count == 2:
            correct += 1
        elif count == 0:
            return True, CRASH_PENALTY
    overfull = acc[ACC_MARKERS] > correct + num_cells
    if sparse:
        if correct == num_cells:
            return True, 1.0
        if overfull:
            return True, CRASH_PENALTY
        return False, 0.0
    reward = (correct - state[0]) / num_cells
    state[0] = correct
    if overfull:
        return True, CRASH_PENALTY
    return correct == num_cells, reward


def four_corners_rules(cells, num_cells, markers, acc, state, sparse):
    correct = 0
    for i in range(num_cells):
        if markers[cells[i, 0], cells[i, 1]] > 0:
            correct += 1
    misplaced = acc[ACC_MARKERS] > correct
    done = correct == num_cells
    if sparse:
        if misplaced:
            return True, CRASH_PENALTY
        if done:
            return True, 1.0
        return False, 0.0
    reward = (correct - state[0]) / num_cells
    state[0] = correct
    if misplaced:
        return True, CRASH_PENALTY
    return done, reward


def harvester_rules(params, acc, state, sparse):
    """Harvester and CleanHouse: remove every marker. Sparse never updates the previous count (reference)."""
    count = acc[ACC_MARKERS]
    if sparse:
        if count > state[0]:
            return True, CRASH_PENALTY
        if count == 0:
            return True, 1.0
        return False, 0.0
    reward = (state[0] - count) / params[0]
    increased = count > state[0]
    state[0] = count
    if increased:
        return True, CRASH_PENALTY
    return count == 0, reward


def door_key_rules(params, cells, num_cells, walls, markers, acc, state):
    """Pick the key (params[0:2]) to open the doors (`cells`), then put it on the goal (params[2:4])."""
    count = acc[ACC_MARKERS]
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


def one_stroke_rules(params, walls, state, row, col):
    """Visit params[2] cells; each cell left becomes a wall."""
    reward = 0.0
    if row != state[0] or col != state[1]:
        state[2] += 1
        reward = 1.0 / params[2]
        walls[state[0], state[1]] = 1
        state[0] = row
        state[1] = col
    return state[2] == params[2], reward


def seeder_rules(params, acc, state, cells, num_forbidden, markers):
    """Seeder (`num_forbidden` 0) and WallAvoider: one marker on each of params[0] cells, none on the
    forbidden `cells`."""
    count = acc[ACC_MARKERS]
    reward = (count - state[0]) / params[0]
    decreased = count < state[0]
    state[0] = count
    on_forbidden = False
    for i in range(num_forbidden):
        if markers[cells[i, 0], cells[i, 1]] > 0:
            on_forbidden = True
    doubled = acc[ACC_MARKED] < count
    if on_forbidden or doubled or decreased:
        return True, CRASH_PENALTY
    return count == params[0], reward


def path_follow_rules(params, mask, acc, state, row, col):
    count = acc[ACC_MARKERS]
    reward = (state[0] - count) / params[0]
    increased = count > state[0]
    state[0] = count
    if increased or mask[row, col] == 0:
        return True, CRASH_PENALTY
    return count == 0, reward


def snake_rules(cells, num_cells, walls, markers, acc, log, zobrist, state, row, col):
    """Snake; returns (terminated, reward, fallback). state: [length, body length, food row, food col, food
    pointer, -, -, -, body cells (row, col) oldest first from SNAKE_BODY]. Food goes on the next valid one of
    the `num_cells` precomputed draws; an episode needing more falls back to the reference."""
    terminated = False
    reward = 0.0
    if row == state[2] and col == state[3]:
        if markers[row, col] > 0:
            change_marker(markers, acc, log, zobrist, row, col, -1)
        state[0] += 1
        reward = 1.0 / 20
        if state[0] == 22:
            terminated = True
        else:
            placed = False
            while not placed:
                if state[4] >= num_cells:
                    return terminated, reward, True
                fr = cells[state[4], 0]
                fc = cells[state[4], 1]
                state[4] += 1
                valid = walls[fr, fc] == 0 and not (fr == row and fc == col)
                for i in range(state[1]):
                    if state[SNAKE_BODY + 2 * i] == fr and state[SNAKE_BODY + 1 + 2 * i] == fc:
                        valid = False
                if valid:
                    if markers[fr, fc] < MAX_MARKERS:
                        change_marker(markers, acc, log, zobrist, fr, fc, 1)
                    state[2] = fr
                    state[3] = fc
                    placed = True
    body_len = state[1]
    for i in range(body_len - 1):
        if state[SNAKE_BODY + 2 * i] == row and state[SNAKE_BODY + 1 + 2 * i] == col:
            return True, CRASH_PENALTY, False
    head_r = state[SNAKE_BODY + 2 * (body_len - 1)]
    head_c = state[SNAKE_BODY + 1 + 2 * (body_len - 1)]
    if row != head_r or col != head_c:
        if markers[head_r, head_c] < MAX_MARKERS:
            change_marker(markers, acc, log, zobrist, head_r, head_c, 1)
        state[SNAKE_BODY + 2 * body_len] = row
        state[SNAKE_BODY + 1 + 2 * body_len] = col
        body_len += 1
        if body_len > state[0]:
            if markers[state[SNAKE_BODY], state[SNAKE_BODY + 1]] > 0:
                change_marker(markers, acc, log, zobrist, state[SNAKE_BODY], state[SNAKE_BODY + 1], -1)
            for i in range(body_len - 1):
                state[SNAKE_BODY + 2 * i] = state[SNAKE_BODY + 2 + 2 * i]
                state[SNAKE_BODY + 1 + 2 * i] = state[SNAKE_BODY + 3 + 2 * i]
            body_len -= 1
        state[1] = body_len
    return terminated, reward, False


def rules_step(rule, sparse, params, cells, num_cells, mask, walls, markers, acc, log, zobrist, state, row, col):
    """Apply task rule `rule` (an `ops.RULE_*`) after an action; return (terminated, reward, fallback)."""
    terminated = False
    reward = 0.0
    if rule == RULE_STAIR_CLIMBER or rule == RULE_MAZE:
        terminated, reward = distance_rules(params, mask, state, row, col, sparse, rule == RULE_STAIR_CLIMBER)
    elif rule == RULE_TOP_OFF:
        terminated, reward = top_off_rules(cells, num_cells, markers, acc, state, sparse)
    elif rule == RULE_FOUR_CORNERS:
        terminated, reward = four_corners_rules(cells, num_cells, markers, acc, state, sparse)
    elif rule == RULE_HARVESTER:
        terminated, reward = harvester_rules(params, acc, state, sparse)
    elif rule == RULE_DOOR_KEY:
        terminated, reward = door_key_rules(params, cells, num_cells, walls, markers, acc, state)
    elif rule == RULE_ONE_STROKE:
        terminated, reward = one_stroke_rules(params, walls, state, row, col)
    elif rule == RULE_SEEDER:
        terminated, reward = seeder_rules(params, acc, state, cells, 0, markers)
    elif rule == RULE_PATH_FOLLOW:
        terminated, reward = path_follow_rules(params, mask, acc, state, row, col)
    elif rule == RULE_WALL_AVOIDER:
        terminated, reward = seeder_rules(params, acc, state, cells, num_cells, markers)
    elif rule == RULE_SNAKE:
        return snake_rules(cells, num_cells, walls, markers, acc, log, zobrist, state, row, col)
    return terminated, reward, False
