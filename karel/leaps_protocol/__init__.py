"""LEAPS' own evaluation of its six tasks (the `leaps` protocol; `reference/leaps.md` 1.3-1.6, 5, 6).

LEAPS (clvrai/leaps) scores a program differently from LLM-GS (our default, `karel.tasks`): its own world
generators (`worlds`), its reward functions read at the last action (`rewards`, `episode`), a 220-node
interpreter budget, a 9-marker cap, no loop detector, nothing that stops a program early, and a mean over
10 worlds plus a 0.1 bonus for a program that parses. Task names are ours, mapped to LEAPS' `env_task`s:

    StairClimberSparse  stairClimber_sparse  12 x 12     TopOff      topOff       12 x 12
    MazeSparse          randomMaze_sparse     8 x 8      FourCorners fourCorners  12 x 12
    Harvester           harvester             8 x 8      CleanHouse  cleanHouse   14 x 22

Worlds come from a seeded stream (`worlds.WorldStream`). A LEAPS search with seed S draws 10 worlds when
it builds its environments (TopOff with the last bottom-row cell empty), then redraws 10 at its first
step and every 100 iterations after (TopOff then always with that cell marked: LEAPS' `reset()` drops
`is_top_off=True`, its reset quirk, kept by default). `world_set(task, S, k)` is the set of iterations
100k + 1 .. 100k + 100; `stream_worlds(task, S, n)` the first n worlds a search with seed S scores on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from karel.language import KAREL, Language
from karel.leaps_protocol import rewards, worlds
from karel.leaps_protocol.episode import (
    INVALID_SCORE,
    MAX_MARKERS,
    MAX_NODES,
    SYNTAX_BONUS,
    LeapsEpisode,
    mean_score,
    program_score,
    run_leaps_episode,
)
from karel.leaps_protocol.worlds import LeapsWorld, WorldStream
from karel.program import Program

WORLDS_PER_SET = 10  # LEAPS' num_demo_per_program
ITERATIONS_PER_SET = 100  # LEAPS' max_episode_steps: its environments reset after 100 steps


@dataclass(frozen=True)
class LeapsTask:
    """One of LEAPS' six tasks under its own evaluation."""

    name: str  # our task name
    env_task: str  # LEAPS' name
    size: tuple[int, int]  # (H, W) of LEAPS' task config, border walls included
    generator: Callable[..., LeapsWorld]
    rules: Callable[[LeapsWorld], rewards.LeapsRules]
    table9: bool  # covered by LEAPS' Table 9 (zero-shot on 100 x 100)

    @property
    def language(self) -> Language:
        return KAREL

    def draw(self, stream: WorldStream, fixed_top_off: bool, size: tuple[int, int] | None = None) -> LeapsWorld:
        """The next world of `stream` (`fixed_top_off`: TopOff with its last bottom-row cell empty)."""
        h, w = size or self.size
        if self.generator is worlds.top_off:
            return worlds.top_off(stream, h, w, fixed=fixed_top_off)
        return self.generator(stream, h, w)


_TASKS = (
    LeapsTask("StairClimberSparse", "stairClimber_sparse", (12, 12), worlds.stair_climber, rewards.StairClimberSparse,
              True),
    LeapsTask("MazeSparse", "randomMaze_sparse", (8, 8), worlds.maze, rewards.MazeSparse, True),
    LeapsTask("TopOff", "topOff", (12, 12), worlds.top_off, rewards.TopOff, True),
    LeapsTask("FourCorners", "fourCorners", (12, 12), worlds.four_corners, rewards.FourCorners, True),
    LeapsTask("Harvester", "harvester", (8, 8), worlds.harvester, rewards.Harvester, True),
    LeapsTask("CleanHouse", "cleanHouse", (14, 22), worlds.clean_house, rewards.CleanHouse, False),
)  # fmt: skip
TASKS: dict[str, LeapsTask] = {t.name: t for t in _TASKS}


class UnknownLeapsTaskError(ValueError):
    pass


def leaps_task(name: str) -> LeapsTask:
    """The task named `name` under LEAPS' evaluation; other names raise an error listing the six."""
    if name not in TASKS:
        raise UnknownLeapsTaskError(f"the leaps protocol covers LEAPS' six tasks: {', '.join(TASKS)} (got {name!r})")
    return TASKS[name]


@functools.lru_cache(maxsize=256)
def _stream(name: str, seed: int, count: int, reset_quirk: bool, size: tuple[int, int] | None) -> tuple:
    task, stream = TASKS[name], WorldStream(seed)
    for _ in range(WORLDS_PER_SET):  # drawn when LEAPS builds its environments, never scored
        task.draw(stream, True, size)
    return tuple(task.draw(stream, not reset_quirk, size) for _ in range(count))


def stream_worlds(task: LeapsTask, seed: int, count: int, *, reset_quirk: bool = True,
                  size: tuple[int, int] | None = None) -> list[LeapsWorld]:  # fmt: skip
    """The first `count` worlds a LEAPS search with `seed` scores on (cached; do not mutate them)."""
    return list(_stream(task.name, int(seed), int(count), reset_quirk, size))


def world_set(task: LeapsTask, seed: int, index: int, *, reset_quirk: bool = True) -> list[LeapsWorld]:
    """The 10 worlds of iterations 100 * index + 1 .. 100 * (index + 1) of a LEAPS search with `seed`."""
    return stream_worlds(task, seed, WORLDS_PER_SET * (index + 1), reset_quirk=reset_quirk)[-WORLDS_PER_SET:]


def run_episodes(program: Program, task: LeapsTask, initial: Sequence[LeapsWorld],
                 max_nodes: int = MAX_NODES) -> list[LeapsEpisode]:  # fmt: skip
    """`program` once on each world (the reference, one episode at a time)."""
    return [run_leaps_episode(program, w.world, task.rules(w), max_nodes) for w in initial]


def world_scores(programs: Sequence[Program], task: LeapsTask, initial: Sequence[LeapsWorld],
                 max_nodes: int = MAX_NODES) -> np.ndarray:  # fmt: skip
    """[P, E] float64: LEAPS' score of every program on every world (without the bonus)."""
    return np.array([[e.score for e in run_episodes(p, task, initial, max_nodes)] for p in programs],
                    dtype=np.float64).reshape(len(programs), len(initial))  # fmt: skip


__all__ = [
    "INVALID_SCORE", "ITERATIONS_PER_SET", "MAX_MARKERS", "MAX_NODES", "SYNTAX_BONUS", "TASKS", "WORLDS_PER_SET",
    "LeapsEpisode", "LeapsTask", "LeapsWorld", "UnknownLeapsTaskError", "WorldStream", "leaps_task",
    "mean_score", "program_score", "run_episodes", "run_leaps_episode", "stream_worlds", "world_scores",
    "world_set",
]  # fmt: skip
