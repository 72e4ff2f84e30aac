"""World helpers of the compiled VM: wall tests, perceptions, marker changes and the loop-key hash.

Plain functions over arrays and scalars, compiled for every target by `karel.vm.build` (see there for the
rules the code follows). Every marker change, by an action or a task rule, goes through `change_marker`,
which keeps the accumulators `acc` (`karel.vm.ops.ACC_*`) and the change log up to date in O(1).

The loop key (`World.loop_key`) is the digit string of row, column, direction and every marker count. Its
hash is the XOR of `zobrist[j, d]` over its digits d at positions j. Without 10-marker cells every count is
one digit at a fixed offset after the position's digits, so `acc` keeps the marker part for each possible
length of the position part and `key_hash` is O(1); with a 10-marker cell it walks the digits (rare).
"""

from __future__ import annotations

from karel.vm.ops import (
    ACC_HASH,
    ACC_LOG,
    ACC_LOG_LOST,
    ACC_MARKED,
    ACC_MARKERS,
    ACC_TENS,
    ACC_VARIANTS,
    MAX_MARKERS,
)

COMPILED = ("step_row", "step_col", "is_clear", "perceive", "change_marker", "reset_acc", "digits_hash",
            "key_hash", "write_key")  # fmt: skip


def step_row(direction):
    """Row step of a move facing `direction` (N E S W)."""
    return -1 if direction == 0 else (1 if direction == 2 else 0)


def step_col(direction):
    return 1 if direction == 1 else (-1 if direction == 3 else 0)


def is_clear(walls, row, col):
    return 0 <= row < walls.shape[0] and 0 <= col < walls.shape[1] and walls[row, col] == 0


def perceive(walls, markers, row, col, direction, perception):
    """Perception `perception` (karel.dsl.Perception id) of the agent at (row, col, direction)."""
    if perception <= 2:  # front, left, right
        turn = 0 if perception == 0 else (3 if perception == 1 else 1)
        d = (direction + turn) % 4
        return is_clear(walls, row + step_row(d), col + step_col(d))
    present = markers[row, col] > 0
    return present if perception == 3 else not present


def change_marker(markers, acc, log, zobrist, row, col, delta):
    """Add `delta` (+1 or -1) markers at (row, col) (the caller checked it is legal), keeping `acc` and the
    log of changes (entry 2 * cell + (delta > 0))."""
    old = int(markers[row, col])  # a plain integer: uint8 arithmetic would wrap on the simulator
    new = old + delta
    markers[row, col] = new
    cell = row * markers.shape[1] + col
    acc[ACC_MARKERS] += delta
    if old == 0:
        acc[ACC_MARKED] += 1
    elif new == 0:
        acc[ACC_MARKED] -= 1
    if new == MAX_MARKERS:
        acc[ACC_TENS] += 1
    elif old == MAX_MARKERS:
        acc[ACC_TENS] -= 1
    for v in range(acc[ACC_VARIANTS]):
        acc[ACC_HASH + v] ^= zobrist[3 + v + cell, old] ^ zobrist[3 + v + cell, new]
    at = acc[ACC_LOG]
    if at < log.shape[0]:
        log[at] = 2 * cell + (1 if delta > 0 else 0)
        acc[ACC_LOG] = at + 1
    else:
        acc[ACC_LOG_LOST] = 1


def reset_acc(markers, acc, zobrist):
    """The accumulators of a fresh grid."""
    for i in range(acc.shape[0]):
        acc[i] = 0
    h, w = markers.shape[0], markers.shape[1]
    coord_digits = 1
    top = 10
    while max(h, w) - 1 >= top:
        coord_digits += 1
        top *= 10
    acc[ACC_VARIANTS] = 2 * coord_digits - 1
    for r in range(h):
        for c in range(w):
            m = markers[r, c]
            acc[ACC_MARKERS] += m
            if m > 0:
                acc[ACC_MARKED] += 1
            if m == MAX_MARKERS:
                acc[ACC_TENS] += 1
            for v in range(acc[ACC_VARIANTS]):
                acc[ACC_HASH + v] ^= zobrist[3 + v + r * w + c, m]


def digits_hash(value, at, zobrist, h):
    """`h` XOR the hash terms of the decimal digits of `value` >= 0 placed from position `at`; returns
    (hash, position after the digits)."""
    if value < 10:
        return h ^ zobrist[at, value], at + 1
    digits = 1
    top = 10
    while value >= top:
        digits += 1
        top *= 10
    v = value
    for j in range(digits - 1, -1, -1):
        h ^= zobrist[at + j, v % 10]
        v //= 10
    return h, at + digits


def key_hash(markers, acc, zobrist, row, col, direction):
    """The hash of the reference loop key of the current state."""
    h, at = digits_hash(row, 0, zobrist, 0)
    h, at = digits_hash(col, at, zobrist, h)
    h, at = digits_hash(direction, at, zobrist, h)
    if acc[ACC_TENS] == 0:
        return h ^ acc[ACC_HASH + at - 3]
    for r in range(markers.shape[0]):
        for c in range(markers.shape[1]):
            m = markers[r, c]
            if m < 10:
                h ^= zobrist[at, m]
                at += 1
            else:  # "10"
                h ^= zobrist[at, 1] ^ zobrist[at + 1, 0]
                at += 2
    return h


def write_key(buffer, markers, row, col, direction):
    """The reference key (`World.loop_key`) as digits in `buffer`; return its length."""
    end = 0
    for field in range(3):
        value = row if field == 0 else (col if field == 1 else direction)
        digits = 1
        top = 10
        while value >= top:
            digits += 1
            top *= 10
        for j in range(digits - 1, -1, -1):
            buffer[end + j] = value % 10
            value //= 10
        end += digits
    for r in range(markers.shape[0]):
        for c in range(markers.shape[1]):
            m = markers[r, c]
            if m < 10:
                buffer[end] = m
                end += 1
            else:
                buffer[end] = 1
                buffer[end + 1] = 0
                end += 2
    return end
