"""WallAvoider.

Description:
    Put one marker on every cell that does not touch a wall, and none on the cells along the walls.
Grid:
    8 rows x 5 columns with border walls, no inner walls.
Initial state:
    One draw s = `randint(0, 4 (H-2)(W-2))` (0 .. 71 at 8 x 5) gives col = s mod (W-2), row = (s div (W-2))
    mod (H-2), direction = s div ((H-2)(W-2)) (any of N, E, S, W); no markers. There is no +1 offset, so
    the agent starts in rows 0..H-3 and cols 0..W-3, sometimes on the border wall (row 0 or col 0) and
    never in the last interior row or column.
Reward per step:
    count = total markers, N = (H-4)(W-4) = 4 targets (rows 2..5 of col 2 at 8 x 5). A marker on an
    interior cell next to the border (row 1, row H-2, col 1 or col W-2): -1; a cell with 2 or more
    markers: -1; count below the previous count: -1; otherwise (count - previous count) / N.
Termination:
    Any -1 rule, or count == N.
Source and deviations:
    LLM-GS `prog_policies/karel_tasks/wall_avoider.py`; same draw (one `randint`). Reproduced quirks: the
    missing +1 offset above; a marker put on the border wall cell the agent starts on is not a
    wall-adjacent marker, so it counts towards N. No deviation.
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
class WallAvoiderLayout:
    forbidden: tuple[tuple[int, int], ...]  # interior cells next to the border wall
    target_markers: int


class WallAvoider(Task):
    family = "WallAvoider"
    default_size = (8, 5)

    def generate(self, rng: np.random.RandomState) -> tuple[World, WallAvoiderLayout]:
        h, w = self.height, self.width
        world = self.empty_world()
        inner_h, inner_w = h - 2, w - 2
        s = int(rng.randint(0, 4 * inner_h * inner_w))
        world.row, world.col, world.direction = (s // inner_w) % inner_h, s % inner_w, s // (inner_h * inner_w)
        forbidden = tuple(
            (r, c) for r in range(1, h - 1) for c in range(1, w - 1) if r in (1, h - 2) or c in (1, w - 2)
        )
        return world, WallAvoiderLayout(forbidden, (h - 4) * (w - 4))

    def rules(self, instance: Instance) -> WallAvoiderRules:
        return WallAvoiderRules(instance.layout, instance.world.walls.shape)


class WallAvoiderRules:
    def __init__(self, layout: WallAvoiderLayout, shape: tuple[int, int]):
        self.target_markers = layout.target_markers
        forbidden = np.zeros(shape, dtype=np.int64)
        forbidden[tuple(zip(*layout.forbidden))] = 1
        self.forbidden = forbidden.ravel()  # [H*W] 0/1 weights: markers @ forbidden counts forbidden markers
        self.previous_markers = 0

    def __call__(self, world: World) -> tuple[bool, float]:
        markers = world.markers
        count = int(markers.sum())
        reward = (count - self.previous_markers) / self.target_markers
        decreased = count < self.previous_markers
        self.previous_markers = count
        # Markers are never negative, so these match the reference's `(markers * forbidden > 0).any()` and
        # `(markers > 1).any()` without allocating.
        on_forbidden = markers.ravel().dot(self.forbidden) > 0
        doubled = np.count_nonzero(markers) < count
        if on_forbidden or doubled or decreased:
            return True, CRASH_PENALTY
        return count == self.target_markers, reward
