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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from karel.tasks.base import (
    CRASH_PENALTY,
    BatchRules,
    Instance,
    State,
    Task,
    total_markers,
)
from karel.world import World, Worlds


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

    def batch_rules(self, instances: Sequence[Instance], device: torch.device | str = "cpu") -> TopOffBatchRules:
        return TopOffBatchRules(self, instances, device)


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


class TopOffBatchRules(BatchRules):
    """The targets of each instance as a cell mask (they are distinct cells, so their order does not matter:
    the reference's early return fires when any target is empty, whichever comes first)."""

    def __init__(self, task: TopOff, instances: Sequence[Instance], device: torch.device | str):
        super().__init__(task, instances, device)
        self.sparse = task.sparse
        targets = np.zeros((len(instances), task.height, task.width), dtype=bool)
        for i, inst in enumerate(instances):
            rows, cols = zip(*inst.layout.targets)
            targets[i, list(rows), list(cols)] = True
        self.targets = torch.as_tensor(targets, device=self.device)  # [E, H, W] bool
        self.num_targets = torch.tensor([len(inst.layout.targets) for inst in instances], device=self.device)  # [E]

    def reset(self, instance: torch.Tensor) -> State:
        return {"instance": instance, "previous_correct": torch.zeros_like(instance)}

    def step(
        self, worlds: Worlds, state: State, acted: torch.Tensor
    ) -> tuple[Worlds, State, torch.Tensor, torch.Tensor]:
        instance = state["instance"]
        targets = self.targets[instance]  # [N, H, W]
        n = self.num_targets[instance]  # [N]
        emptied = (targets & (worlds.markers == 0)).any(dim=(1, 2))  # [N] rule (1)
        correct = (targets & (worlds.markers == 2)).sum(dim=(1, 2))  # [N] int64
        overfull = total_markers(worlds) > correct + n  # [N] rule (3)
        done = correct == n
        if self.sparse:
            # (1) -1, else all correct +1, else (3) -1, else 0.
            reward = torch.where(overfull, CRASH_PENALTY, torch.zeros_like(correct, dtype=torch.float64))
            reward = torch.where(done, 1.0, reward)
            terminated = emptied | done | overfull
        else:
            # (1) returns before the previous count is updated; (3) replaces the progress reward.
            progress = (correct - state["previous_correct"]).double() / n.double()
            reward = torch.where(overfull, CRASH_PENALTY, progress)
            terminated = emptied | overfull | done
            update = acted & ~emptied
            state = {**state, "previous_correct": torch.where(update, correct, state["previous_correct"])}
        reward = torch.where(emptied, CRASH_PENALTY, reward)
        return worlds, state, terminated & acted, torch.where(acted, reward, 0.0)
