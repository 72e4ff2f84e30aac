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

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from karel.dsl import MAX_MARKERS
from karel.tasks.base import CRASH_PENALTY, BatchRules, Instance, State, Task
from karel.world import World, Worlds

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

    def batch_rules(self, instances: Sequence[Instance], device: torch.device | str = "cpu") -> SnakeBatchRules:
        return SnakeBatchRules(self, instances, device)


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


class SnakeBatchRules(BatchRules):
    """Batched `SnakeRules`. Cells are flat indices `row * W + col`.

    Per episode: `length` [N], the body as `body` [N, B] (oldest first, slots >= `body_len` [N] unused, B =
    `INITIAL_LENGTH + FOODS`, the most the body can hold), `food` [N] and `pointer` [N] into the instance's
    food candidates. The food draws of `SnakeRules` come from `RandomState(seed)` re-seeded per episode, so
    they are the same sequence in every episode of an instance: the first `CANDIDATES` draws are precomputed
    per instance (`candidates` [E, K]). Placing food takes the first valid candidate (not a wall, not the
    agent's cell, not a body cell: what `_place_food` checks) among the `FOOD_WINDOW` candidates from the
    pointer, and moves the pointer past it, which consumes the candidates exactly as the reference's
    rejection loop consumes draws.

    Fallback: if no candidate in that window is valid (the reference would draw further: more than
    `FOOD_WINDOW` rejections in a row, probability below (22/36)^64 ~ 2e-14 per placement on 8 x 8), or the
    window runs past the K precomputed draws (an episode uses a few dozen), the episode's
    `state["fallback"]` is set and its food is left where it was; its later results are meaningless and the
    executor must replay it with the reference rules.
    """

    CANDIDATES = 1024  # K: precomputed food draws per instance
    FOOD_WINDOW = 64  # candidates examined per food placement
    BODY = INITIAL_LENGTH + FOODS  # B: body slots

    def __init__(self, task: Snake, instances: Sequence[Instance], device: torch.device | str):
        super().__init__(task, instances, device)
        h, w = task.height, task.width
        self.width = w
        cells = np.stack([food_candidates(inst.seed, h, w, self.CANDIDATES) for inst in instances])  # [E, K, 2]
        self.candidates = torch.as_tensor(cells[..., 0] * w + cells[..., 1], device=self.device)  # [E, K] flat
        self.start = torch.tensor([r * w + c for r, c in (inst.layout.start for inst in instances)], device=self.device)
        self.food = torch.tensor([r * w + c for r, c in (inst.layout.food for inst in instances)], device=self.device)

    def reset(self, instance: torch.Tensor) -> State:
        n = len(instance)
        body = torch.zeros(n, self.BODY, dtype=torch.int64, device=self.device)
        body[:, 0] = self.start[instance]
        return {
            "instance": instance,
            "length": torch.full((n,), INITIAL_LENGTH, dtype=torch.int64, device=self.device),
            "body": body,  # [N, B] flat cells, oldest first
            "body_len": torch.ones(n, dtype=torch.int64, device=self.device),
            "food": self.food[instance],  # [N] flat cell
            "pointer": torch.zeros(n, dtype=torch.int64, device=self.device),  # next unused food candidate
            "fallback": torch.zeros(n, dtype=torch.bool, device=self.device),
        }

    def step(
        self, worlds: Worlds, state: State, acted: torch.Tensor
    ) -> tuple[Worlds, State, torch.Tensor, torch.Tensor]:
        n = len(worlds)
        slots = torch.arange(self.BODY, device=worlds.device)  # [B]
        body, body_len, length = state["body"], state["body_len"], state["length"]  # [N, B], [N], [N]
        in_body = slots < body_len[:, None]  # [N, B] used slots
        cell = worlds.row * self.width + worlds.col  # [N] the agent's cell
        markers = worlds.markers.flatten(1).clone()  # [N, H*W] edited in the reference's order
        reward = torch.zeros(n, dtype=torch.float64, device=worlds.device)

        # Eating: take the food marker, grow, +1/FOODS; the last food ends the episode, others are replaced.
        eats = acted & (cell == state["food"])  # [N]
        _take_markers(markers, cell, eats)
        length = length + eats.long()
        reward = torch.where(eats, 1 / FOODS, reward)
        finished = eats & (length == INITIAL_LENGTH + FOODS)
        places = eats & ~finished
        food, pointer, found = self._place_food(worlds, state, cell, body, in_body)  # [N], [N], [N]
        places_found = places & found
        _add_markers(markers, food, places_found)
        food = torch.where(places_found, food, state["food"])
        pointer = torch.where(places_found, pointer, state["pointer"])
        fallback = state["fallback"] | (places & ~found)

        # Entering a body cell other than the head: -1 (the food edits above stand, the body does not move).
        crash = acted & ((body == cell[:, None]) & (slots < body_len[:, None] - 1)).any(dim=1)  # [N]
        reward = torch.where(crash, CRASH_PENALTY, reward)

        # Moving: the old head gets a marker, the cell is appended, the oldest cell drops off past `length`.
        head = body.gather(1, (body_len - 1)[:, None]).squeeze(1)  # [N]
        moves = acted & ~crash & (cell != head)
        _add_markers(markers, head, moves)
        drops = moves & (body_len + 1 > length)
        _take_markers(markers, body[:, 0], drops)
        shifted = torch.where(drops[:, None], torch.cat([body[:, 1:], body[:, :1]], dim=1), body)  # [N, B]
        write_slot = torch.where(drops, body_len - 1, body_len)  # [N] where the new cell goes
        body = torch.where(moves[:, None] & (slots == write_slot[:, None]), cell[:, None], shifted)
        body_len = body_len + (moves & ~drops).long()

        state = {
            **state, "length": length, "body": body, "body_len": body_len, "food": food, "pointer": pointer,
            "fallback": fallback,
        }  # fmt: skip
        worlds = replace(worlds, markers=markers.view_as(worlds.markers))
        return worlds, state, (finished | crash) & acted, reward

    def _place_food(
        self, worlds: Worlds, state: State, cell: torch.Tensor, body: torch.Tensor, in_body: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """For every episode, the first valid food candidate in the window from its pointer: returns the cell
        [N], the pointer past it [N] and whether one was found [N] bool (the caller uses the episodes that
        place food). Valid as in `_place_food`: not a wall, not `cell` (the agent), not a used body slot."""
        n = len(worlds)
        index = state["pointer"][:, None] + torch.arange(self.FOOD_WINDOW, device=worlds.device)  # [N, F]
        available = index < self.CANDIDATES  # [N, F] within the precomputed draws
        candidate = self.candidates[state["instance"][:, None], index.clamp(max=self.CANDIDATES - 1)]  # [N, F]
        occupied = torch.zeros(n, worlds.height * worlds.width, dtype=torch.int64, device=worlds.device)
        occupied.scatter_add_(1, body, in_body.long())  # [N, H*W] used body slots per cell
        valid = (
            available
            & ~worlds.walls.flatten(1).gather(1, candidate)
            & (candidate != cell[:, None])
            & (occupied.gather(1, candidate) == 0)
        )  # [N, F]
        first = valid.long().argmax(dim=1)  # [N] first valid (0 when none)
        food = candidate.gather(1, first[:, None]).squeeze(1)
        return food, state["pointer"] + first + 1, valid.any(dim=1)


def _add_markers(markers: torch.Tensor, cell: torch.Tensor, where: torch.Tensor) -> None:
    """Batched `_add_marker` on flat `markers` [N, H*W] in place, at `cell` [N] where `where` [N]: a full
    cell (10) stays full."""
    count = markers.gather(1, cell[:, None]).squeeze(1)  # [N]
    markers.scatter_(1, cell[:, None], (count + (where & (count < MAX_MARKERS)).to(count.dtype))[:, None])


def _take_markers(markers: torch.Tensor, cell: torch.Tensor, where: torch.Tensor) -> None:
    """Batched `_take_marker` on flat `markers` [N, H*W] in place, at `cell` [N] where `where` [N]: an empty
    cell stays empty."""
    count = markers.gather(1, cell[:, None]).squeeze(1)  # [N]
    markers.scatter_(1, cell[:, None], (count - (where & (count > 0)).to(count.dtype))[:, None])
