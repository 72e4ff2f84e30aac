"""Task registry: `make(name)` returns a task by its LLM-GS name; `TASKS` lists every registered name.

Sparse variants are the same task with `sparse=True` (`make("TopOffSparse") == TopOff(sparse=True)`).
Keyword arguments override the grid size: `make("Harvester", height=10, width=10)`.
"""

from __future__ import annotations

from karel.tasks.base import CRASH_PENALTY, Instance, Rules, Task
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


def make(name: str, **params) -> Task:
    """The task registered as `name`; unknown names raise an error listing the known ones."""
    if name not in TASKS:
        raise UnknownTaskError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}")
    family, sparse = TASKS[name]
    return family(sparse=sparse, **params)


__all__ = ["CRASH_PENALTY", "TASKS", "Instance", "Rules", "Task", "UnknownTaskError", "make"]
