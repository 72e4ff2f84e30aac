"""Evaluation protocols: how a search run scores programs, and how its result is checked on worlds it never
searched on.

* `llm-gs` (default, SPEC section 2): the LLM-GS release's tasks and returns; one evaluation is the mean
  return over instances 0..31. Held out: instances 1000-1999 (`heldout_return`) and, for the tasks of
  LEAPS' Table 9 (StairClimber, Maze, FourCorners, TopOff, Harvester), instances 1000-1099 of the task on a
  100 x 100 grid (`heldout_large`), under the same semantics and the same 10,000-call budget.
* `leaps`: LEAPS' own evaluation of its six tasks (`karel.leaps_protocol`): one evaluation is the mean
  LEAPS score (last-action reward, without the 0.1 bonus) over the 10 worlds of the current world set,
  drawn from the run's seed and redrawn every 100 iterations. Held out: 1,000 worlds of the stream with
  seed 1000 (`heldout_return`, what `karel eval --protocol leaps --instances 1000 --seed 1000` prints)
  and, for the five Table 9 tasks, 100 worlds of LEAPS' generator on a 100 x 100 grid from that stream
  with the node budget scaled by the grid's area (`heldout_large`; LEAPS' code for Table 9 is not
  public, and 220 nodes cannot cross a 100 x 100 grid).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from karel import leaps_protocol
from karel.language import KAREL
from karel.program import Program
from synthesis.evaluator import Evaluator

PROTOCOLS = ("llm-gs", "leaps")
HELDOUT_INSTANCES = range(1000, 2000)
LARGE_SIZE = (100, 100)
LARGE_INSTANCES = range(1000, 1100)
LEAPS_HELDOUT_SEED = 1000
LEAPS_HELDOUT_WORLDS = 1000
LEAPS_LARGE_WORLDS = 100
TABLE9_FAMILIES = ("StairClimber", "Maze", "FourCorners", "TopOff", "Harvester")


class LeapsEvaluator(Evaluator):
    """Scores programs under LEAPS' evaluation on the world set of the current iteration (see
    `karel.leaps_protocol`); the cache holds one world set's scores at a time."""

    def __init__(self, task: leaps_protocol.LeapsTask, budget: int, seed: int, *, reset_quirk: bool = True,
                 cache_size: int = 1_000_000):  # fmt: skip
        if budget < 1:
            raise ValueError("budget must be positive")
        self.task, self.budget, self.seed, self.reset_quirk = task, budget, seed, reset_quirk
        self.device, self.cache_size, self.language = "cpu", cache_size, KAREL
        self.evaluations = self.unique = self.executed = self.lookups = self.cache_hits = 0
        self._scores: dict[str, float] = {}
        self._counted: set[str] = set()
        self.set_index = -1
        self.use_world_set(0)

    def use_world_set(self, iteration: int) -> None:
        """Score on the worlds of iteration `iteration` (0-based): set iteration // 100."""
        index = iteration // leaps_protocol.ITERATIONS_PER_SET
        if index != self.set_index:
            self.set_index = index
            self.instances = leaps_protocol.world_set(self.task, self.seed, index, reset_quirk=self.reset_quirk)
            self._scores.clear()

    def _returns(self, programs: list[Program]) -> np.ndarray:
        return leaps_protocol.world_scores(programs, self.task, self.instances)


def leaps_mean(program: Program, task: leaps_protocol.LeapsTask, seed: int, count: int, *,
               reset_quirk: bool = True, size: tuple[int, int] | None = None,
               max_nodes: int = leaps_protocol.MAX_NODES) -> tuple[float, list[float]]:  # fmt: skip
    """LEAPS' mean score of `program` (without the bonus) over the first `count` worlds of the stream of
    `seed`, and the per-world scores."""
    worlds = leaps_protocol.stream_worlds(task, seed, count, reset_quirk=reset_quirk, size=size)
    scores = leaps_protocol.world_scores([program], task, worlds, max_nodes)[0].tolist()
    return leaps_protocol.mean_score(scores), scores


def mean_returns(programs: Sequence[Program], task, instances: Sequence[int]) -> list[float]:
    """LLM-GS mean return of each program over the given instances of `task` (left-to-right sums)."""
    returns = task.returns(list(programs), instances)
    return (np.cumsum(returns, axis=1)[:, -1] / returns.shape[1]).tolist()


def has_large(task_name: str) -> bool:
    """Whether `heldout_large` applies: the task family is covered by LEAPS' Table 9."""
    return any(task_name.startswith(family) for family in TABLE9_FAMILIES)


def heldout(protocol: str, task_name: str, program: Program, *, reset_quirk: bool = True,
            large: bool = True) -> dict[str, float]:  # fmt: skip
    """`heldout_return` and, where it applies and `large` is set, `heldout_large` of `program` (see the module
    docstring)."""
    if protocol == "leaps":
        task = leaps_protocol.leaps_task(task_name)
        out = {"heldout_return": leaps_mean(program, task, LEAPS_HELDOUT_SEED, LEAPS_HELDOUT_WORLDS,
                                            reset_quirk=reset_quirk)[0]}  # fmt: skip
        if task.table9 and large:
            area = (LARGE_SIZE[0] * LARGE_SIZE[1]) / (task.size[0] * task.size[1])
            out["heldout_large"] = leaps_mean(program, task, LEAPS_HELDOUT_SEED, LEAPS_LARGE_WORLDS,
                                              reset_quirk=reset_quirk, size=LARGE_SIZE,
                                              max_nodes=math.ceil(leaps_protocol.MAX_NODES * area))[0]  # fmt: skip
        return out
    from karel.tasks import make

    task = make(task_name)  # either domain: held-out instances (MiniGrid: seeds) 1000..1999
    out = {"heldout_return": mean_returns([program], task, HELDOUT_INSTANCES)[0]}
    if large and has_large(task_name):
        big = make(task_name, height=LARGE_SIZE[0], width=LARGE_SIZE[1])
        out["heldout_large"] = mean_returns([program], big, LARGE_INSTANCES)[0]
    return out
