"""The three MiniGrid tasks of LLM-GS as `minigrid` environments (`reference/llm_gs.md` 6.3).

Each is a `MiniGridEnv` whose `_gen_grid` makes the same random draws, in the same order, as the LLM-GS
release's modified environments, so `reset(seed=i)` gives their instance i; `step` applies the release's
reward changes. Episodes are not cut by MiniGrid's `max_steps` (programs run to their call budget; the
reference ignores truncation too), but LavaGap's goal reward still shrinks with the step count, as
MiniGrid computes it, before being mapped to +1 (or to -1 when it is exactly 0).

* **LavaGap** (6 x 6): agent at (1, 1) facing east, goal at (4, 4), a vertical lava strip in column 2 or 3
  with one gap. Goal +1, lava -1; either ends the episode.
* **PutNear** (6 x 6): a ball and a box of random colours, not within one cell of each other, and a random
  agent pose. The first pickup of the ball +0.5; picking up anything else -1 and ends; a drop while
  carrying ends the episode, +0.5 if the dropped object lands within the 8 cells around the box's
  starting cell.
* **RedBlueDoor** (12 x 6): three rooms split by walls in columns 3 and 8, the agent in the middle room, a
  red door in column 3 and a blue door in column 8. Opening red the first time +0.5; opening blue after red
  +0.5 and ends; opening blue first (or red while blue is open) -1 and ends.

`observations=False` skips building the agent's partial view after every step (programs never read
it); `reset` and `step` then return `None` as the observation. `reset_instance(seed)` starts an episode in
the state `reset(seed=seed)` gives, restored from a snapshot after the first time: a step only rebinds the
environment's attributes, edits grid cells and changes the state of doors, balls, boxes and keys, and the
snapshot holds all three (restoring is about 20 times cheaper than generating the layout again).
"""

from __future__ import annotations

import numpy as np
from minigrid.core.constants import COLOR_NAMES
from minigrid.core.grid import Grid
from minigrid.core.mission import MissionSpace
from minigrid.core.world_object import Ball, Box, Door, Goal, Lava
from minigrid.minigrid_env import MiniGridEnv

_MOVABLE = frozenset(("door", "ball", "box", "key"))  # objects whose state a step can change


class TaskEnv(MiniGridEnv):
    """A MiniGrid environment of one PRL task."""

    mission_text = ""

    def __init__(self, *, observations: bool = True, **kwargs):
        self.observations = observations
        super().__init__(mission_space=MissionSpace(mission_func=lambda: self.mission_text), **kwargs)

    def gen_obs(self):
        return super().gen_obs() if self.observations else None

    def reset_instance(self, seed: int) -> None:
        """Start an episode on instance `seed` (see the module docstring)."""
        start = self.__dict__.setdefault("_starts", {}).get(seed)
        if start is None:
            self.reset(seed=seed)
            self._starts[seed] = self._snapshot()
            return
        attributes, cells, objects = start
        self.__dict__.clear()
        self.__dict__.update(attributes)
        self.grid.grid[:] = cells
        for obj, state in objects:
            obj.__dict__.clear()
            obj.__dict__.update(state)

    def _snapshot(self) -> tuple:
        movable = [obj for obj in self.grid.grid if obj is not None and obj.type in _MOVABLE]
        return dict(self.__dict__), list(self.grid.grid), [(obj, dict(obj.__dict__)) for obj in movable]


class LavaGapEnv(TaskEnv):
    mission_text = "avoid the lava and get to the green goal square"

    def __init__(self, size: int = 6, **kwargs):
        super().__init__(width=size, height=size, max_steps=4 * size**2, see_through_walls=False, **kwargs)

    def _gen_grid(self, width: int, height: int) -> None:
        self.grid = Grid(width, height)
        self.grid.wall_rect(0, 0, width, height)
        self.agent_pos = np.array((1, 1))  # an array until the first move, as in the reference (see interpreter)
        self.agent_dir = 0
        self.put_obj(Goal(), width - 2, height - 2)
        gap = (self._rand_int(2, width - 2), self._rand_int(1, height - 1))
        self.grid.vert_wall(gap[0], 1, height - 2, Lava)
        self.grid.set(*gap, None)
        self.mission = self.mission_text

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        if terminated:
            reward = -1.0 if reward == 0 else 1.0
        return obs, reward, terminated, truncated, info


class PutNearEnv(TaskEnv):
    mission_text = "put the ball near the box"

    def __init__(self, size: int = 6, **kwargs):
        super().__init__(width=size, height=size, max_steps=5 * size, see_through_walls=True, **kwargs)

    def _gen_grid(self, width: int, height: int) -> None:
        self.grid = Grid(width, height)
        self.grid.horz_wall(0, 0)
        self.grid.horz_wall(0, height - 1)
        self.grid.vert_wall(0, 0)
        self.grid.vert_wall(width - 1, 0)
        placed: list[tuple[int, int]] = []

        def next_to_placed(env, pos) -> bool:
            return any(abs(pos[0] - p[0]) <= 1 and abs(pos[1] - p[1]) <= 1 for p in placed)

        self.ball = Ball(self._rand_elem(COLOR_NAMES))
        placed.append(self.place_obj(self.ball, reject_fn=next_to_placed))
        self.box = Box(self._rand_elem(COLOR_NAMES))
        self.target_pos = self.place_obj(self.box, reject_fn=next_to_placed)
        placed.append(self.target_pos)
        self.place_agent()
        self.ball_rewarded = False
        self.mission = self.mission_text

    def step(self, action):
        carried_before = self.carrying
        obs, reward, terminated, truncated, info = super().step(action)
        if action == self.actions.pickup and self.carrying:
            if self.carrying.type != "ball" or self.carrying.color != self.ball.color:
                terminated, reward = True, -1.0
            elif not self.ball_rewarded:
                reward, self.ball_rewarded = 0.5, True
        if action == self.actions.drop and carried_before:
            front = self.front_pos
            if self.grid.get(*front) is carried_before and all(abs(front - np.asarray(self.target_pos)) <= 1):
                reward = 0.5
            terminated = True
        return obs, reward, terminated, truncated, info


class RedBlueDoorEnv(TaskEnv):
    mission_text = "open the red door then the blue door"

    def __init__(self, size: int = 6, **kwargs):
        self.size = size
        super().__init__(width=2 * size, height=size, max_steps=20 * size**2, **kwargs)

    def _gen_grid(self, width: int, height: int) -> None:
        size = self.size
        self.grid = Grid(width, height)
        self.grid.wall_rect(0, 0, 2 * size, size)
        self.grid.wall_rect(size // 2, 0, size, size)
        self.place_agent(top=(size // 2, 0), size=(size, size))
        self.red_door = Door("red")
        self.grid.set(size // 2, self._rand_int(1, size - 1), self.red_door)
        self.blue_door = Door("blue")
        self.grid.set(size // 2 + size - 1, self._rand_int(1, size - 1), self.blue_door)
        self.red_rewarded = False
        self.mission = self.mission_text

    def step(self, action):
        red_before, blue_before = self.red_door.is_open, self.blue_door.is_open
        obs, reward, terminated, truncated, info = super().step(action)
        if self.blue_door.is_open:
            terminated, reward = True, (0.5 if red_before else -1.0)
        elif self.red_door.is_open:
            if blue_before:
                terminated, reward = True, -1.0
            elif not red_before and not self.red_rewarded:
                reward, self.red_rewarded = 0.5, True
        return obs, reward, terminated, truncated, info


__all__ = ["LavaGapEnv", "PutNearEnv", "RedBlueDoorEnv", "TaskEnv"]
