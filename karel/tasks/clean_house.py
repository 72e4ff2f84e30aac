"""CleanHouse and CleanHouseSparse.

Description:
    Pick up the markers scattered along the walls of a fixed apartment of rooms and corridors.
Grid:
    14 x 22 only (the fixed map `MAP` below; `#` wall, `.` free); another size raises ValueError.
Initial state:
    The agent stands at (1, 13) facing South. Candidate cells: for every wall cell in row-major order, its
    up, down, left, right neighbours (in that order) that are free and strictly inside the grid (row > 0,
    row < H-1, col > 0, col < W-1), collected in a Python set; minus the six cells (1, 13), (2, 12),
    (3, 10), (4, 11), (5, 11), (6, 10). The set is turned into a list (CPython's set order), shuffled
    (`shuffle`), and the first 10 cells get 1 marker. One more marker goes at (2, 12), below-left of the
    agent: 11 markers.
Reward per step:
    As Harvester with N0 = 11: count above the previous count: -1; otherwise dense: (previous count - count)
    / N0; sparse: +1 when no marker is left, else 0.
Termination:
    The -1 rule, or no marker left. There is no "dustbin" requirement (LEAPS describes one but never checks
    it either).
Source and deviations:
    LLM-GS `prog_policies/karel_tasks/clean_house.py`; same draw (one `shuffle`). Reproduced quirks: the
    candidate list order is the iteration order of a set built by the same insertions and the same set
    difference as the reference (deterministic in CPython, pinned by the instance-0 test); the sparse variant
    never updates its previous count (see Harvester). Deviation: LLM-GS `main.py` would build
    CleanHouseSparse on an 8 x 8 grid, where the reference's size assertion fails; we use 14 x 22.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from karel.tasks.base import Instance, Task
from karel.tasks.harvester import HarvesterRules
from karel.world import World

MAP = (
    "######################",
    "#..##########.#......#",
    "#..#..........#####.##",
    "##.#................##",
    "##........#.........##",
    "###.#.###.#..###.#.###",
    "#...#...#....#...#..##",
    "#...#...#....#...#...#",
    "#...#...#....#...##..#",
    "#...#...##..##...##.##",
    "#...#...##..##...#..##",
    "#...#...##..##...#..##",
    "#...#...##..##...#..##",
    "######################",
)
START = (1, 13)  # row, column of Karel's start, facing South
_EXCLUDED = {(1, 13), (2, 12), (3, 10), (4, 11), (5, 11), (6, 10)}
_EXTRA_MARKER = (2, 12)
_SCATTERED = 10


@dataclass(frozen=True)
class CleanHouseLayout:
    initial_markers: int


class CleanHouse(Task):
    family = "CleanHouse"
    default_size = (len(MAP), len(MAP[0]))
    has_sparse = True

    def __init__(self, sparse: bool = False, height: int | None = None, width: int | None = None):
        super().__init__(sparse, height, width)
        if (self.height, self.width) != self.default_size:
            raise ValueError(f"CleanHouse has a fixed 14 x 22 map; got {self.height} x {self.width}")

    def generate(self, rng: np.random.RandomState) -> tuple[World, CleanHouseLayout]:
        walls = np.array([[cell == "#" for cell in row] for row in MAP], dtype=bool)
        candidates = list(_wall_neighbours(walls) - _EXCLUDED)
        rng.shuffle(candidates)
        markers = np.zeros(walls.shape, dtype=np.int64)
        for cell in candidates[:_SCATTERED]:
            markers[cell] = 1
        markers[_EXTRA_MARKER] = 1
        world = World(walls, markers, START[0], START[1], 2)
        return world, CleanHouseLayout(int(markers.sum()))

    def rules(self, instance: Instance) -> HarvesterRules:
        return HarvesterRules(instance.layout.initial_markers, self.sparse)


def _wall_neighbours(walls: np.ndarray) -> set[tuple[int, int]]:
    """Free cells strictly inside the grid next to a wall. The insertion order matters: it fixes the set's
    iteration order, which the reference shuffles."""
    h, w = walls.shape
    cells: set[tuple[int, int]] = set()
    for r in range(h):
        for c in range(w):
            if not walls[r, c]:
                continue
            for inside, cell in (
                (r - 1 > 0, (r - 1, c)),
                (r + 1 < h - 1, (r + 1, c)),
                (c - 1 > 0, (r, c - 1)),
                (c + 1 < w - 1, (r, c + 1)),
            ):
                if inside and not walls[cell]:
                    cells.add(cell)
    return cells
