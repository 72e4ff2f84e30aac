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

    def batch_rules(self, instances: Sequence[Instance], device: torch.device | str = "cpu") -> PathFollowBatchRules:
        return PathFollowBatchRules(self, instances, device)


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


class PathFollowBatchRules(BatchRules):
    """Legal cells as a table over the reference's cell ids (`cell_id`, quirk included): `legal[e, id]`."""

    def __init__(self, task: PathFollow, instances: Sequence[Instance], device: torch.device | str):
        super().__init__(task, instances, device)
        self.height = task.height
        num_ids = cell_id(task.height - 1, task.width - 1, task.height) + 1  # ids of every cell of the grid
        legal = np.zeros((len(instances), num_ids), dtype=bool)
        for i, inst in enumerate(instances):
            ids = [j for j in inst.layout.legal_ids if 0 <= j < num_ids]  # other ids no agent cell can have
            legal[i, ids] = True
        self.legal = torch.as_tensor(legal, device=self.device)  # [E, num_ids] bool
        self.initial_markers = torch.tensor([inst.layout.initial_markers for inst in instances], device=self.device)

    def reset(self, instance: torch.Tensor) -> State:
        return {"instance": instance, "previous_markers": self.initial_markers[instance]}

    def step(
        self, worlds: Worlds, state: State, acted: torch.Tensor
    ) -> tuple[Worlds, State, torch.Tensor, torch.Tensor]:
        instance = state["instance"]
        count = total_markers(worlds)  # [N] int64
        previous = state["previous_markers"]
        progress = (previous - count).double() / self.initial_markers[instance].double()
        legal = self.legal[instance, cell_id(worlds.row, worlds.col, self.height)]  # [N]
        crash = (count > previous) | ~legal
        reward = torch.where(crash, CRASH_PENALTY, progress)
        state = {**state, "previous_markers": torch.where(acted, count, previous)}
        return worlds, state, (crash | (count == 0)) & acted, torch.where(acted, reward, 0.0)
