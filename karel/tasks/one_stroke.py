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

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from karel.tasks.base import BatchRules, Instance, State, Task
from karel.world import World, Worlds


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

    def batch_rules(self, instances: Sequence[Instance], device: torch.device | str = "cpu") -> OneStrokeBatchRules:
        return OneStrokeBatchRules(self, instances, device)


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


class OneStrokeBatchRules(BatchRules):
    def __init__(self, task: OneStroke, instances: Sequence[Instance], device: torch.device | str):
        super().__init__(task, instances, device)
        self.start = torch.tensor([inst.layout.start for inst in instances], device=self.device)  # [E, 2]
        self.max_cells = torch.tensor([inst.layout.max_cells for inst in instances], device=self.device)  # [E]

    def reset(self, instance: torch.Tensor) -> State:
        return {"instance": instance, "previous": self.start[instance], "visited": torch.zeros_like(instance)}

    def step(
        self, worlds: Worlds, state: State, acted: torch.Tensor
    ) -> tuple[Worlds, State, torch.Tensor, torch.Tensor]:
        max_cells = self.max_cells[state["instance"]]  # [N]
        previous = state["previous"]  # [N, 2] the agent's cell at the previous step
        cell = torch.stack([worlds.row, worlds.col], dim=1)  # [N, 2]
        moved = acted & (cell != previous).any(dim=1)  # [N]
        visited = state["visited"] + moved.long()
        reward = torch.where(moved, 1.0 / max_cells.double(), 0.0)
        # The cell left behind becomes a wall.
        n = torch.arange(len(worlds), device=worlds.device)
        walls = worlds.walls.clone()
        walls[n, previous[:, 0], previous[:, 1]] |= moved
        state = {**state, "previous": torch.where(moved[:, None], cell, previous), "visited": visited}
        return replace(worlds, walls=walls), state, (visited == max_cells) & acted, reward
