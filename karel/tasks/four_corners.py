"""FourCorners and FourCornersSparse.

Description:
    Put one marker in each of the four inner corners of an empty room, and nowhere else.
Grid:
    12 x 12 with border walls, no inner walls.
Initial state:
    The agent stands at (H-2, `randint(2, W-2)`) facing East; no markers. The goal cells are (1, 1),
    (H-2, 1), (1, W-2) and (H-2, W-2).
Reward per step:
    correct = goal cells holding at least one marker. Total markers > correct (a marker off the corners, or
    a second one on a corner): -1. Otherwise, dense: (correct - previous correct) / 4; sparse: +1 when all
    four are correct, else 0.
Termination:
    The -1 rule, or all four corners correct.
Source and deviations:
    LLM-GS `prog_policies/karel_tasks/four_corners.py`; same draw (one `randint`). Deviation: LLM-GS
    `main.py` would build FourCornersSparse on an 8 x 8 grid (only a few tasks get explicit sizes there); we
    use the dense task's 12 x 12 grid.
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
class FourCornersLayout:
    corners: tuple[tuple[int, int], ...]


class FourCorners(Task):
    family = "FourCorners"
    default_size = (12, 12)
    has_sparse = True

    def generate(self, rng: np.random.RandomState) -> tuple[World, FourCornersLayout]:
        h, w = self.height, self.width
        world = self.empty_world()
        world.row, world.col = h - 2, int(rng.randint(2, w - 2))
        corners = ((1, 1), (h - 2, 1), (1, w - 2), (h - 2, w - 2))
        return world, FourCornersLayout(corners)

    def rules(self, instance: Instance) -> FourCornersRules:
        return FourCornersRules(instance.layout, self.sparse)


class FourCornersRules:
    def __init__(self, layout: FourCornersLayout, sparse: bool):
        self.corners, self.sparse = layout.corners, sparse
        self.previous_correct = 0

    def __call__(self, world: World) -> tuple[bool, float]:
        markers = world.markers
        correct = 0
        for cell in self.corners:
            if markers[cell]:
                correct += 1
        misplaced = int(markers.sum()) > correct
        done = correct == len(self.corners)
        if self.sparse:
            if misplaced:
                return True, CRASH_PENALTY
            return (True, 1.0) if done else (False, 0.0)
        reward = (correct - self.previous_correct) / len(self.corners)
        self.previous_correct = correct
        if misplaced:
            return True, CRASH_PENALTY
        return done, reward
