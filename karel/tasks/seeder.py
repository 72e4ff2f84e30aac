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

from dataclasses import dataclass

import numpy as np

from karel.tasks.base import (
    CRASH_PENALTY,
    Instance,
    Task,
)
from karel.world import World


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
