"""Constants of the compiled VM, copied from the Python enums (pinned to them by tests/karel/test_vm.py).

The compiled code cannot read Python enums, so every number it needs is a plain module constant here:
instruction ops (`karel.compiler.Op`), terminations (`karel.interpreter.Termination`), actions and
perceptions (`karel.dsl`), the task rule ids (`RULE_IDS`), and the layout of the per-episode accumulator
array `acc`.
"""

from __future__ import annotations

# karel.compiler.Op and the instruction row fields (op, arg, negate, next, alt, slot)
OP_ACT, OP_TEST, OP_WHILE, OP_REPEAT_SET, OP_REPEAT_TEST, OP_HALT = 0, 1, 2, 3, 4, 5
F_OP, F_ARG, F_NEGATE, F_NEXT, F_ALT, F_SLOT = 0, 1, 2, 3, 4, 5
# karel.interpreter.Termination
END_PROGRAM, END_TASK, END_BUDGET, END_LOOP, END_CRASH = 0, 1, 2, 3, 4
# karel.dsl.Action, NOOP_ACTION, Perception, MAX_MARKERS; karel.tasks.base.CRASH_PENALTY
MOVE, TURN_LEFT, TURN_RIGHT, PICK, PUT = 0, 1, 2, 3, 4
NOOP = 5
FRONT_IS_CLEAR, LEFT_IS_CLEAR, RIGHT_IS_CLEAR, MARKERS_PRESENT, NO_MARKERS_PRESENT = 0, 1, 2, 3, 4
MAX_MARKERS = 10
CRASH_PENALTY = -1.0

# Task rules (karel.vm.rules); Harvester and CleanHouse share one rule.
RULE_NONE, RULE_STAIR_CLIMBER, RULE_MAZE, RULE_TOP_OFF, RULE_FOUR_CORNERS, RULE_HARVESTER = 0, 1, 2, 3, 4, 5
RULE_DOOR_KEY, RULE_ONE_STROKE, RULE_SEEDER, RULE_PATH_FOLLOW, RULE_WALL_AVOIDER, RULE_SNAKE = 6, 7, 8, 9, 10, 11
RULE_IDS = {
    "StairClimber": RULE_STAIR_CLIMBER, "Maze": RULE_MAZE, "TopOff": RULE_TOP_OFF,
    "FourCorners": RULE_FOUR_CORNERS, "Harvester": RULE_HARVESTER, "CleanHouse": RULE_HARVESTER,
    "DoorKey": RULE_DOOR_KEY, "OneStroke": RULE_ONE_STROKE, "Seeder": RULE_SEEDER,
    "PathFollow": RULE_PATH_FOLLOW, "WallAvoider": RULE_WALL_AVOIDER, "Snake": RULE_SNAKE,
}  # fmt: skip
NUM_PARAMS = 8  # per-instance integer facts (marker cell, distances, counts, ...)
STATE_SIZE = 64  # per-episode integer rule state (Snake's body needs the most)
SNAKE_BODY = 8  # Snake's body cells start at state[8]

# The per-episode accumulator array `acc` (int64), kept up to date by every marker change (grid.py).
ACC_MARKERS = 0  # markers on the grid
ACC_MARKED = 1  # cells holding at least one marker
ACC_TENS = 2  # cells holding 10 markers (their count is two digits in the loop key)
ACC_LOG = 3  # marker changes logged so far
ACC_LOG_LOST = 4  # 1 once a change did not fit in the log (exact loop checks then fall back)
ACC_VARIANTS = 5  # how many position-digit lengths the grid allows (1 below 10 x 10)
ACC_HASH = 6  # ACC_HASH + v: Zobrist hash of the marker digits placed after a position of 3 + v digits
ACC_SIZE = 16
MAX_VARIANTS = ACC_SIZE - ACC_HASH
COORD_DIGITS = (MAX_VARIANTS + 1) // 2  # row and column below 10^COORD_DIGITS
# Loop keys hash as sum-free Zobrist hashes: XOR of zobrist[j, d] over the key's digits d at positions j,
# with the random int64 table zobrist [key_span, 11] (`karel.vm.pack.zobrist`).
ZOBRIST_SEED = 20_240_603
# An entry of the loop table: (node, hash, pose, log position, table slot)
E_NODE, E_HASH, E_POSE, E_LOG, E_SLOT = 0, 1, 2, 3, 4
ENTRY_FIELDS = 5


def key_span(height: int, width: int) -> int:
    """More digits than any loop key of an H x W world: row, column, direction, up to two per cell."""
    return 2 * COORD_DIGITS + 1 + 2 * height * width + 1
