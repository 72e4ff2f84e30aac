"""PathFollow.

Description:
    Follow a monotone trail of markers from the bottom-left corner to the top-right corner, picking them
    up, without straying from the trail.
Grid:
    8 x 8 with border walls, no inner walls.
Initial state:
    The agent stands at (H-2, 1) facing North. A step list of H-3 "up" and W-3 "right" moves is shuffled
    (`shuffle`); starting from (H-2, 1), every cell of the resulting path holds 1 marker (H + W - 5 = 11
    markers). Legal cells: every path cell and its four neighbours.
Reward per step:
    count = total markers, N0 = H + W - 5. Count above the previous count: -1; otherwise (previous count -
    count) / N0. Then, if the agent stands on an illegal cell: -1 instead.
Termination:
    Either -1 rule, or no marker left.
Source and deviations:
    LLM-GS `prog_policies/karel_tasks/path_follow.py`; same draw (one `shuffle` of the step list).
    Reproduced quirk: legal cells are stored as ids row * H + col (height, not width), which can confuse
    cells on a non-square grid. No deviation.
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

_UP, _RIGHT = 0, 1


@dataclass(frozen=True)
class PathFollowLayout:
    legal_ids: frozenset[int]  # `cell_id` of every legal cell
    initial_markers: int


def cell_id(row: int, col: int, height: int) -> int:
    """The reference's cell id, row * height + col (unique only when the grid is square)."""
    return row * height + col


class PathFollow(Task):
    family = "PathFollow"
    default_size = (8, 8)

    def generate(self, rng: np.random.RandomState) -> tuple[World, PathFollowLayout]:
        h, w = self.height, self.width
        world = self.empty_world()
        world.row, world.col, world.direction = h - 2, 1, 0
        steps = [_UP] * (h - 3) + [_RIGHT] * (w - 3)
        rng.shuffle(steps)
        row, col = h - 2, 1
        path = [(row, col)]
        for step in steps:
            row, col = (row - 1, col) if step == _UP else (row, col + 1)
            path.append((row, col))
        legal: set[int] = set()
        for r, c in path:
            world.markers[r, c] = 1
            legal.update(cell_id(rr, cc, h) for rr, cc in ((r, c), (r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)))
        return world, PathFollowLayout(frozenset(legal), h + w - 5)

    def rules(self, instance: Instance) -> PathFollowRules:
        return PathFollowRules(instance.layout)


class PathFollowRules:
    def __init__(self, layout: PathFollowLayout):
        self.layout = layout
        self.previous_markers = layout.initial_markers

    def __call__(self, world: World) -> tuple[bool, float]:
        count = int(world.markers.sum())
        reward = (self.previous_markers - count) / self.layout.initial_markers
        increased = count > self.previous_markers
        self.previous_markers = count
        if increased or cell_id(world.row, world.col, world.height) not in self.layout.legal_ids:
            return True, CRASH_PENALTY
        return count == 0, reward
