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
    CleanHouse reuses these rules (`HarvesterRules`).
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
