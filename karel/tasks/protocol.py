"""The one task protocol both domains implement: Karel's `Task` (`karel/tasks/base.py`) and MiniGrid's
`MiniGridTask` (`karel/minigrid/tasks.py`). Callers (`karel eval`, `karel render`, the `Evaluator`, the
prompts, `karel.gym_env`) use these members only, so they never ask which domain a task belongs to.

`returns` is the evaluation: the `[P, E]` float64 episode returns of P programs on E task instances; the
mean of row p, summed left to right (`karel.interpreter.mean_return`), is program p's evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import os

    import numpy as np

    from karel.language import Language
    from karel.program import Program

Instances = int | Sequence[int]  # N: instances 0..N-1; or the instance indices (seeds) themselves
DOMAINS = {"karel": "Karel", "minigrid": "MiniGrid"}  # `domain` -> the name written in messages and prompts


@dataclass(frozen=True)
class RenderedEpisode:
    """What `render_episode` wrote: the episode's frame count (the first frame only went to a .png), its
    executed actions, its return and why it ended, in lower case (Karel: a `Termination` name such as
    "task_end"; MiniGrid: "terminated", "budget", "loop" or "end")."""

    frames: int
    actions: int
    episode_return: float
    end: str


@runtime_checkable
class TaskProtocol(Protocol):
    """A benchmark task of either domain."""

    name: str  # the registry name, e.g. "TopOffSparse", "LavaGap"
    family: str  # the name without the sparse suffix (the key of the task's prompt description)
    domain: str  # "karel" | "minigrid"
    language: Language  # the DSL its programs are written in
    sparse: bool
    version: int  # bumped when rewards or instance generation change
    description: str  # one line, for `karel tasks`
    default_budget: int  # program evaluations of a search on this task unless the run says otherwise
    devices: tuple[str, ...]  # where `returns` can run ("cpu", "cuda")
    engines: tuple[str, ...]  # the evaluation engines `karel eval --engine` may name, the default first
    grid_size: tuple[int, int]  # (rows, columns), border walls included

    def returns(self, programs: Sequence[Program], instances: Instances = 32, *, device: str = "cpu") -> np.ndarray:
        """`[P, E]` float64 episode returns of `programs` on the instances (an int N: 0..N-1)."""

    def make_env(self, **kwargs: Any) -> Any:
        """A fresh gymnasium environment of this task (keyword arguments go to the environment)."""

    def render_episode(self, program: Program, instance: int, out_path: str | os.PathLike) -> RenderedEpisode:
        """Run `program` on `instance` and write the episode as an animated .gif or its first frame as a .png
        (atomically); Pillow is imported here only."""


def check_device(task: TaskProtocol, device: str) -> None:
    """Raise ValueError naming the task and the devices it runs on unless `device` is one of them."""
    if device not in task.devices:
        raise ValueError(f"{task.name} runs on {' or '.join(task.devices)} only, not on {device!r}")


def domain_name(task: TaskProtocol) -> str:
    """The task's domain as written in messages and prompts ("Karel", "MiniGrid"; others as they are)."""
    return DOMAINS.get(task.domain, task.domain)
