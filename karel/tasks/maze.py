"""Maze and MazeSparse.

Description:
    Find the single marker in a randomly carved maze.
Grid:
    8 x 8, everything wall at first. An iterative randomized depth-first search from (H-2, 1) over the
    cells reachable in 2-cell steps (neighbour kept only when strictly inside the border: row - 2 > 0,
    row + 2 < H-1, and the same for columns) opens each newly visited cell and the cell between. At 8 x 8
    the maze occupies rows 2..6 x cols 1..5; row 1, row 7 and cols 6..7 stay wall.
Initial state:
    The agent stands at (H-2, 1) facing East. The DFS pops a cell, lists its neighbours in the order
    up, down, left, right, shuffles that list (`shuffle`), then visits the unvisited ones in order, pushing
    each. The marker (1) then goes on the first draw (row `randint(1, H-1)`, col `randint(1, W-1)`, row
    drawn first) that is not a wall and not the agent's cell.
Reward per step:
    Dense: (previous distance - current distance) / initial distance (Manhattan, to the marker).
    Sparse: +1 on reaching the marker, 0 otherwise. No penalty in either variant.
Termination:
    Reaching the marker cell.
Source and deviations:
    LLM-GS `prog_policies/karel_tasks/maze.py`; same draws (one `shuffle` per popped cell, then the
    rejection loop for the marker). No deviation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from karel.tasks.base import Instance, Task
from karel.world import World


@dataclass(frozen=True)
class MazeLayout:
    marker: tuple[int, int]
    initial_distance: int


class Maze(Task):
    family = "Maze"
    default_size = (8, 8)
    has_sparse = True

    def generate(self, rng: np.random.RandomState) -> tuple[World, MazeLayout]:
        h, w = self.height, self.width
        walls = np.ones((h, w), dtype=bool)
        start = (h - 2, 1)
        walls[start] = False
        visited = {start}
        stack = [start]
        while stack:
            cell = stack.pop()
            neighbours = self._lattice_neighbours(cell)
            rng.shuffle(neighbours)
            for nxt in neighbours:
                if nxt in visited:
                    continue
                visited.add(nxt)
                walls[(cell[0] + nxt[0]) // 2, (cell[1] + nxt[1]) // 2] = False  # the cell in between
                walls[nxt] = False
                stack.append(nxt)
        while True:
            marker = (int(rng.randint(1, h - 1)), int(rng.randint(1, w - 1)))
            if not walls[marker] and marker != start:
                break
        markers = np.zeros((h, w), dtype=np.int64)
        markers[marker] = 1
        world = World(walls, markers, start[0], start[1], 1)
        distance = abs(start[0] - marker[0]) + abs(start[1] - marker[1])
        return world, MazeLayout(marker, distance)

    def _lattice_neighbours(self, cell: tuple[int, int]) -> list[tuple[int, int]]:
        """Cells two steps away that stay strictly inside the border, in the order up, down, left, right."""
        r, c = cell
        candidates = (
            (r - 2 > 0, (r - 2, c)),
            (r + 2 < self.height - 1, (r + 2, c)),
            (c - 2 > 0, (r, c - 2)),
            (c + 2 < self.width - 1, (r, c + 2)),
        )
        return [nxt for inside, nxt in candidates if inside]

    def rules(self, instance: Instance) -> MazeRules:
        return MazeRules(instance.layout, self.sparse)


class MazeRules:
    def __init__(self, layout: MazeLayout, sparse: bool):
        self.layout, self.sparse = layout, sparse
        self.previous_distance = layout.initial_distance

    def __call__(self, world: World) -> tuple[bool, float]:
        marker = self.layout.marker
        at_marker = (world.row, world.col) == marker
        if self.sparse:
            return (True, 1.0) if at_marker else (False, 0.0)
        distance = abs(world.row - marker[0]) + abs(world.col - marker[1])
        reward = (self.previous_distance - distance) / self.layout.initial_distance
        self.previous_distance = distance
        return at_marker, reward
