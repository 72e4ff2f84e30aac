"""Seeder.

Description:
    Put exactly one marker on every cell of an empty room.
Grid:
    8 x 8 with border walls, no inner walls.
Initial state:
    The agent stands at (row, col) with col = `randint(2, W-2)` drawn first, then row = `randint(1, H-1)`,
    facing East; no markers.
Reward per step:
    count = total markers, N = (H-2)(W-2) = 36. A cell with 2 or more markers: -1; else count below the
    previous count (a marker picked): -1; otherwise (count - previous count) / N.
Termination:
    Either -1 rule, or count == N.
Source and deviations:
    LLM-GS `prog_policies/karel_tasks/seeder.py`; same draws (two `randint`, column first). No deviation.
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
    marked_cells,
    total_markers,
)
from karel.world import World, Worlds


@dataclass(frozen=True)
class SeederLayout:
    target_markers: int


class Seeder(Task):
    family = "Seeder"
    default_size = (8, 8)

    def generate(self, rng: np.random.RandomState) -> tuple[World, SeederLayout]:
        h, w = self.height, self.width
        world = self.empty_world()
        col = int(rng.randint(2, w - 2))
        world.row, world.col = int(rng.randint(1, h - 1)), col
        return world, SeederLayout((h - 2) * (w - 2))

    def rules(self, instance: Instance) -> SeederRules:
        return SeederRules(instance.layout.target_markers)

    def batch_rules(self, instances: Sequence[Instance], device: torch.device | str = "cpu") -> SeederBatchRules:
        return SeederBatchRules(self, instances, device)


class SeederRules:
    def __init__(self, target_markers: int):
        self.target_markers = target_markers
        self.previous_markers = 0

    def __call__(self, world: World) -> tuple[bool, float]:
        count = int(world.markers.sum())
        reward = (count - self.previous_markers) / self.target_markers
        decreased = count < self.previous_markers
        self.previous_markers = count
        doubled = np.count_nonzero(world.markers) < count  # some cell holds 2+ (cheaper than max())
        if doubled or decreased:
            return True, CRASH_PENALTY
        return count == self.target_markers, reward


class SeederBatchRules(BatchRules):
    def __init__(self, task: Seeder, instances: Sequence[Instance], device: torch.device | str):
        super().__init__(task, instances, device)
        self.target_markers = torch.tensor([inst.layout.target_markers for inst in instances], device=self.device)

    def reset(self, instance: torch.Tensor) -> State:
        return {"instance": instance, "previous_markers": torch.zeros_like(instance)}

    def step(
        self, worlds: Worlds, state: State, acted: torch.Tensor
    ) -> tuple[Worlds, State, torch.Tensor, torch.Tensor]:
        target = self.target_markers[state["instance"]]  # [N]
        count = total_markers(worlds)  # [N] int64
        previous = state["previous_markers"]
        progress = (count - previous).double() / target.double()
        crash = (marked_cells(worlds) < count) | (count < previous)  # a cell with 2+ markers, or a marker picked
        reward = torch.where(crash, CRASH_PENALTY, progress)
        state = {**state, "previous_markers": torch.where(acted, count, previous)}
        return worlds, state, (crash | (count == target)) & acted, torch.where(acted, reward, 0.0)
