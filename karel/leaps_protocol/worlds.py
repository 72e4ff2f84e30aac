"""LEAPS' initial worlds of its six tasks, drawn as LEAPS' `KarelStateGenerator` draws them.

Each generator reproduces one `generate_single_state_*` of `karel_env/generator.py` (clvrai/leaps) draw for
draw: the seeded `numpy.random.RandomState` of the generator (`rng`) and, where LEAPS calls Python's global
`random` (the maze's depth-first carving, CleanHouse's marker shuffle), a `random.Random` seeded alike
(`py`). A `WorldStream` holds both, so the k-th world of a stream is the k-th world LEAPS' generator gives
for the same seed (with its global `random` seeded with the same seed; LEAPS' trainer seeds it so, but the
environments it builds before the search advance it, so for Maze and CleanHouse the sets are LEAPS'
distribution rather than its exact sets).

A world comes with its layout, the facts LEAPS' reward functions read from the generator's metadata and
from the initial state (`karel.leaps_protocol.rewards`). Worlds are plain `karel.world.World`s; LEAPS'
one-hot view differs only in that its Harvester and FourCorners generators leave the "0 markers" channel
unset, which none of its rules read.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from karel.tasks.clean_house import MAP as CLEAN_HOUSE_MAP
from karel.tasks.clean_house import START as CLEAN_HOUSE_START
from karel.world import World

# CleanHouse's fixed map and start are the LLM-GS task's, which takes them from LEAPS
# (`generate_single_state_clean_house`).
CLEAN_HOUSE_EXCLUDED = ((1, 13), (2, 12), (3, 10), (4, 11), (5, 11), (6, 10))  # never get a marker
CLEAN_HOUSE_MARKERS = 10


@dataclass(frozen=True)
class LeapsWorld:
    """An initial world and the facts its task's reward reads."""

    world: World  # never mutated: episodes start from a copy
    marker: tuple[int, int] | None = None  # StairClimber, Maze: the marker cell
    targets: tuple[tuple[int, int], ...] = ()  # TopOff: bottom-row cells that start with a marker
    markers: tuple[tuple[int, int], ...] = ()  # CleanHouse: the 10 cells to clear


class WorldStream:
    """The random draws of one LEAPS world generator seeded with `seed`."""

    def __init__(self, seed: int):
        self.rng = np.random.RandomState(seed)
        self.py = random.Random(seed)


def _room(h: int, w: int) -> World:
    walls = np.zeros((h, w), dtype=bool)
    walls[0, :] = walls[-1, :] = walls[:, 0] = walls[:, -1] = True
    return World(walls, np.zeros((h, w), dtype=np.int64), h - 2, 1, 1)


def stair_climber(stream: WorldStream, h: int, w: int) -> LeapsWorld:
    """A two-cell-thick diagonal staircase; agent (facing East) and marker on two distinct start cells, the
    agent on the lower-left one."""
    world = _room(h, w)
    starts = []
    r, c = h - 1, 2
    while r > 0 and c < w:
        world.walls[r, c] = world.walls[r - 1, c] = True
        if r - 1 > 0 and c - 1 > 0:
            starts.append((r - 1, c - 1))
        if r - 2 > 0 and c > 0:
            starts.append((r - 2, c))
        r, c = r - 1, c + 1
    starts = sorted(set(starts), key=lambda cell: cell[1])  # one cell per column
    first = second = 0
    while first == second:
        first, second = stream.rng.randint(0, len(starts)), stream.rng.randint(0, len(starts))
    (world.row, world.col), marker = starts[min(first, second)], starts[max(first, second)]
    world.direction = 1
    world.markers[marker] = 1
    return LeapsWorld(world, marker=marker)


def maze(stream: WorldStream, h: int, w: int) -> LeapsWorld:
    """A depth-first maze carved from (h-2, 1) in steps of two (neighbours shuffled with Python's
    `random`); agent at (h-2, 1) facing East; one marker on a uniformly drawn free cell."""
    walls = np.ones((h, w), dtype=bool)
    visited = np.zeros((h, w), dtype=bool)
    start = [h - 2, 1]
    walls[start[0], start[1]], visited[start[0], start[1]] = False, True
    stack = [start]
    while stack:
        r, c = stack.pop()
        neighbours = []
        if r - 2 > 0:
            neighbours.append([r - 2, c])
        if r + 2 < h - 1:
            neighbours.append([r + 2, c])
        if c - 2 > 0:
            neighbours.append([r, c - 2])
        if c + 2 < w - 1:
            neighbours.append([r, c + 2])
        stream.py.shuffle(neighbours)
        for nr, nc in neighbours:
            if not visited[nr, nc]:
                stack.append([r, c])
                walls[(r + nr) // 2, (c + nc) // 2] = walls[nr, nc] = False
                visited[nr, nc] = True
                stack.append([nr, nc])
    while True:
        row, col = stream.rng.randint(0, h), stream.rng.randint(0, w)
        if not walls[row, col]:
            break
    world = World(walls, np.zeros((h, w), dtype=np.int64), h - 2, 1, 1)
    world.markers[row, col] = 1
    return LeapsWorld(world, marker=(row, col))


def top_off(stream: WorldStream, h: int, w: int, marker_prob: float = 0.25, fixed: bool = True) -> LeapsWorld:
    """An empty room, agent at (h-2, 1) facing East; each bottom-row cell gets a marker with probability
    `marker_prob`, the last one (h-2, w-2) forced empty (`fixed`, LEAPS' `is_top_off=True`) or forced to
    hold one (LEAPS' `reset()` drops that argument: its reset quirk)."""
    world = _room(h, w)
    row = stream.rng.rand(w - 2) > 1 - marker_prob
    row[-1] = not fixed
    world.markers[h - 2, 1 : w - 1] = row
    targets = tuple((h - 2, c) for c in range(1, w - 1) if world.markers[h - 2, c])
    return LeapsWorld(world, targets=targets)


def four_corners(stream: WorldStream, h: int, w: int) -> LeapsWorld:
    """An empty room, agent at (h-2, 2) facing East (no draws: every world is the same)."""
    world = _room(h, w)
    world.col = 2
    return LeapsWorld(world)


def harvester(stream: WorldStream, h: int, w: int) -> LeapsWorld:
    """An empty room with one marker on every interior cell, agent at (h-2, 1) facing East (no draws)."""
    world = _room(h, w)
    world.markers[1 : h - 1, 1 : w - 1] = 1
    return LeapsWorld(world)


def clean_house(stream: WorldStream, h: int = 14, w: int = 22) -> LeapsWorld:
    """The fixed 14 x 22 apartment, agent at (1, 13) facing South; 2 markers at (2, 12) (not counted) and
    one on each of 10 wall-side cells: the candidates are the free cells beside a wall in columns 0..12,
    listed as LEAPS lists them (a Python set turned into a list), shuffled with Python's `random`, the
    excluded cells skipped."""
    if (h, w) != (14, 22):
        raise ValueError(f"CleanHouse has a fixed 14 x 22 map (got {h} x {w})")
    walls = np.array([[cell == "#" for cell in line] for line in CLEAN_HOUSE_MAP])
    world = World(walls, np.zeros((h, w), dtype=np.int64), *CLEAN_HOUSE_START, 2)
    candidates = set()
    for r in range(h):
        for c in range(13):
            if walls[r, c]:
                if r - 1 > 0 and not walls[r - 1, c]:
                    candidates.add((r - 1, c))
                if r + 1 < h - 1 and not walls[r + 1, c]:
                    candidates.add((r + 1, c))
                if c - 1 > 0 and not walls[r, c - 1]:
                    candidates.add((r, c - 1))
                if c + 1 < 13 - 1 and not walls[r, c + 1]:
                    candidates.add((r, c + 1))
    world.markers[CLEAN_HOUSE_START[0] + 1, CLEAN_HOUSE_START[1] - 1] = 2
    candidates = list(candidates)
    stream.py.shuffle(candidates)
    chosen = [cell for cell in candidates if cell not in CLEAN_HOUSE_EXCLUDED][:CLEAN_HOUSE_MARKERS]
    for cell in chosen:
        world.markers[cell] = 1
    return LeapsWorld(world, markers=tuple(chosen))
