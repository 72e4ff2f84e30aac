"""Task registry: `make(name)` returns a task by its LLM-GS name, of either domain.

Entries are names of where a task is defined, as in Minigrid's and gymnasium's registries: `register(name,
"module:attribute", **kwargs)` records a name, and the first `make(name)` imports the module and calls the
attribute (a task class, or a function returning a task) with the entry's keyword arguments, then with
`make`'s own. Importing this package loads no task module, gymnasium or minigrid.

`TASKS` lists the Karel benchmark tasks, `MINIGRID_TASKS` the MiniGrid ones (`karel.minigrid`): tuples of
names, in the order of the LLM-GS task lists. Sparse variants are the same task with `sparse=True`
(`make("TopOffSparse") == TopOff(sparse=True)`). Keyword arguments override a Karel task's grid size:
`make("Harvester", height=10, width=10)`. Every task implements `protocol.TaskProtocol` (`returns`,
`language`, `make_env`, `render_episode`, `default_budget`, `devices`, ...), so callers need not know its
domain; `task.domain` names it ("karel" | "minigrid").
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from karel.tasks.base import CRASH_PENALTY, MAX_INSTANCES, Instance, Rules, Task
from karel.tasks.protocol import RenderedEpisode, TaskProtocol


@dataclass(frozen=True)
class TaskSpec:
    """One registry entry: `entry_point` is "module:attribute", called with `kwargs` by `make`."""

    name: str
    entry_point: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def load(self):
        module, _, attribute = self.entry_point.partition(":")
        return getattr(importlib.import_module(module), attribute)


registry: dict[str, TaskSpec] = {}


def register(name: str, entry_point: str, /, **kwargs: Any) -> None:
    """Register a task: `make(name, **params)` will call `entry_point` (a "module:attribute" string, imported
    on the first `make`) as `attribute(**kwargs, **params)`; it must return a `TaskProtocol` task. A name
    registered already is refused (ValueError), so no entry is silently replaced."""
    if name in registry:
        raise ValueError(f"task {name!r} is registered already ({registry[name].entry_point})")
    if entry_point.count(":") != 1 or not all(entry_point.split(":")):
        raise ValueError(f"entry_point must be 'module:attribute', got {entry_point!r}")
    registry[name] = TaskSpec(name, entry_point, dict(kwargs))


# Karel, in the order of the LLM-GS task list (`prog_policies/karel_tasks/__init__.py`): module, class,
# whether the family has a sparse variant.
_KAREL = (
    ("stair_climber", "StairClimber", True), ("maze", "Maze", True), ("four_corners", "FourCorners", True),
    ("top_off", "TopOff", True), ("harvester", "Harvester", True), ("clean_house", "CleanHouse", True),
    ("door_key", "DoorKey", False), ("one_stroke", "OneStroke", False), ("seeder", "Seeder", False),
    ("snake", "Snake", False), ("wall_avoider", "WallAvoider", False), ("path_follow", "PathFollow", False),
)  # fmt: skip
for _module, _family, _has_sparse in _KAREL:
    register(_family, f"karel.tasks.{_module}:{_family}")
    if _has_sparse:
        register(_family + "Sparse", f"karel.tasks.{_module}:{_family}", sparse=True)
TASKS: tuple[str, ...] = tuple(registry)

for _name in ("LavaGap", "PutNear", "RedBlueDoor"):  # in LLM-GS's order
    register(_name, "karel.minigrid.tasks:task", name=_name)
MINIGRID_TASKS: tuple[str, ...] = tuple(name for name in registry if name not in TASKS)


class UnknownTaskError(ValueError):
    pass


def make(name: str, /, **params: Any) -> TaskProtocol:
    """The task registered as `name`; unknown names raise UnknownTaskError listing the known ones."""
    if name not in registry:
        others = [n for n in registry if n not in TASKS and n not in MINIGRID_TASKS]
        known = ", ".join(TASKS) + "; MiniGrid: " + ", ".join(MINIGRID_TASKS)
        raise UnknownTaskError(f"unknown task {name!r}; known tasks: {known}"
                               + (f"; registered: {', '.join(others)}" if others else ""))  # fmt: skip
    spec = registry[name]
    return spec.load()(**{**spec.kwargs, **params})


def is_minigrid(task: object) -> bool:
    """Kept for older callers: `task.domain == "minigrid"` says the same."""
    return getattr(task, "domain", None) == "minigrid"


def __getattr__(name: str):
    if name == "MiniGridTask":  # imported on use: `karel.minigrid.tasks` is a module of the MiniGrid domain
        from karel.minigrid.tasks import MiniGridTask

        return MiniGridTask
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CRASH_PENALTY",
    "MAX_INSTANCES",
    "MINIGRID_TASKS",
    "TASKS",
    "Instance",
    "MiniGridTask",
    "RenderedEpisode",
    "Rules",
    "Task",
    "TaskProtocol",
    "TaskSpec",
    "UnknownTaskError",
    "is_minigrid",
    "make",
    "register",
    "registry",
]
