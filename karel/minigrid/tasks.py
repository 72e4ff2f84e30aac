"""MiniGrid tasks in the task registry: a name, its environment and its description.

A `MiniGridTask` is what `karel.tasks.make("LavaGap")` returns (through `task`, the registry's entry
point: every `make` returns the same object, whose evaluation environment is built once). It implements
the task protocol (`karel.tasks.protocol.TaskProtocol`). Instance i is the environment reset with seed i
(the reference's `ProgramWrapper(env, seed=i)`); one evaluation is the mean return over instances 0..31,
summed left to right like Karel's. Environments run on the CPU only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from karel.minigrid.language import MINIGRID
from karel.program import Program
from karel.tasks.protocol import Instances, RenderedEpisode, check_device

if TYPE_CHECKING:
    import os

    from karel.minigrid.envs import TaskEnv


@dataclass(frozen=True, eq=False)
class MiniGridTask:
    name: str
    env_name: str  # the class in karel.minigrid.envs, imported on first use (minigrid loads slowly)
    description: str

    language = MINIGRID
    domain = "minigrid"
    sparse = False  # no sparse variants (the attribute Karel tasks have)
    version = 1
    default_budget = 10_000  # program evaluations of a search (LLM-GS's MiniGrid budget)
    devices = ("cpu",)  # minigrid environments are Python objects
    engines = ("minigrid",)  # the program interpreter stepping the environment

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

    def returns(self, programs: Sequence[Program], instances: Instances = 32, *, device: str = "cpu") -> np.ndarray:
        """[P, E] float64 returns of `programs` on instances 0..instances-1 (or on the given instance seeds)."""
        from karel.minigrid.interpreter import evaluate

        check_device(self, device)
        seeds = range(instances) if isinstance(instances, int) else instances
        return evaluate(programs, self.env, seeds, self.language.max_calls)

    def render_episode(self, program: Program, instance: int, out_path: str | os.PathLike) -> RenderedEpisode:
        """The episode on seed `instance` as MiniGrid's own frames (32-pixel tiles), captioned with the
        action, its reward and the return so far."""
        from PIL import Image

        from karel.minigrid.interpreter import run_episode
        from karel.render import caption_frame, save_frames

        frames: list[Image.Image] = []
        total = 0.0

        def record(env, action, reward) -> None:
            nonlocal total
            total += reward
            text = "start" if action is None else f"{action.name}  reward {reward:+.3g}  return {total:.3g}"
            frames.append(caption_frame(Image.fromarray(env.render()), text))

        env = self.make_env(render_mode="rgb_array", tile_size=32)
        episode = run_episode(program, env, instance, self.language.max_calls, on_step=record)
        save_frames(frames, out_path)
        return RenderedEpisode(len(frames), episode.actions, episode.ret, episode.reason)


TASKS: dict[str, MiniGridTask] = {
    task.name: task
    for task in (
        MiniGridTask("LavaGap", "LavaGapEnv", "reach the goal through the one gap in a lava strip"),
        MiniGridTask("PutNear", "PutNearEnv", "pick up the ball and drop it next to the box"),
        MiniGridTask("RedBlueDoor", "RedBlueDoorEnv", "open the red door, then the blue door"),
    )
}


def task(name: str, **params) -> MiniGridTask:
    """The registry's entry point for the MiniGrid tasks: the one `MiniGridTask` named `name`."""
    if params:
        raise ValueError(f"{name} takes no parameters (got {', '.join(params)})")
    return TASKS[name]


__all__ = ["TASKS", "MiniGridTask", "task"]
