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

from collections.abc import Sequence
from dataclasses import dataclass, replace
from math import ceil

import numpy as np
import torch

from karel.tasks.base import (
    CRASH_PENALTY,
    BatchRules,
    Instance,
    State,
    Task,
    total_markers,
)
from karel.world import World, Worlds

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

    def batch_rules(self, instances: Sequence[Instance], device: torch.device | str = "cpu") -> DoorKeyBatchRules:
        return DoorKeyBatchRules(self, instances, device)


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


class DoorKeyBatchRules(BatchRules):
    def __init__(self, task: DoorKey, instances: Sequence[Instance], device: torch.device | str):
        super().__init__(task, instances, device)
        self.key = torch.tensor([inst.layout.key for inst in instances], device=self.device)  # [E, 2]
        self.goal = torch.tensor([inst.layout.goal for inst in instances], device=self.device)  # [E, 2]
        self.doors = torch.tensor([inst.layout.doors for inst in instances], device=self.device)  # [E, D, 2]

    def reset(self, instance: torch.Tensor) -> State:
        return {"instance": instance, "locked": torch.ones_like(instance, dtype=torch.bool)}

    def step(
        self, worlds: Worlds, state: State, acted: torch.Tensor
    ) -> tuple[Worlds, State, torch.Tensor, torch.Tensor]:
        instance, locked = state["instance"], state["locked"]  # [N], [N] bool
        n = torch.arange(len(worlds), device=worlds.device)  # [N]
        count = total_markers(worlds)  # [N] int64
        key, goal = self.key[instance], self.goal[instance]  # [N, 2]
        key_taken = worlds.markers[n, key[:, 0], key[:, 1]] == 0  # [N]
        goal_topped = worlds.markers[n, goal[:, 0], goal[:, 1]] == 2  # [N]
        zeros = torch.zeros_like(count, dtype=torch.float64)

        # Locked: more than the two markers: -1; else the key taken opens the doors: +0.5; else 0.
        locked_crash = count > 2
        unlocking = ~locked_crash & key_taken
        locked_reward = torch.where(locked_crash, CRASH_PENALTY, torch.where(unlocking, STAGE_REWARD, zeros))
        # Unlocked: more than one marker: +0.5 if the goal holds exactly 2, else -1; no marker: -1; else 0.
        unlocked_end = (count > 1) | (count == 0)
        unlocked_reward = torch.where(unlocked_end, CRASH_PENALTY, zeros)
        unlocked_reward = torch.where((count > 1) & goal_topped, STAGE_REWARD, unlocked_reward)

        reward = torch.where(locked, locked_reward, unlocked_reward)
        terminated = torch.where(locked, locked_crash, unlocked_end)
        opens = acted & locked & unlocking  # [N]
        doors = self.doors[instance]  # [N, D, 2]
        walls = worlds.walls.clone()
        door_walls = walls[n[:, None], doors[..., 0], doors[..., 1]]  # [N, D]
        walls[n[:, None], doors[..., 0], doors[..., 1]] = door_walls & ~opens[:, None]
        state = {**state, "locked": locked & ~opens}
        return replace(worlds, walls=walls), state, terminated & acted, torch.where(acted, reward, 0.0)
