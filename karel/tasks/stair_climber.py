"""StairClimber and StairClimberSparse.

Description:
    Climb a diagonal staircase (rising to the right) to the marker further up the stairs.
Grid:
    12 x 12 with border walls. For i = 1 .. W-3, walls at (H-i-1, i+1) and (H-i-1, i+2).
Initial state:
    The 10 "on stair" cells are (H-i-1, i) for i = 1 .. W-2. The agent stands on stair index
    `randint(0, 9)` (never the last) facing East; one marker lies on a later stair index
    `randint(start + 1, 10)`. Valid cells: the on-stair cells and the 9 cells directly above
    (H-i-2, i), i = 1 .. W-3.
Reward per step:
    Dense: (previous distance - current distance) / initial distance (Manhattan, to the marker).
    Sparse: +1 on reaching the marker. Both: leaving the valid cells gives -1 instead (and terminates).
Termination:
    Reaching the marker cell, or leaving the valid cells.
Source and deviations:
    LLM-GS `prog_policies/karel_tasks/stair_climber.py`; same draws (`randint` twice). No deviation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from karel.tasks.base import CRASH_PENALTY, Instance, Task
from karel.world import World


@dataclass(frozen=True)
class StairLayout:
    marker: tuple[int, int]
    valid_cells: frozenset[tuple[int, int]]
    initial_distance: int


class StairClimber(Task):
    family = "StairClimber"
    default_size = (12, 12)
    has_sparse = True

    def generate(self, rng: np.random.RandomState) -> tuple[World, StairLayout]:
        h, w = self.height, self.width
        world = self.empty_world()
        for i in range(1, w - 2):
            world.walls[h - i - 1, i + 1] = world.walls[h - i - 1, i + 2] = True
        on_stair = [(h - i - 1, i) for i in range(1, w - 1)]
        above_stair = [(h - i - 2, i) for i in range(1, w - 2)]
        start = rng.randint(0, len(on_stair) - 1)
        goal = rng.randint(start + 1, len(on_stair))
        world.row, world.col = on_stair[start]
        marker = on_stair[goal]
        world.markers[marker] = 1
        distance = abs(on_stair[start][0] - marker[0]) + abs(on_stair[start][1] - marker[1])
        return world, StairLayout(marker, frozenset(on_stair + above_stair), distance)

    def rules(self, instance: Instance) -> StairRules:
        return StairRules(instance.layout, self.sparse)


class StairRules:
    def __init__(self, layout: StairLayout, sparse: bool):
        self.layout, self.sparse = layout, sparse
        self.previous_distance = layout.initial_distance

    def __call__(self, world: World) -> tuple[bool, float]:
        marker = self.layout.marker
        at_marker = (world.row, world.col) == marker
        valid = (world.row, world.col) in self.layout.valid_cells
        if self.sparse:
            if at_marker:
                return True, 1.0
            return (True, CRASH_PENALTY) if not valid else (False, 0.0)
        distance = abs(world.row - marker[0]) + abs(world.col - marker[1])
        reward = (self.previous_distance - distance) / self.layout.initial_distance
        self.previous_distance = distance
        if not valid:
            return True, CRASH_PENALTY
        return at_marker, reward
