"""MiniGrid tasks in the task registry: a name, its environment and its description.

A `MiniGridTask` is what `karel.tasks.make("LavaGap")` returns. Instance i is the environment reset with
seed i (the reference's `ProgramWrapper(env, seed=i)`); one evaluation is the mean return over instances
0..31, summed left to right like Karel's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from karel.minigrid.language import MINIGRID
from karel.program import Program

if TYPE_CHECKING:
    from karel.minigrid.envs import TaskEnv


@dataclass(frozen=True, eq=False)
class MiniGridTask:
    name: str
    env_name: str  # the class in karel.minigrid.envs, imported on first use (minigrid loads slowly)
    description: str

    language = MINIGRID
    domain = "minigrid"
    sparse = False  # no sparse variants (the attribute Karel tasks have)

    @property
    def env_class(self) -> type[TaskEnv]:
        from karel.minigrid import envs

        return getattr(envs, self.env_name)

    @property
    def family(self) -> str:
        return self.name

    @property
    def grid_size(self) -> tuple[int, int]:
        """(rows, columns) including the border walls."""
        env = self.env
        return env.height, env.width

    def make_env(self, **kwargs) -> TaskEnv:
        """A fresh environment of this task (`render_mode`, `observations`, ... passed on)."""
        return self.env_class(**kwargs)

    @cached_property
    def env(self) -> TaskEnv:
        """The environment the evaluations reuse (no observations)."""
        return self.env_class(observations=False)

    def returns(self, programs: Sequence[Program], instances: int | Sequence[int] = 32) -> np.ndarray:
        """[P, E] float64 returns of `programs` on instances 0..instances-1 (or on the given instance seeds)."""
        from karel.minigrid.interpreter import evaluate

        seeds = range(instances) if isinstance(instances, int) else instances
        return evaluate(programs, self.env, seeds, self.language.max_calls)


TASKS: dict[str, MiniGridTask] = {
    task.name: task
    for task in (
        MiniGridTask("LavaGap", "LavaGapEnv", "reach the goal through the one gap in a lava strip"),
        MiniGridTask("PutNear", "PutNearEnv", "pick up the ball and drop it next to the box"),
        MiniGridTask("RedBlueDoor", "RedBlueDoorEnv", "open the red door, then the blue door"),
    )
}

__all__ = ["TASKS", "MiniGridTask"]
