"""LEAPS' reward functions of its six tasks (`karel_env/karel.py`, `Karel_world._get_*_task_reward`).

A rules object holds one episode's state and is called after every executed action, blocked moves and
no-op picks and puts included, with the world after the action; it returns the step reward. LEAPS reads
only the reward of the last action (`karel.leaps_protocol.episode`), and nothing ever ends an episode
early. Quirks kept as LEAPS has them:

* `total` is LEAPS' running marker counter: it starts as the number of cells holding a marker and moves
  by one on every successful pick or put, *after* the step's reward is computed, so Harvester and
  FourCorners read the count of the step before.
* StairClimberSparse pays 1 only on the step of the first arrival at the marker; MazeSparse pays 1 on
  every step that ends on the marker.
* TopOff walks the bottom row from column 1 to the agent's column (whatever the agent's row), counting
  cells in the right state (2 markers where one started, none elsewhere) up to the first wrong one; 1
  more if the agent stands on the last cell and all W-2 cells are right; divided by W-1.
* FourCorners pays 0.25 per corner holding exactly one marker, and 0 once the counter exceeds the
  corners so paid (a marker elsewhere, or a second one on a corner).
"""

from __future__ import annotations

from typing import Protocol

from karel.dsl import Action
from karel.leaps_protocol.worlds import LeapsWorld
from karel.world import World


class LeapsRules(Protocol):
    def __call__(self, world: World, action: Action, legal: bool) -> float:
        """The reward of the step that ended in `world`; `legal` is False for a blocked move or a no-op
        pick or put."""


class _Counted:
    """LEAPS' running marker counter, updated after each step's reward."""

    def __init__(self, initial: LeapsWorld):
        self.total = int((initial.world.markers > 0).sum())

    def __call__(self, world: World, action: Action, legal: bool) -> float:
        reward = self.reward(world)
        if legal and action == Action.pickMarker:
            self.total -= 1
        elif legal and action == Action.putMarker:
            self.total += 1
        return reward

    def reward(self, world: World) -> float:
        raise NotImplementedError


class StairClimberSparse(_Counted):
    def __init__(self, initial: LeapsWorld):
        super().__init__(initial)
        self.marker, self.arrived = initial.marker, False

    def reward(self, world: World) -> float:
        at_marker = (world.row, world.col) == self.marker
        reward = 1.0 if at_marker and not self.arrived else 0.0
        self.arrived = self.arrived or at_marker
        return reward


class MazeSparse(_Counted):
    def __init__(self, initial: LeapsWorld):
        super().__init__(initial)
        self.marker = initial.marker

    def reward(self, world: World) -> float:
        return float((world.row, world.col) == self.marker)


class TopOff(_Counted):
    def __init__(self, initial: LeapsWorld):
        super().__init__(initial)
        self.targets = frozenset(initial.targets)

    def reward(self, world: World) -> float:
        h, w = world.height, world.width
        right = 0
        for c in range(1, world.col + 1):
            if world.markers[h - 2, c] != (2 if (h - 2, c) in self.targets else 0):
                break
            right += 1
        if (world.row, world.col) == (h - 2, w - 2) and right == w - 2:
            right += 1
        return right / (w - 1)


class FourCorners(_Counted):
    def reward(self, world: World) -> float:
        h, w = world.height, world.width
        corners = ((1, 1), (h - 2, 1), (h - 2, w - 2), (1, w - 2))
        reward = 0.0
        for cell in corners:
            if world.markers[cell] == 1:
                reward += 0.25
        return 0.0 if self.total - int(reward * 4) > 0 else reward


class Harvester(_Counted):
    def reward(self, world: World) -> float:
        cells = (world.height - 2) * (world.width - 2)
        return (cells - self.total) / cells


class CleanHouse(_Counted):
    def __init__(self, initial: LeapsWorld):
        super().__init__(initial)
        self.cells = initial.markers

    def reward(self, world: World) -> float:
        return sum(1 for cell in self.cells if world.markers[cell] == 0) / len(self.cells)
