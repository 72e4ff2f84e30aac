"""DoorKey.

Description:
    Pick up the key marker in the left chamber, which opens a door in the dividing wall, then go through and
    put a marker on the goal marker in the right chamber.
Grid:
    8 x 8 with border walls and a full wall column at c = ceil(W/2) = 4: left chamber cols 1..3, right
    chamber cols 5..6. The door cells (2, 4) and (3, 4) are walls until the key is picked.
Initial state:
    Draws in order: key cell (`randint(1, H-1)`, `randint(1, ceil(W/2))`), goal cell (`randint(1, H-1)`,
    `randint(ceil(W/2) + 1, W-1)`), then agent cells (row, col drawn as for the key) until one holds no
    marker. Key and goal hold 1 marker each; the agent faces East.
Reward per step:
    count = total markers. Locked: count > 2: -1; else, key cell at 0 markers: the rules remove the two door
    walls from the world (unlocked) and give +0.5. Unlocked: count > 1: +0.5 if the goal cell holds exactly
    2 markers, else -1; count == 0: -1. Otherwise 0.
Termination:
    Any -1, or the unlocked +0.5 (goal topped off). Maximum return 1.
Source and deviations:
    LLM-GS `prog_policies/karel_tasks/door_key.py`; same draws (4 `randint`, then the rejection loop for the
    agent). Reproduced quirk: the rules edit the world's walls (the door opens in place). No deviation.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

import numpy as np

from karel.tasks.base import (
    CRASH_PENALTY,
    Instance,
    Task,
)
from karel.world import World

STAGE_REWARD = 0.5  # for picking the key, and again for topping off the goal


@dataclass(frozen=True)
class DoorKeyLayout:
    key: tuple[int, int]
    goal: tuple[int, int]
    doors: tuple[tuple[int, int], ...]


class DoorKey(Task):
    family = "DoorKey"
    default_size = (8, 8)

    def generate(self, rng: np.random.RandomState) -> tuple[World, DoorKeyLayout]:
        h, w = self.height, self.width
        wall_col = ceil(w / 2)
        world = self.empty_world()
        world.walls[:, wall_col] = True
        key = (int(rng.randint(1, h - 1)), int(rng.randint(1, wall_col)))
        goal = (int(rng.randint(1, h - 1)), int(rng.randint(wall_col + 1, w - 1)))
        world.markers[key] = world.markers[goal] = 1
        while True:
            agent = (int(rng.randint(1, h - 1)), int(rng.randint(1, wall_col)))
            if not world.markers[agent]:
                break
        world.row, world.col = agent
        return world, DoorKeyLayout(key, goal, ((2, wall_col), (3, wall_col)))

    def rules(self, instance: Instance) -> DoorKeyRules:
        return DoorKeyRules(instance.layout)


class DoorKeyRules:
    def __init__(self, layout: DoorKeyLayout):
        self.layout = layout
        self.locked = True

    def __call__(self, world: World) -> tuple[bool, float]:
        count = int(world.markers.sum())
        if self.locked:
            if count > 2:
                return True, CRASH_PENALTY
            if world.markers[self.layout.key] == 0:
                self.locked = False
                for cell in self.layout.doors:
                    world.walls[cell] = False
                return False, STAGE_REWARD
            return False, 0.0
        if count > 1:
            return True, STAGE_REWARD if world.markers[self.layout.goal] == 2 else CRASH_PENALTY
        if count == 0:
            return True, CRASH_PENALTY
        return False, 0.0
