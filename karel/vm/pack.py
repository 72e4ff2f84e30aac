"""Task facts packed into arrays for the VM's rules (`karel.vm.rules`), and the loop-key hash table.

`pack_task` reads each family's layout (the facts the reference `Rules` use) once per set of instances;
Snake's food draws are precomputed (`SNAKE_CANDIDATES` per instance; an episode needing more falls back to
the reference).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from karel.tasks.base import Instance, Task
from karel.vm.ops import NUM_PARAMS, RULE_IDS, RULE_NONE, ZOBRIST_SEED, key_span

SNAKE_CANDIDATES = 1024  # precomputed food draws per Snake instance


@functools.lru_cache(maxsize=16)
def zobrist(height: int, width: int) -> np.ndarray:
    """[key_span, 11] int64: the loop-key hash's random term of each digit (0..9, 10 for a 10-marker cell in
    the kept marker hashes) at each key position, the same for every run."""
    rng = np.random.default_rng(ZOBRIST_SEED)
    info = np.iinfo(np.int64)
    table = rng.integers(info.min, info.max, size=(key_span(height, width), 11), dtype=np.int64, endpoint=True)
    table.flags.writeable = False
    return table


@dataclass(frozen=True)
class TaskArrays:
    """A task's rules and E instances as kernel inputs. `cells` lists cells per instance (TopOff targets,
    corners, doors, forbidden cells, Snake food draws); `mask` marks cells (valid stair cells, PathFollow's
    legal cells)."""

    rule: int
    sparse: bool
    params: np.ndarray  # [E, NUM_PARAMS] int64
    cells: np.ndarray  # [E, C, 2] int64
    num_cells: np.ndarray  # [E] int64
    mask: np.ndarray  # [E, H, W] uint8

    @staticmethod
    def none(num_worlds: int, height: int, width: int) -> TaskArrays:
        """No rules: every step earns 0 and nothing terminates (dataset generation)."""
        return TaskArrays(RULE_NONE, False, np.zeros((num_worlds, NUM_PARAMS), np.int64),
                          np.zeros((num_worlds, 1, 2), np.int64), np.zeros(num_worlds, np.int64),
                          np.zeros((num_worlds, height, width), np.uint8))  # fmt: skip


def pack_task(task: Task, instances: Sequence[Instance]) -> TaskArrays:
    """The facts of `instances` that `task`'s compiled rules read (cached: instances are determined by the
    task's settings and their seeds)."""
    key = (type(task), task.sparse, task.height, task.width, SNAKE_CANDIDATES, tuple(i.seed for i in instances))
    if key not in _PACKED:
        if len(_PACKED) >= 64:
            _PACKED.clear()
        _PACKED[key] = _pack(task, instances)
    return _PACKED[key]


_PACKED: dict[tuple, TaskArrays] = {}


def _pack(task: Task, instances: Sequence[Instance]) -> TaskArrays:
    from karel.tasks.path_follow import cell_id
    from karel.tasks.snake import food_candidates

    family, h, w = task.family, task.height, task.width
    num = len(instances)
    params = np.zeros((num, NUM_PARAMS), np.int64)
    mask = np.zeros((num, h, w), np.uint8)
    cell_lists: list[list[tuple[int, int]]] = [[] for _ in range(num)]
    for i, inst in enumerate(instances):
        layout = inst.layout
        if family in ("StairClimber", "Maze"):
            params[i, :3] = (*layout.marker, layout.initial_distance)
            if family == "StairClimber":
                for r, c in layout.valid_cells:
                    mask[i, r, c] = 1
        elif family == "TopOff":
            cell_lists[i] = list(layout.targets)
        elif family == "FourCorners":
            cell_lists[i] = list(layout.corners)
        elif family in ("Harvester", "CleanHouse"):
            params[i, 0] = layout.initial_markers
        elif family == "DoorKey":
            params[i, :4] = (*layout.key, *layout.goal)
            cell_lists[i] = list(layout.doors)
        elif family == "OneStroke":
            params[i, :3] = (*layout.start, layout.max_cells)
        elif family == "Seeder":
            params[i, 0] = layout.target_markers
        elif family == "PathFollow":
            params[i, 0] = layout.initial_markers
            for r in range(h):
                for c in range(w):
                    mask[i, r, c] = cell_id(r, c, h) in layout.legal_ids
        elif family == "WallAvoider":
            params[i, 0] = layout.target_markers
            cell_lists[i] = list(layout.forbidden)
        elif family == "Snake":
            params[i, :4] = (*layout.start, *layout.food)
            cell_lists[i] = food_candidates(inst.seed, h, w, SNAKE_CANDIDATES).tolist()
        else:
            raise ValueError(f"no compiled rules for task family {family!r}")
    width = max(1, max(len(cells) for cells in cell_lists))
    cells = np.zeros((num, width, 2), np.int64)
    for i, cell_list in enumerate(cell_lists):
        if cell_list:
            cells[i, : len(cell_list)] = cell_list
    num_cells = np.array([len(c) for c in cell_lists], np.int64)
    return TaskArrays(RULE_IDS[family], task.sparse, params, cells, num_cells, mask)
