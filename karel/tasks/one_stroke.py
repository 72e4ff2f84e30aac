"""OneStroke.

Description:
    Visit as many cells of an empty room as possible in one stroke: every cell the agent leaves becomes a
    wall.
Grid:
    8 x 8 with border walls, no inner walls.
Initial state:
    The agent stands at (row, col) with col = `randint(1, W-1)` drawn first, then row = `randint(1, H-1)`,
    facing East; no markers.
Reward per step:
    When the agent's cell differs from its cell at the previous step: +1 / ((H-2)(W-2) - 1) = 1/35, and the
    rules put a wall on the cell it left. Otherwise 0.
Termination:
    After (H-2)(W-2) - 1 = 35 cell changes, i.e. every interior cell visited. Maximum return 1.
Source and deviations:
    LLM-GS `prog_policies/karel_tasks/one_stroke.py`; same draws (two `randint`, column first). Reproduced
    quirk: the rules edit the world's walls. No deviation. (Our notes on the earlier prog_policies release
    describe a divisor of 36 and a maximum return of 35/36; the LLM-GS release divides by 35.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from karel.tasks.base import Instance, Task
from karel.world import World


@dataclass(frozen=True)
class OneStrokeLayout:
    start: tuple[int, int]
    max_cells: int  # cell changes needed to visit every interior cell


class OneStroke(Task):
    family = "OneStroke"
    default_size = (8, 8)

    def generate(self, rng: np.random.RandomState) -> tuple[World, OneStrokeLayout]:
        h, w = self.height, self.width
        world = self.empty_world()
        col = int(rng.randint(1, w - 1))
        row = int(rng.randint(1, h - 1))
        world.row, world.col = row, col
        return world, OneStrokeLayout((row, col), (h - 2) * (w - 2) - 1)

    def rules(self, instance: Instance) -> OneStrokeRules:
        return OneStrokeRules(instance.layout)


class OneStrokeRules:
    def __init__(self, layout: OneStrokeLayout):
        self.max_cells = layout.max_cells
        self.previous = layout.start
        self.visited = 0

    def __call__(self, world: World) -> tuple[bool, float]:
        cell = (world.row, world.col)
        reward = 0.0
        if cell != self.previous:
            self.visited += 1
            reward = 1.0 / self.max_cells
            world.walls[self.previous] = True  # the stroke cannot come back
            self.previous = cell
        return self.visited == self.max_cells, reward
