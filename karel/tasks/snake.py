"""Snake.

Description:
    Eat 20 food markers one after another while dragging a growing body, drawn as markers, that must not
    be entered.
Grid:
    8 x 8 with border walls, no inner walls.
Initial state:
    The agent stands at (row, col) with col = `randint(2, W-2)` drawn first, then row = `randint(1, H-1)`,
    facing East. The food (1 marker) goes on the first draw (row `randint(1, H-1)`, col `randint(1, W-1)`)
    that is not the agent's cell. The body is [agent cell] with length 2.
Reward per step:
    On the food cell: one marker is taken from it, the length grows by 1 and the step earns 1/20; unless
    that was the 20th food, a new food marker goes on the first draw (row, col as above) that is not a wall,
    not the agent's cell and not a body cell, from an RNG re-seeded with the instance seed at every episode
    start. Then, if the agent's cell is a body cell other than the head (the last body cell): -1 instead.
    Otherwise, if the agent changed cell, the previous head gets a marker, the agent's cell is appended
    to the body, and while the body is longer than the length its oldest cell loses a marker.
Termination:
    The -1 rule, or the 20th food eaten (the body update above still happens). Maximum return 1.
Source and deviations:
    LLM-GS `prog_policies/karel_tasks/snake.py`; same draws (two `randint`, the food rejection loop, and
    the per-episode food draws from `RandomState(seed)`, as the reference's `reset_environment` re-seeds).
    Reproduced quirks: body and food markers are ordinary markers (the reference edits them through
    `put_marker_env`/`pick_marker_env`, which keep the marker grid in step), so `markersPresent` sees them,
    and like those helpers adding to a full cell (10) or taking from an empty one does nothing; the agent's
    own putMarker/pickMarker edits mix with them; the food RNG starts with the instance's own generation
    draws. No deviation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from karel.dsl import MAX_MARKERS
from karel.tasks.base import CRASH_PENALTY, Instance, Task
from karel.world import World

INITIAL_LENGTH = 2
FOODS = 20  # foods to eat; each earns 1 / FOODS


@dataclass(frozen=True)
class SnakeLayout:
    start: tuple[int, int]
    food: tuple[int, int]


class Snake(Task):
    family = "Snake"
    default_size = (8, 8)

    def generate(self, rng: np.random.RandomState) -> tuple[World, SnakeLayout]:
        h, w = self.height, self.width
        world = self.empty_world()
        col = int(rng.randint(2, w - 2))
        start = (int(rng.randint(1, h - 1)), col)
        world.row, world.col = start
        while True:
            food = (int(rng.randint(1, h - 1)), int(rng.randint(1, w - 1)))
            if food != start:
                break
        world.markers[food] = 1
        return world, SnakeLayout(start, food)

    def rules(self, instance: Instance) -> SnakeRules:
        return SnakeRules(instance.layout, instance.seed)


class SnakeRules:
    def __init__(self, layout: SnakeLayout, seed: int):
        self.rng = np.random.RandomState(seed)  # fresh per episode: the same food sequence every episode
        self.length = INITIAL_LENGTH
        self.body = [layout.start]  # oldest first; the last cell is the head
        self.food = layout.food

    def __call__(self, world: World) -> tuple[bool, float]:
        cell = (world.row, world.col)
        terminated, reward = False, 0.0
        if cell == self.food:
            _take_marker(world, cell)
            self.length += 1
            reward = 1 / FOODS
            if self.length == INITIAL_LENGTH + FOODS:
                terminated = True
            else:
                self.food = self._place_food(world, cell)
        if cell in self.body[:-1]:
            return True, CRASH_PENALTY
        head = self.body[-1]
        if cell != head:
            _add_marker(world, head)
            self.body.append(cell)
            if len(self.body) > self.length:
                _take_marker(world, self.body.pop(0))
        return terminated, reward

    def _place_food(self, world: World, agent: tuple[int, int]) -> tuple[int, int]:
        while True:
            food = (int(self.rng.randint(1, world.height - 1)), int(self.rng.randint(1, world.width - 1)))
            if not world.walls[food] and food != agent and food not in self.body:
                _add_marker(world, food)
                return food


def _add_marker(world: World, cell: tuple[int, int]) -> None:
    if world.markers[cell] < MAX_MARKERS:
        world.markers[cell] += 1


def _take_marker(world: World, cell: tuple[int, int]) -> None:
    if world.markers[cell] > 0:
        world.markers[cell] -= 1


def food_candidates(seed: int, height: int, width: int, count: int) -> np.ndarray:
    """[count, 2] the first `count` cells `SnakeRules._place_food` draws from a fresh `RandomState(seed)`:
    (row `randint(1, H-1)`, col `randint(1, W-1)`), row first. On a square grid both draws share one range,
    and legacy `randint` with `size` consumes the stream exactly as the same number of scalar calls, so one
    array draw gives the pairs; otherwise they are drawn one by one."""
    rng = np.random.RandomState(seed)
    if height == width:
        return rng.randint(1, height - 1, size=2 * count).reshape(count, 2).astype(np.int64)
    return np.array([(rng.randint(1, height - 1), rng.randint(1, width - 1)) for _ in range(count)], dtype=np.int64)
