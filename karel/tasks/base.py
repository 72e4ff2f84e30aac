"""The task protocol: a seeded instance generator plus per-episode reward rules.

Instance i of a task is drawn from `numpy.random.RandomState(i)` with exactly the draws of the LLM-GS
release (`prog_policies/karel_tasks/*.py`), so our instance i is theirs. `Rules` objects hold the per-episode
task state (previous marker count, DoorKey's lock, Snake's body, ...) and are called after every executed
action; like the reference, they may edit the world (DoorKey opens its door, OneStroke walls off visited
cells, Snake moves its body markers). They are the executable specification; the compiled VM holds their
one other form, `karel/vm/rules.py`.
"""

from __future__ import annotations

import functools
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from karel.language import KAREL, Language
from karel.tasks.protocol import Instances, RenderedEpisode, check_device
from karel.world import World, Worlds

if TYPE_CHECKING:
    import os

    import torch

    from karel.gym_env import KarelEnv
    from karel.program import Program

MAX_INSTANCES = 1_000_000  # most task instances one evaluation may use (`karel eval`, `synthesis search`)
CRASH_PENALTY = -1.0  # replaces the step reward when a task rule is violated (LLM-GS `BaseTask`)


class Rules(Protocol):
    """Per-episode reward rules: called after every executed action with the current world."""

    def __call__(self, world: World) -> tuple[bool, float]:
        """Return `(terminated, step_reward)`; may edit `world` in place."""


@dataclass(frozen=True)
class Instance:
    """One task instance: the initial world and the task facts drawn with it (marker cells, key cell, ...)."""

    seed: int
    world: World  # never mutated: episodes start from a copy
    layout: Any


@functools.lru_cache(maxsize=4096)
def _cached_instance(cls: type[Task], sparse: bool, height: int, width: int, seed: int) -> Instance:
    world, layout = cls(sparse, height, width).generate(np.random.RandomState(seed))
    world.walls.flags.writeable = world.markers.flags.writeable = False
    return Instance(seed, world, layout)


class Task(ABC):
    """A Karel benchmark task. Subclasses set `family`, `default_size`, and implement `generate` and `rules`;
    the rest of the task protocol (`karel.tasks.protocol.TaskProtocol`) is implemented here."""

    family: ClassVar[str]
    default_size: ClassVar[tuple[int, int]]  # (H, W), border walls included
    has_sparse: ClassVar[bool] = False
    version: ClassVar[int] = 1  # bumped when rewards or instance generation change
    language: ClassVar[Language] = KAREL
    domain: ClassVar[str] = "karel"
    default_budget: ClassVar[int] = 1_000_000  # program evaluations of a search (LEAPS, HC, LLM-GS on Karel)
    devices: ClassVar[tuple[str, ...]] = ("cpu", "cuda")
    engines: ClassVar[tuple[str, ...]] = ("vm", "reference")  # the compiled VM; the reference interpreter

    def __init__(self, sparse: bool = False, height: int | None = None, width: int | None = None):
        if sparse and not self.has_sparse:
            raise ValueError(f"task {self.family} has no sparse variant")
        self.sparse = sparse
        self.height = height or self.default_size[0]
        self.width = width or self.default_size[1]

    @property
    def name(self) -> str:
        return self.family + ("Sparse" if self.sparse else "")

    def __repr__(self) -> str:
        return f"{self.name}({self.height}x{self.width})"

    @property
    def grid_size(self) -> tuple[int, int]:
        return self.height, self.width

    @property
    def description(self) -> str:
        """The first line under 'Description:' in the task module's docstring ("" without one)."""
        lines = [line.strip() for line in (sys.modules[type(self).__module__].__doc__ or "").splitlines()]
        return lines[lines.index("Description:") + 1] if "Description:" in lines else ""

    def returns(self, programs: Sequence[Program], instances: Instances = 32, *, device: str = "cpu") -> np.ndarray:
        """`[P, E]` float64 episode returns on the compiled VM: on the CPU without loading torch
        (`karel.executor.episode_returns`), on CUDA through `karel.executor.execute`. The same values on both."""
        check_device(self, device)
        seeds = range(instances) if isinstance(instances, int) else instances
        chosen = [self.instance(i) for i in seeds]
        if device == "cpu":
            from karel.executor import episode_returns

            return episode_returns(programs, self, chosen)
        from karel.executor import execute

        return execute(programs, self, chosen, device=device).returns.cpu().numpy()

    def make_env(self, **kwargs) -> KarelEnv:
        """This task as a gymnasium environment (`karel.gym_env.KarelEnv`: `max_steps`, `render_mode`)."""
        from karel.gym_env import KarelEnv

        return KarelEnv(self, **kwargs)

    def render_episode(self, program: Program, instance: int, out_path: str | os.PathLike) -> RenderedEpisode:
        """The episode on `instance` as world frames captioned with step, action and return so far."""
        from karel.interpreter import run_task_episode
        from karel.render import episode_captions, save_episode

        episode = run_task_episode(program, self, instance, record_worlds=True)
        save_episode(episode.worlds, out_path, captions=episode_captions(episode.actions, episode.rewards))
        return RenderedEpisode(len(episode.worlds), len(episode.actions), episode.episode_return,
                               episode.termination.name.lower())  # fmt: skip

    def instance(self, seed: int) -> Instance:
        """Instance `seed`, generated from `RandomState(seed)` as the reference does. Instances are cached
        (every evaluation uses the same 32) and their world arrays are read-only: copy before editing."""
        return _cached_instance(type(self), self.sparse, self.height, self.width, int(seed))

    def initial_worlds(self, seeds: Iterable[int], device: torch.device | str = "cpu") -> Worlds:
        """Initial worlds of the given instances, batched: `[N, H, W]` tensors."""
        return Worlds.stack([self.instance(s).world for s in seeds], device=device)

    def empty_world(self) -> World:
        """An H x W world with border walls, no markers, the agent at (1, 1) facing East."""
        walls = np.zeros((self.height, self.width), dtype=bool)
        walls[0, :] = walls[-1, :] = walls[:, 0] = walls[:, -1] = True
        return World(walls, np.zeros(walls.shape, dtype=np.int64), 1, 1, 1)

    @abstractmethod
    def generate(self, rng: np.random.RandomState) -> tuple[World, Any]:
        """Draw an initial world and its layout with the reference's draws, in the reference's order."""

    @abstractmethod
    def rules(self, instance: Instance) -> Rules:
        """Fresh reward rules for one episode on `instance`."""
