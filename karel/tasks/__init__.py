"""Task registry: `make(name)` returns a task by its LLM-GS name.

`TASKS` lists the Karel tasks, `MINIGRID_TASKS` the MiniGrid ones (`karel.minigrid`); `make` knows both.
Sparse variants are the same task with `sparse=True` (`make("TopOffSparse") == TopOff(sparse=True)`).
Keyword arguments override a Karel task's grid size: `make("Harvester", height=10, width=10)`.
"""

from __future__ import annotations

from karel.minigrid.tasks import TASKS as MINIGRID_TASKS
from karel.minigrid.tasks import MiniGridTask
from karel.tasks.base import CRASH_PENALTY, MAX_INSTANCES, Instance, Rules, Task
from karel.tasks.clean_house import CleanHouse
from karel.tasks.door_key import DoorKey
from karel.tasks.four_corners import FourCorners
from karel.tasks.harvester import Harvester
from karel.tasks.maze import Maze
from karel.tasks.one_stroke import OneStroke
from karel.tasks.path_follow import PathFollow
from karel.tasks.seeder import Seeder
from karel.tasks.snake import Snake
from karel.tasks.stair_climber import StairClimber
from karel.tasks.top_off import TopOff
from karel.tasks.wall_avoider import WallAvoider

# In the order of the LLM-GS task list (`prog_policies/karel_tasks/__init__.py`).
_FAMILIES: tuple[type[Task], ...] = (
    StairClimber, Maze, FourCorners, TopOff, Harvester, CleanHouse,
    DoorKey, OneStroke, Seeder, Snake, WallAvoider, PathFollow,
)  # fmt: skip

TASKS: dict[str, tuple[type[Task], bool]] = {}
for _family in _FAMILIES:
    TASKS[_family.family] = (_family, False)
    if _family.has_sparse:
        TASKS[_family.family + "Sparse"] = (_family, True)


class UnknownTaskError(ValueError):
    pass


def make(name: str, **params) -> Task | MiniGridTask:
    """The task registered as `name`; unknown names raise an error listing the known ones."""
    if name in MINIGRID_TASKS:
        if params:
            raise ValueError(f"{name} takes no parameters (got {', '.join(params)})")
        return MINIGRID_TASKS[name]
    if name not in TASKS:
        known = ", ".join(TASKS) + "; MiniGrid: " + ", ".join(MINIGRID_TASKS)
        raise UnknownTaskError(f"unknown task {name!r}; known tasks: {known}")
    family, sparse = TASKS[name]
    return family(sparse=sparse, **params)


def is_minigrid(task: object) -> bool:
    return isinstance(task, MiniGridTask)


__all__ = [
    "CRASH_PENALTY",
    "MAX_INSTANCES",
    "MINIGRID_TASKS",
    "TASKS",
    "Instance",
    "MiniGridTask",
    "Rules",
    "Task",
    "UnknownTaskError",
    "is_minigrid",
    "make",
]
