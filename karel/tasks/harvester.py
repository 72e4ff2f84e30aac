"""Harvester and HarvesterSparse.

Description:
    Pick up every marker of a room whose every cell holds one.
Grid:
    8 x 8 with border walls, no inner walls.
Initial state:
    One marker on each of the (H-2)(W-2) = 36 interior cells. The agent stands at (H-2, `randint(2, W-2)`)
    facing East.
Reward per step:
    count = total markers, N0 = initial count. Marker count above the previous count (a marker put back): -1.
    Otherwise, dense: (previous count - count) / N0; sparse: +1 when count reaches 0, else 0.
Termination:
    The -1 rule, or no marker left.
Source and deviations:
    LLM-GS `prog_policies/karel_tasks/harvester.py`; same draw (one `randint`). Reproduced quirk: the sparse
    variant never updates its previous count, so its -1 fires only when the count exceeds N0. No deviation.
    CleanHouse reuses these rules (`HarvesterRules`, batched `HarvesterBatchRules`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
class HarvesterLayout:
    initial_markers: int


class Harvester(Task):
    family = "Harvester"
    default_size = (8, 8)
    has_sparse = True

    def generate(self, rng: np.random.RandomState) -> tuple[World, HarvesterLayout]:
        h, w = self.height, self.width
        world = self.empty_world()
        world.row, world.col = h - 2, int(rng.randint(2, w - 2))
        world.markers[1 : h - 1, 1 : w - 1] = 1
        return world, HarvesterLayout((h - 2) * (w - 2))

    def rules(self, instance: Instance) -> HarvesterRules:
        return HarvesterRules(instance.layout.initial_markers, self.sparse)

    def batch_rules(self, instances: Sequence[Instance], device: torch.device | str = "cpu") -> HarvesterBatchRules:
        return HarvesterBatchRules(self, instances, device)


class HarvesterRules:
    """Reward for removing every marker (Harvester, CleanHouse)."""

    def __init__(self, initial_markers: int, sparse: bool):
        self.initial_markers, self.sparse = initial_markers, sparse
        self.previous_markers = initial_markers  # never updated when sparse (reference quirk)

    def __call__(self, world: World) -> tuple[bool, float]:
        count = int(world.markers.sum())
        if self.sparse:
            if count > self.previous_markers:
                return True, CRASH_PENALTY
            return (True, 1.0) if count == 0 else (False, 0.0)
        reward = (self.previous_markers - count) / self.initial_markers
        increased = count > self.previous_markers
        self.previous_markers = count
        if increased:
            return True, CRASH_PENALTY
        return count == 0, reward


class HarvesterBatchRules(BatchRules):
    """Batched `HarvesterRules` (Harvester, CleanHouse): needs `layout.initial_markers` of each instance."""

    def __init__(self, task: Task, instances: Sequence[Instance], device: torch.device | str):
        super().__init__(task, instances, device)
        self.sparse = task.sparse
        self.initial_markers = torch.tensor([inst.layout.initial_markers for inst in instances], device=self.device)

    def reset(self, instance: torch.Tensor) -> State:
        return {"instance": instance, "previous_markers": self.initial_markers[instance]}

    def step(
        self, worlds: Worlds, state: State, acted: torch.Tensor
    ) -> tuple[Worlds, State, torch.Tensor, torch.Tensor]:
        count = total_markers(worlds)  # [N] int64
        previous = state["previous_markers"]  # [N]; stays the initial count when sparse (reference quirk)
        increased = count > previous
        if self.sparse:
            reward = torch.where(count == 0, 1.0, torch.zeros_like(count, dtype=torch.float64))
        else:
            reward = (previous - count).double() / self.initial_markers[state["instance"]].double()
            state = {**state, "previous_markers": torch.where(acted, count, previous)}
        reward = torch.where(increased, CRASH_PENALTY, reward)
        return worlds, state, (increased | (count == 0)) & acted, torch.where(acted, reward, 0.0)
