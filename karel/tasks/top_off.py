"""TopOff and TopOffSparse.

Description:
    Walk along the bottom row and put a second marker on every cell that holds one.
Grid:
    12 x 12 with border walls, no inner walls.
Initial state:
    The agent stands at (H-2, 1) facing East. The candidate cells (H-2, c), c = 2 .. W-2, are shuffled
    (`shuffle`); n = `randint(1, len)` (so 1 .. len-1, never all of them) and the first n shuffled cells get
    1 marker each: the targets.
Reward per step:
    Checked in this order. (1) A target at 0 markers: -1 (and terminate). (2) correct = targets holding exactly
    2 markers. (3) Total markers > correct + n (a marker somewhere else, or a third one on a target): -1.
    Otherwise the step reward is, dense: (correct - previous correct) / n; sparse: +1 when correct == n
    (checked after (3), so it overwrites the -1 of (3)), else 0.
Termination:
    (1), (3), or all n targets correct. There is no requirement to end on the last cell.
Source and deviations:
    LLM-GS `prog_policies/karel_tasks/top_off.py`; same draws (`shuffle`, then `randint`). Reproduced
    quirks: (1) returns before the dense previous-correct count is updated; the sparse +1 check comes after
    the penalty check and overwrites it. Deviation: LLM-GS `main.py` would build TopOffSparse on an 8 x 8 grid
    (only a few tasks get explicit sizes there); we use the dense task's 12 x 12 grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from karel.tasks.base import (
    CRASH_PENALTY,
    Instance,
    Task,
)
from karel.world import World


@dataclass(frozen=True)
class TopOffLayout:
    targets: tuple[tuple[int, int], ...]  # cells that start with 1 marker, in shuffled order


class TopOff(Task):
    family = "TopOff"
    default_size = (12, 12)
    has_sparse = True

    def generate(self, rng: np.random.RandomState) -> tuple[World, TopOffLayout]:
        h, w = self.height, self.width
        world = self.empty_world()
        world.row, world.col = h - 2, 1
        candidates = [(h - 2, c) for c in range(2, w - 1)]
        rng.shuffle(candidates)
        count = int(rng.randint(1, len(candidates)))
        targets = tuple(candidates[:count])
        for cell in targets:
            world.markers[cell] = 1
        return world, TopOffLayout(targets)

    def rules(self, instance: Instance) -> TopOffRules:
        return TopOffRules(instance.layout, self.sparse)


class TopOffRules:
    def __init__(self, layout: TopOffLayout, sparse: bool):
        self.targets, self.sparse = layout.targets, sparse
        self.previous_correct = 0

    def __call__(self, world: World) -> tuple[bool, float]:
        markers = world.markers
        correct = 0
        for cell in self.targets:
            count = markers[cell]
            if count == 2:
                correct += 1
            elif count == 0:
                return True, CRASH_PENALTY
        n = len(self.targets)
        overfull = int(markers.sum()) > correct + n
        if self.sparse:
            if correct == n:
                return True, 1.0
            return (True, CRASH_PENALTY) if overfull else (False, 0.0)
        reward = (correct - self.previous_correct) / n
        self.previous_correct = correct
        if overfull:
            return True, CRASH_PENALTY
        return correct == n, reward
